"""The built-in classifier a :class:`~seqrobust.training.TrainConfig` describes, sized for its
data and checked against the memory of the device it trains on."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from seqrobust.data.dataset import SequenceData
from seqrobust.models.factory import build_classifier
from seqrobust.models.recurrent import CELLS, RecurrentClassifier
from seqrobust.training.config import TrainConfig
from seqrobust.training.sizes import check_memory, check_size


def model_config(model: nn.Module) -> dict[str, Any]:
    """The constructor arguments a built-in model saves with its weights."""
    config = getattr(model, "config", None)
    if not callable(config):
        raise ValueError(f"{type(model).__name__} has no config(); use a built-in architecture")
    return dict(config())


def build_model(cfg: TrainConfig, data: SequenceData, *,
                device: torch.device | None = None) -> nn.Module:
    """The classifier ``cfg`` describes (``cfg.cell``: any of
    :data:`~seqrobust.models.ARCHS`), sized for ``data`` (with ``device``: after checking that
    training it fits that device's memory). A TCN gets as many residual blocks as make its
    receptive field cover ``data``'s steps.

    Raises:
        ValueError: with the parameter count, if the model is too big.
    """
    kwargs: dict[str, Any] = {"input_size": data.num_features, "num_classes": data.num_classes,
                              "hidden_size": cfg.hidden, "num_layers": cfg.layers,
                              "dropout": cfg.dropout, "heads": cfg.heads,
                              "max_len": data.seq_len}
    if cfg.cell == "tcn":
        kwargs["num_layers"] = None
    what = f"hidden {cfg.hidden} x layers {cfg.layers} ({cfg.cell})"
    if cfg.cell in CELLS:
        count = check_size(cell=cfg.cell, hidden=cfg.hidden, layers=cfg.layers,
                           input_size=data.num_features, classes=data.num_classes)
    else:
        with torch.device("meta"):
            count = sum(p.numel() for p in build_classifier(cfg.cell, **kwargs).parameters())
    if device is not None:
        check_memory(count, device, what=what)
    if cfg.cell in CELLS:  # the same constructor call as before other architectures existed
        return RecurrentClassifier(input_size=data.num_features, num_classes=data.num_classes,
                                   cell=cfg.cell,
                                   hidden_size=cfg.hidden, num_layers=cfg.layers,
                                   dropout=cfg.dropout)
    return build_classifier(cfg.cell, **kwargs)


__all__ = ["build_model", "model_config"]
