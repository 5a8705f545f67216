"""The in-memory container every loader returns, and :meth:`SequenceData.from_arrays` for
a user's own arrays (which carry no pixel units unless told)."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TypeAlias

import numpy as np
import torch
from torch import Tensor

ArrayLike: TypeAlias = np.ndarray | Tensor


@dataclass(frozen=True)
class SequenceData:
    """A labelled set of equal-length sequences.

    Attributes:
        inputs: ``(N, T, F)`` floating tensor in model units.
        labels: ``(N,)`` int64 class indices in ``[0, num_classes)``.
        num_classes: number of classes.
        name: a short label for logs and records.
    """

    inputs: Tensor
    labels: Tensor
    num_classes: int
    name: str
    lengths: Tensor | None = None
    """``(N,)`` int64 valid steps per sequence (padded after them), or ``None`` if all are full."""
    bounds: tuple[float, float] | None = (0.0, 1.0)
    """Valid input range (attacks clip to it), or ``None`` for unbounded (standardised) data."""
    eps_scale: float = 1.0 / 255.0
    """Model units per user unit of perturbation size (1/255 for pixel units; 1 for std units)."""
    eps_unit: str = "pixel (0-255)"

    def __post_init__(self) -> None:
        if self.inputs.dim() != 3:
            raise ValueError(
                f"{self.name}: inputs must be (N, T, F), got shape {tuple(self.inputs.shape)}"
            )
        if self.labels.shape != (self.inputs.shape[0],):
            raise ValueError(
                f"{self.name}: {self.inputs.shape[0]} inputs but labels of shape "
                f"{tuple(self.labels.shape)}"
            )

        if self.lengths is not None:
            n, steps = self.inputs.shape[0], self.inputs.shape[1]
            if self.lengths.shape != (n,):
                raise ValueError(f"{self.name}: lengths must have shape ({n},)")
            if n and (int(self.lengths.min()) < 1 or int(self.lengths.max()) > steps):
                raise ValueError(f"{self.name}: lengths must lie in [1, {steps}]")

    @classmethod
    def from_arrays(
        cls,
        x: ArrayLike,
        y: ArrayLike,
        *,
        lengths: ArrayLike | None = None,
        num_classes: int | None = None,
        bounds: Sequence[float] | None = None,
        unit: str = "model units",
        scale: float = 1.0,
        name: str = "data",
    ) -> SequenceData:
        """Wrap a user's own arrays, checking them, with units stated rather than assumed.

        Numpy arrays are copied; tensors are used as given (``y`` and ``lengths`` are moved to
        ``x``'s device and converted to int64).

        Args:
            x: ``(N, T, F)`` floating inputs in model units (float32 and float64 are kept).
            y: ``(N,)`` integer class labels in ``[0, num_classes)``.
            lengths: ``(N,)`` integer valid steps per sequence (padded after them), in
                ``[1, T]``; ``None`` when every sequence is ``T`` steps long.
            num_classes: number of classes; defaults to ``max(y) + 1``.
            bounds: ``(lower, upper)`` valid input range that attacks clip to; ``None``
                (default) for unbounded inputs.
            unit: the name of the unit perturbation sizes are quoted in.
            scale: model units per one ``unit`` of perturbation size (e.g. ``1/255`` with
                ``unit="pixel (0-255)"`` for images in ``[0, 1]``).
            name: a short label for logs and records.

        Returns:
            The checked data, with ``bounds``, ``eps_scale=scale`` and ``eps_unit=unit``.

        Raises:
            ValueError: one line naming the problem and the fix, for: a wrong rank or dtype,
                mismatched ``N``, empty data, NaN/inf inputs, labels outside
                ``[0, num_classes)``, lengths outside ``[1, T]``, non-finite or empty
                bounds, inputs outside the bounds, or a scale that is not positive and finite.
        """
        inputs = _as_tensor(x, "x", name)
        if inputs.dim() != 3:
            hint = "; add a feature axis with x[..., None]" if inputs.dim() == 2 else ""
            raise ValueError(f"{name}: x must be (N, T, F), got shape {tuple(inputs.shape)}{hint}")
        if not inputs.is_floating_point():
            raise ValueError(f"{name}: x must be floating point, got {inputs.dtype}; cast it first")
        if 0 in inputs.shape:
            raise ValueError(f"{name}: x is empty (shape {tuple(inputs.shape)}); need N, T, F >= 1")
        bad = int((~torch.isfinite(inputs)).sum())
        if bad:
            raise ValueError(f"{name}: x holds {bad} NaN/inf values; remove or impute them")
        n, steps = int(inputs.shape[0]), int(inputs.shape[1])
        labels = _index_vector(y, "y", name, n).to(inputs.device)
        classes = _num_classes(labels, num_classes, name)
        seq_lengths = None
        if lengths is not None:
            seq_lengths = _index_vector(lengths, "lengths", name, n).to(inputs.device)
            if int(seq_lengths.min()) < 1 or int(seq_lengths.max()) > steps:
                raise ValueError(
                    f"{name}: lengths must lie in [1, {steps}] (T), found "
                    f"{int(seq_lengths.min())}..{int(seq_lengths.max())}"
                )
        checked_bounds = None if bounds is None else _bounds(bounds, inputs, name)
        if not isinstance(unit, str) or not unit.strip():
            raise ValueError(f"{name}: unit must be a non-empty string, got {unit!r}")
        if isinstance(scale, bool) or not isinstance(scale, numbers.Real):
            raise ValueError(f"{name}: scale must be a number, got {scale!r}")
        if not (math.isfinite(scale) and scale > 0):
            raise ValueError(f"{name}: scale must be positive and finite, got {scale}")
        return cls(
            inputs=inputs,
            labels=labels,
            num_classes=classes,
            name=name,
            lengths=seq_lengths,
            bounds=checked_bounds,
            eps_scale=float(scale),
            eps_unit=unit,
        )

    def __len__(self) -> int:
        return int(self.inputs.shape[0])

    @property
    def seq_len(self) -> int:
        """Number of time steps ``T``."""
        return int(self.inputs.shape[1])

    @property
    def num_features(self) -> int:
        """Features per step ``F``."""
        return int(self.inputs.shape[2])

    @property
    def mask(self) -> Tensor:
        """``(N, T)`` bool, True on real (non-padded) steps."""
        steps = torch.arange(self.seq_len, device=self.inputs.device)
        if self.lengths is None:
            return torch.ones(len(self), self.seq_len, dtype=torch.bool, device=self.inputs.device)
        return steps[None, :] < self.lengths.to(self.inputs.device)[:, None]

    def subset(self, index: Tensor | slice) -> SequenceData:
        """The examples at ``index`` (a slice or an index tensor), everything else kept."""
        lengths = None if self.lengths is None else self.lengths[index]
        return replace(self, inputs=self.inputs[index], labels=self.labels[index], lengths=lengths)

    def take(self, n: int) -> SequenceData:
        """The first ``n`` examples."""
        return self.subset(slice(0, n))


def padding_value(data: SequenceData) -> float | None:
    """The constant value every padded step holds (``None`` when nothing is padded).

    Args:
        data: sequences whose padded steps (after each ``lengths[i]``) are inspected.

    Returns:
        The single value found in all features of all padded steps, or ``None`` when
        ``lengths`` is ``None`` or every sequence is full length.

    Raises:
        ValueError: if padded steps hold different values.
    """
    if data.lengths is None:
        return None
    padded = data.inputs[~data.mask]  # (padded steps, F)
    if padded.numel() == 0:
        return None
    first = padded.reshape(-1)[0]
    if not bool((padded == first).all()):
        raise ValueError(f"{data.name}: padded steps hold different values; pad with a constant")
    return float(first)


def _as_tensor(value: object, what: str, name: str) -> Tensor:
    if isinstance(value, Tensor):
        return value
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biuf":
            raise ValueError(f"{name}: {what} has unsupported dtype {value.dtype}")
        return torch.tensor(value)
    kind = type(value).__name__
    raise ValueError(f"{name}: {what} must be a numpy array or a tensor, got {kind}")


def _index_vector(value: object, what: str, name: str, n: int) -> Tensor:
    """``value`` as an ``(n,)`` int64 tensor, or a one-line error."""
    vector = _as_tensor(value, what, name)
    if vector.shape != (n,):
        raise ValueError(
            f"{name}: {what} must have shape ({n},) to match x, got {tuple(vector.shape)}"
        )
    if vector.is_floating_point() or vector.is_complex() or vector.dtype == torch.bool:
        raise ValueError(f"{name}: {what} must be integers, got {vector.dtype}; cast them to int")
    return vector.to(torch.int64)


def _num_classes(labels: Tensor, num_classes: int | None, name: str) -> int:
    low, high = int(labels.min()), int(labels.max())
    if num_classes is None:
        classes = high + 1
    elif isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"{name}: num_classes must be a positive integer, got {num_classes!r}")
    else:
        classes = num_classes
    if low < 0 or high >= classes:
        raise ValueError(
            f"{name}: labels must lie in [0, {classes}), found {low}..{high}; "
            "remap them to 0..K-1 or pass num_classes"
        )
    return classes


def _bounds(bounds: Sequence[float], inputs: Tensor, name: str) -> tuple[float, float]:
    if isinstance(bounds, str | bytes):
        raise ValueError(f"{name}: bounds must be (lower, upper), got {bounds!r}")
    try:
        lower, upper = (float(b) for b in bounds)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: bounds must be (lower, upper), got {bounds!r}") from None
    if not (math.isfinite(lower) and math.isfinite(upper)):
        raise ValueError(f"{name}: bounds must be finite, got {bounds!r}; use None for unbounded")
    if lower >= upper:
        raise ValueError(f"{name}: bounds need lower < upper, got ({lower}, {upper})")
    low, high = float(inputs.min()), float(inputs.max())
    if low < lower or high > upper:
        raise ValueError(
            f"{name}: x spans [{low:g}, {high:g}], outside bounds ({lower:g}, {upper:g}); "
            "widen the bounds or pass bounds=None"
        )
    return lower, upper
