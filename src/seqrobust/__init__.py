"""seqrobust: adversarial robustness of sequence models through decision-boundary geometry.

Layers (each imports only those below it): ``cli`` -> ``experiments`` -> ``training`` |
``reporting`` -> ``attacks`` | ``bounds`` | ``regularizers`` -> ``geometry`` -> ``models`` |
``data`` -> ``types``, ``_checks``.
"""

from seqrobust.data import SequenceData as SequenceData
from seqrobust.data import load_dataset as load_dataset
from seqrobust.data import load_mnist as load_mnist
from seqrobust.models import RecurrentClassifier as RecurrentClassifier
from seqrobust.models import twice_differentiable as twice_differentiable
from seqrobust.training import TrainConfig as TrainConfig
from seqrobust.training import load_model as load_model
from seqrobust.training import train as train

__version__ = "0.1.0"

__all__ = [
    "RecurrentClassifier",
    "SequenceData",
    "TrainConfig",
    "__version__",
    "load_dataset",
    "load_mnist",
    "load_model",
    "train",
    "twice_differentiable",
]
