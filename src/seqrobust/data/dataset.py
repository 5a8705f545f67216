"""The in-memory container every loader returns."""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from torch import Tensor


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
