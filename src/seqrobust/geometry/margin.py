"""Classification margins F = f_pred − f_other (theory.md §1).

Every function here takes a forward callable ``f: (B, T, F) -> (B, L)``
(:data:`seqrobust.types.ForwardFn`). For derivatives, pass a twice-differentiable forward, e.g.
``seqrobust.models.differentiable_forward(model, functional=True)``; this layer never imports
models.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from seqrobust._checks import check_sequences
from seqrobust.types import ForwardFn


@dataclass(frozen=True)
class Margins:
    """Margins of a batch at its predicted class (theory.md §1).

    Attributes:
        pred: ``(B,)`` predicted class k̂ = argmax_k f_k.
        runner_up: ``(B,)`` runner-up class k′ (largest logit other than k̂).
        t: ``(B,)`` margin t = f_k̂ − f_k′ ≥ 0.
        all: ``(B, L)`` f_k̂ − f_k for every class k, ``+inf`` at k̂ (so ``all.min(1)`` is t).
    """

    pred: Tensor
    runner_up: Tensor
    t: Tensor
    all: Tensor


def margins(f: ForwardFn, x: Tensor) -> Margins:
    """Predicted class, runner-up and margins of every input (no gradients are kept).

    Args:
        f: forward callable, ``(B, T, F) -> (B, L)`` logits.
        x: inputs ``(B, T, F)``.

    Returns:
        :class:`Margins` with tensors on ``x``'s device, logits' dtype.

    Raises:
        ValueError: if ``x`` is not a finite ``(B, T, F)`` float tensor or ``f`` gives fewer than
            two classes.
    """
    check_sequences(x)
    with torch.no_grad():
        logits = _logits(f, x)
    pred = logits.argmax(dim=1)
    gaps = logits.gather(1, pred[:, None]) - logits
    gaps = gaps.scatter(1, pred[:, None], float("inf"))
    t, runner_up = gaps.min(dim=1)
    return Margins(pred=pred, runner_up=runner_up, t=t, all=gaps)


def margin_value(f: ForwardFn, x: Tensor, *, pred: Tensor, other: Tensor) -> Tensor:
    """F(x) = f_pred(x) − f_other(x) with the two classes held fixed, ``(B,)``.

    Fixing the classes makes F a smooth function of ``x`` (theory.md §1, (E1)); the result keeps
    its autograd graph when ``x`` requires grad.

    Args:
        f: forward callable, ``(B, T, F) -> (B, L)``.
        x: inputs ``(B, T, F)``.
        pred: ``(B,)`` integer class indices (usually :attr:`Margins.pred`).
        other: ``(B,)`` integer class indices (usually :attr:`Margins.runner_up`).

    Returns:
        ``(B,)`` margins in the logits' dtype.

    Raises:
        ValueError: on bad shapes, dtypes or class indices.
    """
    check_sequences(x)
    check_classes(x, pred=pred, other=other)
    return _gather_margin(_logits(f, x), pred, other)


def check_classes(x: Tensor, *, pred: Tensor, other: Tensor) -> None:
    """Require ``pred`` and ``other`` to be integer ``(B,)`` tensors on ``x``'s device.

    Raises:
        ValueError: naming the offending argument.
    """
    for name, idx in (("pred", pred), ("other", other)):
        if not isinstance(idx, Tensor):
            raise ValueError(f"{name} must be a torch.Tensor, got {type(idx).__name__}")
        if idx.dtype.is_floating_point or idx.dtype.is_complex or idx.dtype == torch.bool:
            raise ValueError(f"{name} must hold integer class indices, got dtype {idx.dtype}")
        if idx.shape != (x.shape[0],):
            raise ValueError(
                f"{name} must have shape ({x.shape[0]},) to match x, got {tuple(idx.shape)}"
            )
        if idx.device != x.device:
            raise ValueError(f"{name} is on {idx.device} but x is on {x.device}")


def neg_margin_sum(f: ForwardFn, *, pred: Tensor, other: Tensor) -> Callable[[Tensor], Tensor]:
    """The scalar x ↦ Σ_b −F_b(x) = Σ_b (f_other − f_pred).

    Samples are independent, so its gradient holds every ∇(−F_b) and its Hessian is
    block-diagonal with blocks M_b = ∇²(−F_b) (theory.md §6, batching).
    """

    def fn(x: Tensor) -> Tensor:
        return -_gather_margin(f(x), pred, other).sum()

    return fn


def _logits(f: ForwardFn, x: Tensor) -> Tensor:
    logits = f(x)
    if not isinstance(logits, Tensor) or logits.dim() != 2 or logits.shape[0] != x.shape[0]:
        shape = tuple(logits.shape) if isinstance(logits, Tensor) else type(logits).__name__
        raise ValueError(f"f must return logits of shape ({x.shape[0]}, classes), got {shape}")
    if logits.shape[1] < 2:
        raise ValueError(f"f must return at least 2 classes, got {logits.shape[1]}")
    return logits


def _gather_margin(logits: Tensor, pred: Tensor, other: Tensor) -> Tensor:
    num = logits.shape[-1]
    for name, idx in (("pred", pred), ("other", other)):
        if idx.numel() and (int(idx.min()) < 0 or int(idx.max()) >= num):
            raise ValueError(f"{name} holds class indices outside [0, {num})")
    return (logits.gather(-1, pred[:, None]) - logits.gather(-1, other[:, None]))[:, 0]
