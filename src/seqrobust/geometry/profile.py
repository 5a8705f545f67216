"""Where in a sequence the margin is fragile: per-step gradient norm and block curvature.

For step t, J_t ∈ ℝ^F is the slice of J = ∇ₓF and M_tt ∈ ℝ^{F×F} the diagonal block of
M = ∇²ₓ(−F) (theory.md §1). ``curvature[b, t]`` = λ_max(M_tt): the top curvature toward the
boundary when only step t of the sequence is perturbed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from seqrobust._checks import check_sequences
from seqrobust.geometry._autodiff import randn_like
from seqrobust.geometry.input_grad import margin_gradient
from seqrobust.geometry.input_hessian import neg_margin_hvp_operator
from seqrobust.geometry.lanczos import lanczos
from seqrobust.types import ForwardFn


@dataclass(frozen=True)
class TimeStepProfile:
    """Per-step sensitivity of the margin F = f_pred − f_other.

    Attributes:
        grad_norm: ``(B, T)`` ‖J_t‖₂, J = ∇ₓF.
        curvature: ``(B, T)`` λ_max(M_tt), M = ∇²ₓ(−F).
        residual: ``(B, T)`` ‖M_tt u − λ u‖ of the reported pair (rounding level when the
            blocks were formed exactly).
    """

    grad_norm: Tensor
    curvature: Tensor
    residual: Tensor | None = None


def time_step_profile(
    f: ForwardFn,
    x: Tensor,
    *,
    pred: Tensor,
    other: Tensor,
    max_iter: int = 20,
    generator: torch.Generator | None = None,
    start: Tensor | None = None,
) -> TimeStepProfile:
    """Gradient norm and top block curvature of every time step of every input.

    The T diagonal blocks M_tt are formed exactly when F ≤ ``max_iter``: F batched HVPs, each
    with T tangents (a coordinate vector placed at every step at once, vmapped), give every
    column of every block, then ``eigvalsh``. That is T·F = D HVPs, no more than a Lanczos
    run of ``max_iter`` steps on each block would cost. When F > ``max_iter``, Lanczos runs on
    all B·T blocks at once (``max_iter`` steps, T HVPs each, tolerance 1e-6 relative), which
    is cheaper and reports its residual.

    Args:
        f: forward callable ``(B, T, F) -> (B, L)``, twice differentiable.
        x: inputs ``(B, T, F)``.
        pred: ``(B,)`` class k̂ (fixed).
        other: ``(B,)`` class k′ (fixed).
        max_iter: Lanczos steps per block when F > max_iter.
        generator: Lanczos start vectors (only used when F > max_iter).
        start: ``(B, T, F)`` start vectors (one per block) to use instead of drawing them.

    Returns:
        :class:`TimeStepProfile`, detached.

    Raises:
        ValueError: on bad shapes, dtypes, class indices or options.
    """
    check_sequences(x)
    if not isinstance(max_iter, int) or max_iter < 1:
        raise ValueError(f"max_iter must be a positive integer, got {max_iter!r}")
    _, grad = margin_gradient(f, x, pred=pred, other=other)
    operator = neg_margin_hvp_operator(f, x, pred=pred, other=other)
    batch, steps, feats = x.shape
    block = _block_operator(operator, steps)
    if feats <= max_iter:
        cols = [block(_coordinate(x, j)) for j in range(feats)]  # each (B, T, F): column j
        blocks = torch.stack(cols, dim=-1)
        blocks = (blocks + blocks.mT) / 2
        values, vectors = torch.linalg.eigh(blocks)
        top, u = values[..., -1], vectors[..., -1]
        residual = torch.linalg.vector_norm(
            blocks @ u[..., None] - top[..., None, None] * u[..., None], dim=(-2, -1)
        )
    else:

        def matvec(v: Tensor) -> Tensor:
            return block(v.reshape(batch, steps, feats)).reshape(batch * steps, feats)

        if start is not None and start.shape != x.shape:
            raise ValueError(f"start must have the shape of x {tuple(x.shape)}, got "
                             f"{tuple(start.shape)}")
        v0 = (
            randn_like(x, generator, (batch * steps, feats))
            if start is None
            else start.to(x).reshape(batch * steps, feats)
        )
        result = lanczos(matvec, v0, max_iter=max_iter, tol=1e-6)
        top = result.value.reshape(batch, steps)
        residual = result.residual.reshape(batch, steps)
    return TimeStepProfile(
        grad_norm=torch.linalg.vector_norm(grad, dim=2), curvature=top, residual=residual
    )


def _block_operator(operator: Callable[[Tensor], Tensor], steps: int) -> Callable[[Tensor], Tensor]:
    """V ↦ (M_tt V_t)_t for V of shape ``(B, T, F)``: T HVPs in one vmapped backward."""

    def apply(v: Tensor) -> Tensor:
        idx = torch.arange(steps, device=v.device)
        tangents = v.new_zeros(steps, *v.shape)
        tangents[idx, :, idx] = v.transpose(0, 1)  # tangent s holds V at step s only
        out = operator(tangents)  # (T, B, T, F)
        return out[idx, :, idx].transpose(0, 1)

    return apply


def _coordinate(x: Tensor, j: int) -> Tensor:
    """``(B, T, F)`` with e_j at every step."""
    out = torch.zeros_like(x)
    out[..., j] = 1
    return out
