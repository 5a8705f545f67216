"""Sequence classifiers (recurrent, Transformer, TCN), a user's own model declared once
(:class:`Classifier`), and the one forward function every derivative goes through."""

from seqrobust.models.classifier import Classifier as Classifier
from seqrobust.models.classifier import Group as Group
from seqrobust.models.classifier import as_classifier as as_classifier
from seqrobust.models.classifier import differentiable_forward as differentiable_forward
from seqrobust.models.factory import ARCHS as ARCHS
from seqrobust.models.factory import build_classifier as build_classifier
from seqrobust.models.factory import classifier_from_config as classifier_from_config
from seqrobust.models.recurrent import CELLS as CELLS
from seqrobust.models.recurrent import RecurrentClassifier as RecurrentClassifier
from seqrobust.models.tcn import TCNClassifier as TCNClassifier
from seqrobust.models.transformer import TransformerClassifier as TransformerClassifier

__all__ = [
    "ARCHS",
    "CELLS",
    "Classifier",
    "Group",
    "RecurrentClassifier",
    "TCNClassifier",
    "TransformerClassifier",
    "as_classifier",
    "build_classifier",
    "classifier_from_config",
    "differentiable_forward",
]
