"""Model-agnostic training (:func:`fit` for any module, :func:`train` for a configured run
folder, one loop), checkpoints (safetensors + JSON) and runs on disk."""

from seqrobust.training.checkpoint import load_checkpoint as load_checkpoint
from seqrobust.training.checkpoint import save_checkpoint as save_checkpoint
from seqrobust.training.config import TrainConfig as TrainConfig
from seqrobust.training.engine import EpochSummary as EpochSummary
from seqrobust.training.fit import FitResult as FitResult
from seqrobust.training.fit import fit as fit
from seqrobust.training.loop import NonFiniteLoss as NonFiniteLoss
from seqrobust.training.loop import accuracy as accuracy
from seqrobust.training.loop import predict as predict
from seqrobust.training.loop import train_step as train_step
from seqrobust.training.run import TrainResult as TrainResult
from seqrobust.training.run import ensure_trained as ensure_trained
from seqrobust.training.run import load_model as load_model
from seqrobust.training.run import resolve_device as resolve_device
from seqrobust.training.run import train as train

__all__ = [
    "EpochSummary",
    "FitResult",
    "NonFiniteLoss",
    "TrainConfig",
    "TrainResult",
    "accuracy",
    "ensure_trained",
    "fit",
    "load_checkpoint",
    "load_model",
    "predict",
    "resolve_device",
    "save_checkpoint",
    "train",
    "train_step",
]
