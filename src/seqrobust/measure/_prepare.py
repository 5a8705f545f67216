"""The checks every measurement runs on what it is given, before any real work."""

from __future__ import annotations

from torch import nn

from seqrobust.data.dataset import SequenceData
from seqrobust.models.classifier import Classifier, as_classifier


def require_data(data: object) -> SequenceData:
    """``data`` if it is a :class:`SequenceData`.

    Raises:
        ValueError: one line naming how to build one.
    """
    if not isinstance(data, SequenceData):
        raise ValueError(f"data must be a seqrobust.SequenceData, got {type(data).__name__}; "
                         "build one with SequenceData.from_arrays(x, y)")
    return data


def prepare(model: nn.Module | Classifier, data: SequenceData) -> Classifier:
    """``model`` as a :class:`~seqrobust.models.Classifier`, checked on ``data``.

    Raises:
        ValueError: one line naming the fix, on data that is not a ``SequenceData``, empty
            data, or a model the library cannot measure (:meth:`Classifier.check`).
    """
    require_data(data)
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be an nn.Module, got {type(model).__name__}")
    if len(data) == 0:
        raise ValueError(f"{data.name}: no inputs to measure")
    clf = as_classifier(model)
    device = next((p.device for p in clf.parameters()), None)
    x = data.inputs if device is None else data.inputs.to(device)
    clf.check(x[:2], None if data.lengths is None else data.lengths[:2],
              num_classes=data.num_classes)
    return clf


__all__ = ["prepare", "require_data"]
