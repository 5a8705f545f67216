"""The checks every measurement runs on what it is given, before any real work."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from seqrobust.data.dataset import SequenceData
from seqrobust.models.classifier import Classifier, as_classifier


def check_model(clf: Classifier, x: Tensor, lengths: Tensor | None, *, num_classes: int
                ) -> None:
    """Run the model once on the first two inputs and refuse, with one line naming the fix,
    what the library could not measure: a call that fails, logits of the wrong shape or
    not finite, logits that do not depend differentiably on the input.

    Args:
        clf: the model.
        x: ``(N, T, F)`` inputs; lengths: ``(N,)`` or ``None``.
        num_classes: the classes of the data.

    Raises:
        ValueError: one line.
    """
    probe = x[:2].detach().clone().requires_grad_(True)
    lens = None if lengths is None else lengths[:2].to(x.device)
    floats = {str(p.dtype)[6:] for p in clf.parameters() if p.is_floating_point()}
    given = str(x.dtype)[6:]
    try:
        with torch.enable_grad():
            out = clf(probe, lens)
    except (RuntimeError, IndexError, ValueError) as exc:
        if floats and given not in floats:
            raise ValueError(f"the model failed on {given} inputs, its parameters are "
                             f"{'/'.join(sorted(floats))}; convert one (model.to(torch."
                             f"{given}) or the arrays given to from_arrays)") from None
        if isinstance(exc, ValueError):
            raise
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"the model failed on inputs of shape {tuple(probe.shape)} "
                         f"({first}); check that it takes (batch, time, {x.shape[2]}) "
                         "inputs") from None
    if not isinstance(out, Tensor) or out.dim() != 2 or out.shape[0] != probe.shape[0]:
        shape = tuple(out.shape) if isinstance(out, Tensor) else type(out).__name__
        raise ValueError(f"the model returned {shape} for a batch of {probe.shape[0]}; "
                         "it must return logits of shape (batch, classes)")
    if out.shape[1] != num_classes:
        raise ValueError(f"the model returns {out.shape[1]} logits but the data have "
                         f"{num_classes} classes; pass num_classes= to the data or fix "
                         "the model's head")
    if not bool(torch.isfinite(out).all()):
        raise ValueError("the model returned non-finite (NaN or inf) logits on the first "
                         "inputs; check its weights and the data's scale")
    if not out.requires_grad:
        raise ValueError("the model's logits do not depend differentiably on its input "
                         "(a forward under torch.no_grad, a detach or a rounding step?); "
                         "the measurements need input gradients")


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
            data, or a model the library cannot measure (:func:`check_model`).
    """
    require_data(data)
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be an nn.Module, got {type(model).__name__}")
    if len(data) == 0:
        raise ValueError(f"{data.name}: no inputs to measure")
    clf = as_classifier(model)
    device = next((p.device for p in clf.parameters()), None)
    x = data.inputs if device is None else data.inputs.to(device)
    check_model(clf, x[:2], None if data.lengths is None else data.lengths[:2],
                num_classes=data.num_classes)
    return clf


__all__ = ["check_model", "prepare", "require_data"]
