"""seqrobust: adversarial robustness of sequence models through decision-boundary geometry.

``import seqrobust as sr``; every function takes your model (any ``nn.Module``; wrap one whose
forward is ``(x, lengths)`` in :class:`Classifier` if its signature does not say so) and a
:class:`SequenceData`.

Layers (each imports only those below it): ``cli`` -> ``studies`` -> ``runs`` -> ``measure`` |
``training`` | ``reporting`` -> ``attacks`` | ``bounds`` | ``regularizers`` -> ``geometry`` ->
``models`` | ``data`` -> ``types``, ``seeds``, ``_checks``, ``_safeio``.
"""

# data
from seqrobust.data import SequenceData as SequenceData
from seqrobust.data import load_dataset as load_dataset
from seqrobust.data import load_mnist as load_mnist
from seqrobust.data import split_validation as split_validation

# measurements on (model, data)
from seqrobust.measure.analyze import Analysis as Analysis
from seqrobust.measure.analyze import analyze as analyze
from seqrobust.measure.curvature import Curvature as Curvature
from seqrobust.measure.curvature import curvature as curvature
from seqrobust.measure.noise_bound import NoiseBound as NoiseBound
from seqrobust.measure.noise_bound import noise_bound as noise_bound
from seqrobust.measure.robustness import AttackSettings as AttackSettings
from seqrobust.measure.robustness import RobustnessCurve as RobustnessCurve
from seqrobust.measure.robustness import robustness_curve as robustness_curve
from seqrobust.measure.worst_case import WorstCase as WorstCase
from seqrobust.measure.worst_case import worst_case as worst_case

# models
from seqrobust.models import Classifier as Classifier
from seqrobust.models import RecurrentClassifier as RecurrentClassifier
from seqrobust.models import TCNClassifier as TCNClassifier
from seqrobust.models import TransformerClassifier as TransformerClassifier
from seqrobust.models import build_classifier as build_classifier
from seqrobust.models import differentiable_forward as differentiable_forward

# training
from seqrobust.regularizers import make_regularizer as make_regularizer

# reports
from seqrobust.runs.results_report import report as report
from seqrobust.training import FitResult as FitResult
from seqrobust.training import TrainConfig as TrainConfig
from seqrobust.training import fit as fit
from seqrobust.training import load_model as load_model
from seqrobust.training import train as train

__version__ = "0.2.0"

__all__ = [
    # data
    "SequenceData",
    "load_dataset",
    "load_mnist",
    "split_validation",
    # models
    "Classifier",
    "RecurrentClassifier",
    "TCNClassifier",
    "TransformerClassifier",
    "build_classifier",
    "differentiable_forward",
    # measurements
    "Analysis",
    "AttackSettings",
    "Curvature",
    "NoiseBound",
    "RobustnessCurve",
    "WorstCase",
    "analyze",
    "curvature",
    "noise_bound",
    "robustness_curve",
    "worst_case",
    # training
    "FitResult",
    "TrainConfig",
    "fit",
    "load_model",
    "make_regularizer",
    "train",
    # reports
    "report",
    "__version__",
]
