"""Private autodiff helpers: a reusable first-order graph and Hessian-vector products on it.

Double backward (``torch.autograd.grad(..., create_graph=True)``) won against
forward-over-reverse (``torch.func.jvp`` of ``torch.func.grad``) on CPU for the recurrent
cell loop (see docs/geometry.md and benchmarks/bench_lanczos.py). Building the gradient graph
once and differentiating it again for every tangent makes each further HVP one backward pass.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor


class GradientGraph:
    """∇g(x) of a scalar function g, kept with its graph so that H w = ∇(wᵀ∇g) costs one pass.

    Args:
        fn: scalar function of ``x`` (e.g. a sum over independent samples).
        x: point ``(B, T, F)``; it is detached, so the caller's graph is not touched.
    """

    def __init__(self, fn: Callable[[Tensor], Tensor], x: Tensor) -> None:
        self.x = x.detach().requires_grad_(True)
        with torch.enable_grad():
            value = fn(self.x)
            (grad,) = torch.autograd.grad(value, self.x, create_graph=True, allow_unused=True)
        self.value = value.detach()
        self.grad = torch.zeros_like(self.x) if grad is None else grad
        self._linear = not self.grad.requires_grad  # g is affine in x: its Hessian is zero

    def hvp(self, w: Tensor) -> Tensor:
        """H w for a tangent ``w`` shaped like ``x``."""
        return self._apply(w, batched=False)

    def hvp_batched(self, w: Tensor) -> Tensor:
        """H w_k for tangents ``w`` of shape ``(K, *x.shape)`` (one vmapped backward)."""
        return self._apply(w, batched=True)

    def _apply(self, w: Tensor, *, batched: bool) -> Tensor:
        if self._linear:
            return torch.zeros_like(w)
        (out,) = torch.autograd.grad(
            self.grad,
            self.x,
            grad_outputs=w,
            retain_graph=True,
            allow_unused=True,
            is_grads_batched=batched,
        )
        return torch.zeros_like(w) if out is None else out.detach()


def basis_tangents(x: Tensor, start: int, stop: int) -> Tensor:
    """Coordinate vectors e_start … e_{stop−1} of ℝ^{T·F}, each the same for every sample.

    Returns:
        ``(stop − start, B, T, F)``; tangent j is e_{start+j} in every sample's input.
    """
    batch, steps, feats = x.shape
    eye = torch.zeros(stop - start, steps * feats, dtype=x.dtype, device=x.device)
    eye[torch.arange(stop - start), torch.arange(start, stop)] = 1
    return eye.view(stop - start, 1, steps, feats).expand(-1, batch, -1, -1)


def randn_like(x: Tensor, generator: torch.Generator | None, shape: tuple[int, ...]) -> Tensor:
    """Standard normal draws in ``x``'s dtype and device from ``generator`` (any device)."""
    device = generator.device if generator is not None else x.device
    out = torch.randn(shape, generator=generator, dtype=x.dtype, device=device)
    return out.to(x.device)
