"""Input-Jacobian Frobenius penalty ``||J(x)||_F^2 = sum_k ||grad_x f_k(x)||^2``.

Hoffman, Roberts and Yaida, "Robust learning with Jacobian regularization" (2019,
https://arxiv.org/abs/1908.02729): with ``v`` uniform on the unit sphere of ``R^L``,
``||J||_F^2 = L * E_v ||v^T J||^2``, so ``n`` random projections give the unbiased estimate
``(L / n) sum_j ||v_j^T J||^2`` at the cost of one backward pass each (all ``n`` run as one
batch). The exact value needs ``L`` backward passes. The paper's loss is
``CE + (lambda_JR / 2) ||J||_F^2``; here ``lam`` multiplies ``||J||_F^2`` (``lam = lambda_JR/2``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from seqrobust._checks import check_sequences
from seqrobust.models import differentiable_forward
from seqrobust.types import ForwardFn


def jacobian_frobenius(
    forward: ForwardFn,
    x: Tensor,
    *,
    projections: int = 1,
    exact: bool = False,
    generator: torch.Generator | None = None,
    create_graph: bool = True,
) -> Tensor:
    """Per-input ``||J(x)||_F^2``, estimated by random projections or exact.

    Args:
        forward: classifier ``(B, T, F) -> (B, L)``; with ``create_graph=True`` it must support
            double backward.
        x: inputs ``(B, T, F)``.
        projections: random unit output directions per input (ignored when ``exact``).
        exact: sum the ``L`` rows of the Jacobian exactly (``L`` backward passes).
        generator: randomness of the projections.
        create_graph: keep the graph so the value is differentiable w.r.t. the weights.

    Returns:
        ``(B,)`` values, same dtype and device as ``x``.

    Raises:
        ValueError: on a bad ``x`` or ``projections``.
    """
    check_sequences(x)
    if isinstance(projections, bool) or not isinstance(projections, int) or projections <= 0:
        raise ValueError(f"projections must be a positive integer, got {projections!r}")
    batch = x.shape[0]
    with torch.enable_grad():
        if exact:
            xr = x.detach().requires_grad_(True)
            out = forward(xr)
            total = out.new_zeros(batch)
            for k in range(out.shape[1]):
                (g,) = torch.autograd.grad(
                    out[:, k].sum(), xr, create_graph=create_graph, retain_graph=True
                )
                total = total + g.pow(2).flatten(1).sum(1)
            return total
        xs = x.detach().repeat(projections, 1, 1) if projections > 1 else x.detach()
        xr = xs.requires_grad_(True)
        out = forward(xr)
        v = torch.randn(out.shape, generator=generator, dtype=out.dtype, device=out.device)
        v = v / v.norm(dim=1, keepdim=True).clamp_min(torch.finfo(v.dtype).tiny)
        (g,) = torch.autograd.grad((out * v).sum(), xr, create_graph=create_graph)
    samples = out.shape[1] * g.pow(2).flatten(1).sum(1)
    return samples.view(projections, batch).mean(0)


@dataclass(frozen=True)
class JacobianRegularizer:
    """Training penalty: the mean over inputs of ``||J(x)||_F^2``.

    Attributes:
        projections: random output projections per input (Hoffman et al.'s ``n_proj``).
        exact: use all ``L`` rows instead of projections.
    """

    projections: int = 1
    exact: bool = False

    def __post_init__(self) -> None:
        p = self.projections
        if isinstance(p, bool) or not isinstance(p, int) or p <= 0:
            raise ValueError(f"projections must be a positive integer, got {p!r}")

    def __call__(
        self, model: nn.Module, x: Tensor, y: Tensor, *, generator: torch.Generator | None = None
    ) -> Tensor:
        """``mean_b ||J(x_b)||_F^2`` for inputs ``x`` ``(B, T, F)``; labels are not used."""
        values = jacobian_frobenius(
            differentiable_forward(model), x, projections=self.projections, exact=self.exact,
            generator=generator,
        )
        return values.mean()
