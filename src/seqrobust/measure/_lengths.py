"""Attack bounds of a data set and variable-length inputs split into equal-length groups.

Variable-length data (e.g. JapaneseVowels, 7–29 steps) are padded after each sequence's end and
carry their lengths. For a model whose logits depend on the real steps only, a group of
sequences of one length ``L`` trimmed to ``(G, L, F)`` is the *same* function of its real steps
as the padded batch with its lengths; for any other model the group is fed padded as the model
expects (:meth:`seqrobust.models.Classifier.groups` decides, checked). :func:`map_groups` runs a
function per group and scatters the results back in input order.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import torch
from torch import Tensor

from seqrobust.data.dataset import SequenceData
from seqrobust.models.classifier import Group

UNBOUNDED: tuple[float, float] = (-1.0e4, 1.0e4)
"""Bounds handed to the attacks for unbounded (standardised) data. The attacks need finite
bounds; ±10⁴ training standard deviations is far outside every shipped series (|x| < 100 std)
plus any ε used, so clipping to it never binds (checked by :func:`attack_bounds`)."""


def attack_bounds(data: SequenceData) -> tuple[float, float]:
    """The valid input range to clip attacks to: ``data.bounds``, or :data:`UNBOUNDED` when the
    data have no bounds.

    Raises:
        ValueError: if unbounded data come within 100 units of :data:`UNBOUNDED` (clipping
            could then bind).
    """
    if data.bounds is not None:
        return data.bounds
    if len(data) and float(data.inputs.abs().max()) > UNBOUNDED[1] - 100.0:
        raise ValueError(f"{data.name}: inputs too large for the unbounded attack range")
    return UNBOUNDED


def map_groups(
    fn: Callable[[Tensor, Tensor, Group], Mapping[str, Tensor]],
    x: Tensor,
    groups: Sequence[Group],
    *,
    per_step: Sequence[str] = (),
    fill: float = math.nan,
) -> dict[str, Tensor]:
    """Call ``fn(x_group, rows, group)`` on each equal-length group (its inputs cut to their
    real steps); scatter the outputs back in input order.

    Args:
        fn: gets ``(G, L, F)`` inputs, their ``(G,)`` positions in ``x`` and the
            :class:`~seqrobust.models.classifier.Group` (whose ``forward()`` is the model as a
            function of these real steps); returns tensors with the group first, ``(G, ...)``.
        x: ``(B, T, F)`` padded batch.
        groups: from :meth:`~seqrobust.models.Classifier.groups` on ``x``.
        per_step: output names whose second dimension is time, ``(G, L, ...)``; they come back
            ``(B, T, ...)`` with ``fill`` after each sequence's end.
        fill: value of per-step outputs on padded steps.

    Returns:
        Every output of ``fn`` as ``(B, ...)`` (per-step ones ``(B, T, ...)``), on the device
        and with the dtype ``fn`` returned.
    """
    batch, steps = x.shape[0], x.shape[1]
    out: dict[str, Tensor] = {}
    for group in groups:
        length, rows_dev = group.length, group.rows.to(x.device)
        result = fn(x[rows_dev, :length], rows_dev, group)
        for key, value in result.items():
            if key not in out:
                shape = (batch, steps, *value.shape[2:]) if key in per_step else (
                    batch, *value.shape[1:])
                filler = fill if value.is_floating_point() else 0
                out[key] = torch.full(shape, filler, dtype=value.dtype, device=value.device)
            target = out[key]
            index = rows_dev.to(target.device)
            if key in per_step:
                target[index, :length] = value
            else:
                target[index] = value
    return out


__all__ = ["UNBOUNDED", "attack_bounds", "map_groups"]
