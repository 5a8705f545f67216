"""A stratified validation split carved from a training split (for model selection without
touching the test split)."""

from __future__ import annotations

import math
from dataclasses import replace

import torch

from seqrobust.data.dataset import SequenceData


def _validation_count(count: int, fraction: float) -> int:
    """Inputs of a class of ``count`` that go to validation: ``fraction * count`` rounded half
    up, at least 1 when the class has 2 or more, and never all of them."""
    k = math.floor(fraction * count + 0.5)
    if count >= 2:
        k = max(k, 1)
    return min(k, count - 1)


def split_validation(
    data: SequenceData, fraction: float, *, seed: int = 0
) -> tuple[SequenceData, SequenceData]:
    """Split ``data`` into a fit part and a stratified validation part.

    Per class, ``fraction`` of its inputs (rounded half up; at least 1 when the class has 2 or
    more inputs) go to validation, chosen at random with ``seed``; every class keeps at least
    one input in the fit part. Both parts keep the inputs in their original order and
    everything else of ``data`` (padded length ``T``, ``lengths``, ``bounds``, units,
    ``num_classes``); their names get ``" [fit]"`` and ``" [validation]"`` appended.

    Args:
        data: the training split.
        fraction: share of each class held out, in ``(0, 1)``.
        seed: seeds the choice (the same ``seed`` and ``data`` give the same split).

    Returns:
        ``(fit, validation)``, disjoint, together holding every input of ``data`` once.

    Raises:
        ValueError: on a ``fraction`` outside ``(0, 1)``, a negative or non-integer ``seed``,
            or data in which no class has 2 inputs (nothing could be held out).
    """
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not (
            math.isfinite(fraction) and 0 < fraction < 1):
        raise ValueError(f"fraction must be a number in (0, 1), got {fraction!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    labels = data.labels.cpu()
    order = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))
    held: list[torch.Tensor] = []
    for label in torch.unique(labels):
        rows = order[labels[order] == label]  # this class's inputs in random order
        held.append(rows[:_validation_count(len(rows), fraction)])
    validation = torch.cat(held) if held else order[:0]
    if validation.numel() == 0:
        raise ValueError(f"{data.name}: no class has 2 inputs, so fraction {fraction:g} holds "
                         "out nothing; use more training inputs")
    mask = torch.zeros(len(data), dtype=torch.bool)
    mask[validation] = True
    fit_rows, val_rows = torch.nonzero(~mask).squeeze(1), torch.nonzero(mask).squeeze(1)
    device = data.inputs.device
    fit = replace(data.subset(fit_rows.to(device)), name=f"{data.name} [fit]")
    return fit, replace(data.subset(val_rows.to(device)), name=f"{data.name} [validation]")


__all__ = ["split_validation"]
