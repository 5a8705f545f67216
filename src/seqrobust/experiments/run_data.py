"""A trained run with the data it is evaluated on: ``--dataset`` overrides, attack bounds and
variable-length batches split into equal-length groups.

Variable-length data (e.g. JapaneseVowels, 7–29 steps) are padded after each sequence's end and
carry their lengths. The models are padding-invariant (the logits depend on the real steps
only), so a group of sequences of one length ``L`` trimmed to ``(G, L, F)`` is the *same*
function of its real steps as the padded batch with its lengths. Every x-only routine (geometry,
bounds, attacks) therefore runs per group on trimmed inputs, where padded steps are not input
dimensions at all: no gradient, curvature or perturbation lives there. :func:`map_by_length`
does the grouping and scatters the results back in input order.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import torch
from torch import Tensor, nn

from seqrobust.data.dataset import SequenceData
from seqrobust.data.registry import load_dataset
from seqrobust.training.config import TrainConfig

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


def length_groups(lengths: Tensor | None, n: int, steps: int) -> list[tuple[int, Tensor]]:
    """Positions of a batch grouped by sequence length.

    Args:
        lengths: ``(n,)`` real steps per sequence, or ``None`` (all ``steps`` long).
        n: batch size.
        steps: padded length ``T``.

    Returns:
        ``(L, rows)`` pairs in increasing ``L``; ``rows`` int64 positions (ascending) in the
        batch. One pair ``(steps, arange(n))`` when ``lengths`` is ``None`` or constant ``T``.
    """
    if lengths is None:
        return [(steps, torch.arange(n))] if n else []
    lengths = lengths.cpu()
    return [(int(v), torch.nonzero(lengths == v).squeeze(1)) for v in torch.unique(lengths)]


def map_by_length(
    fn: Callable[[Tensor, Tensor], Mapping[str, Tensor]],
    x: Tensor,
    lengths: Tensor | None,
    *,
    per_step: Sequence[str] = (),
    fill: float = math.nan,
) -> dict[str, Tensor]:
    """Call ``fn(x_group, rows)`` on each equal-length group trimmed to its length; scatter
    the outputs back in input order.

    Args:
        fn: gets ``(G, L, F)`` trimmed inputs and their ``(G,)`` positions in ``x``; returns
            tensors with the group as first dimension, ``(G, ...)``.
        x: ``(B, T, F)`` padded batch.
        lengths: ``(B,)`` real steps, or ``None`` (no padding).
        per_step: output names whose second dimension is time, ``(G, L, ...)``; they come back
            ``(B, T, ...)`` with ``fill`` after each sequence's end.
        fill: value of per-step outputs on padded steps.

    Returns:
        Every output of ``fn`` as ``(B, ...)`` (per-step ones ``(B, T, ...)``), on the device
        and with the dtype ``fn`` returned.
    """
    batch, steps = x.shape[0], x.shape[1]
    out: dict[str, Tensor] = {}
    for length, rows in length_groups(lengths, batch, steps):
        rows_dev = rows.to(x.device)
        result = fn(x[rows_dev, :length], rows_dev)
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


def model_shape(model: nn.Module) -> tuple[int, int] | None:
    """``(features, classes)`` a model expects, or ``None`` when it does not say."""
    features, classes = getattr(model, "input_size", None), getattr(model, "num_classes", None)
    if isinstance(features, int) and isinstance(classes, int):
        return features, classes
    return None


def check_compatible(model: nn.Module, data: SequenceData, *, run: str | Path) -> None:
    """Raise a one-line ``ValueError`` if ``data`` has other features or classes than the
    model of ``run``."""
    shape = model_shape(model)
    if shape is None:
        return
    features, classes = shape
    if (data.num_features, data.num_classes) != (features, classes):
        raise ValueError(
            f"dataset {data.name} has {data.num_features} features and {data.num_classes} "
            f"classes but the run {run} expects {features} and {classes}"
        )


def load_run_data(
    run: str | Path,
    *,
    dataset: str | None = None,
    split: str = "test",
    limit: int | None = None,
    device: str | torch.device = "cpu",
) -> tuple[nn.Module, TrainConfig, SequenceData]:
    """The trained model of ``run`` (eval mode, on ``device``) and the data to evaluate it on.

    Args:
        run: run folder (from ``seqrobust train``).
        dataset: dataset name; ``None`` = the run's own dataset.
        split: ``"test"`` or ``"train"``.
        limit: the first ``limit`` examples.
        device: where the model goes.

    Returns:
        ``(model, the run's training config, data)``.

    Raises:
        ValueError: on a missing run, an unknown dataset or split, or data with other features
            or classes than the model.
    """
    from seqrobust.training.run import load_model

    if split not in ("test", "train"):
        raise ValueError(f"unknown split {split!r}; choose test or train")
    model, cfg = load_model(run, device=device)
    name = cfg.dataset if dataset is None else dataset
    root = cfg.data_root if name == cfg.dataset else None
    data = load_dataset(name, split=split, root=root, limit=limit)  # type: ignore[arg-type]
    check_compatible(model, data, run=run)
    return model, cfg, data


def distance_unit(data: SequenceData) -> str:
    """The unit of L2 distances in model space, for reports (``analyze`` works in model
    units): ``[0, 1]`` intensity for MNIST, the training standard deviation for aeon sets."""
    if data.eps_scale == 1.0:
        return data.eps_unit
    return f"model units (= {1.0 / data.eps_scale:g} x {data.eps_unit})"


__all__ = [
    "UNBOUNDED",
    "attack_bounds",
    "check_compatible",
    "distance_unit",
    "length_groups",
    "load_run_data",
    "map_by_length",
    "model_shape",
]
