"""Sequence classifiers and the choice of a twice-differentiable execution path."""

from seqrobust.models.paths import LengthBound as LengthBound
from seqrobust.models.paths import bind_lengths as bind_lengths
from seqrobust.models.paths import differentiable_forward as differentiable_forward
from seqrobust.models.paths import twice_differentiable as twice_differentiable
from seqrobust.models.recurrent import CELLS as CELLS
from seqrobust.models.recurrent import RecurrentClassifier as RecurrentClassifier

__all__ = [
    "CELLS",
    "LengthBound",
    "RecurrentClassifier",
    "bind_lengths",
    "differentiable_forward",
    "twice_differentiable",
]
