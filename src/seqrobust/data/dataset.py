"""The in-memory container every loader returns."""

from __future__ import annotations

from dataclasses import dataclass

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

    def take(self, n: int) -> SequenceData:
        """The first ``n`` examples."""
        return SequenceData(self.inputs[:n], self.labels[:n], self.num_classes, self.name)
