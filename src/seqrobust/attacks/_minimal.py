"""Shared pieces of the minimal-norm attacks: the result type, input checks and the boundary
search along a segment."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from seqrobust.attacks.base import Bounds, Model, check_batch
from seqrobust.models import differentiable_forward
from seqrobust.types import ForwardFn

__all__ = ["MinimalNormResult", "boundary_search", "prepare"]


@dataclass(frozen=True)
class MinimalNormResult:
    """Per-input minimal-L2 adversarials.

    Attributes:
        adversarials: ``(B, T, F)`` points inside the bounds; the clean input where the attack
            failed.
        norms: ``(B,)`` ``|adversarial − input|₂``, ``+inf`` where the attack failed (``0`` for
            inputs already misclassified).
        success: ``(B,)`` bool, the adversarial's predicted class differs from the label.
    """

    adversarials: Tensor
    norms: Tensor
    success: Tensor


def prepare(
    model: Model, inputs: Tensor, labels: Tensor | None, bounds: Bounds
) -> tuple[ForwardFn, Tensor]:
    """Validate a batch and return the forward function and the labels to move away from
    (the model's own predictions when ``labels`` is ``None``).

    Raises:
        ValueError: on bad shapes, NaN inputs or inputs outside ``bounds``.
    """
    forward = differentiable_forward(model, order=1)
    if labels is None:
        with torch.no_grad():
            labels = forward(inputs.detach()).argmax(-1)
    check_batch(inputs, labels, bounds)
    return forward, labels


@torch.no_grad()
def is_adversarial(forward: ForwardFn, x: Tensor, labels: Tensor) -> Tensor:
    """``(B,)`` bool: prediction differs from ``labels``."""
    return forward(x).argmax(-1) != labels


def finish(
    forward: ForwardFn, inputs: Tensor, labels: Tensor, adversarials: Tensor
) -> MinimalNormResult:
    """Score candidate adversarials: keep successful ones, measure their L2 norms."""
    ok = is_adversarial(forward, adversarials, labels)
    adv = torch.where(ok[:, None, None], adversarials, inputs)
    norms = (adv - inputs).flatten(1).norm(dim=1)
    norms = torch.where(ok, norms, torch.full_like(norms, math.inf))
    return MinimalNormResult(adversarials=adv.detach(), norms=norms.detach(), success=ok)


@torch.no_grad()
def boundary_search(
    model: Model,
    inputs: Tensor,
    result: MinimalNormResult,
    *,
    labels: Tensor | None = None,
    steps: int = 20,
) -> MinimalNormResult:
    """Shrink each successful adversarial toward its input by bisection on the segment.

    Finds ``s ∈ (0, 1]`` with ``inputs + s (adv − inputs)`` still adversarial and
    ``s − 2^-steps`` not (assuming one crossing), so the norm never grows and the point stays in
    the (convex) bounds. Removes the overshoot of DeepFool-like steps.

    Args:
        model: classifier ``(B, T, F) -> (B, L)``.
        inputs: ``(B, T, F)`` clean inputs.
        result: adversarials to refine.
        labels: ``(B,)`` classes to move away from (default: predictions on ``inputs``).
        steps: bisection steps (relative precision ``2^-steps`` of the norm).

    Returns:
        A refined :class:`MinimalNormResult`.
    """
    forward = differentiable_forward(model, order=1)
    if labels is None:
        labels = forward(inputs).argmax(-1)
    direction = result.adversarials - inputs
    lo = torch.zeros(inputs.shape[0], dtype=inputs.dtype, device=inputs.device)
    hi = torch.where(result.success, torch.ones_like(lo), torch.zeros_like(lo))
    todo = result.success & (result.norms > 0)
    for _ in range(steps):
        if not bool(todo.any()):
            break
        mid = (lo + hi) / 2
        ok = is_adversarial(forward, inputs + mid[:, None, None] * direction, labels)
        hi = torch.where(todo & ok, mid, hi)
        lo = torch.where(todo & ~ok, mid, lo)
    refined = torch.where(
        todo[:, None, None], inputs + hi[:, None, None] * direction, result.adversarials
    )
    return finish(
        forward, inputs, labels, torch.where(result.success[:, None, None], refined, inputs)
    )
