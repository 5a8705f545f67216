"""Input gradient J = ∇ₓF of the margin (theory.md §1)."""

from __future__ import annotations

import torch
from torch import Tensor

from seqrobust._checks import check_sequences
from seqrobust.geometry.margin import _gather_margin, _logits, check_classes
from seqrobust.types import ForwardFn


def margin_gradient(
    f: ForwardFn, x: Tensor, *, pred: Tensor, other: Tensor
) -> tuple[Tensor, Tensor]:
    """Margin t = F(x) and its input gradient J = ∇ₓF(x) for every input.

    One backward pass for the whole batch: the gradient of Σ_b F_b holds every ∇F_b because
    samples are independent (no batch-coupling layers such as train-mode BatchNorm).

    Args:
        f: forward callable ``(B, T, F) -> (B, L)``.
        x: inputs ``(B, T, F)``.
        pred: ``(B,)`` class k̂ (fixed).
        other: ``(B,)`` competing class k′ (fixed).

    Returns:
        ``(t, J)``: ``t`` of shape ``(B,)`` (f_pred − f_other, may be negative for arbitrary
        classes) and ``J`` of shape ``(B, T, F)``, both detached.

    Raises:
        ValueError: on bad shapes, dtypes or class indices.
    """
    check_sequences(x)
    check_classes(x, pred=pred, other=other)
    xx = x.detach().requires_grad_(True)
    with torch.enable_grad():
        t = _gather_margin(_logits(f, xx), pred, other)
        (grad,) = torch.autograd.grad(t.sum(), xx, allow_unused=True)
    if grad is None:
        grad = torch.zeros_like(xx)
    return t.detach(), grad.detach()
