"""Building a classifier from an architecture name, or back from its saved ``config()``."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from torch import nn

from seqrobust._checks import check_choice
from seqrobust.models.recurrent import CELLS, RecurrentClassifier
from seqrobust.models.tcn import TCNClassifier
from seqrobust.models.transformer import TransformerClassifier

ARCHS: tuple[str, ...] = ("rnn", "lstm", "gru", "transformer", "tcn")


def build_classifier(
    arch: str,
    *,
    input_size: int,
    num_classes: int,
    hidden_size: int = 128,
    num_layers: int | None = 2,
    dropout: float = 0.0,
    heads: int = 4,
    max_len: int | None = None,
) -> nn.Module:
    """A classifier ``(batch, time, features) -> (batch, num_classes)`` of architecture ``arch``.

    Args:
        arch: ``"rnn"``, ``"lstm"``, ``"gru"`` (a :class:`RecurrentClassifier` with that cell),
            ``"transformer"`` or ``"tcn"``.
        input_size: features per time step.
        num_classes: number of output classes.
        hidden_size: hidden units (recurrent), model width (Transformer) or channels (TCN).
        num_layers: recurrent layers, encoder blocks or residual blocks (TCN: receptive field
            ``1 + 4 (2^num_layers - 1)`` steps with the default kernel size 3).
        dropout: dropout probability (training only).
        heads: attention heads (Transformer only; ignored otherwise).
        max_len: the longest sequence the model will see (Transformer: positions, at least
            1024; TCN with ``num_layers=None``: the receptive field covers it).

    Returns:
        The untrained module, in train mode, on the CPU.

    Raises:
        ValueError: on an unknown ``arch`` or bad sizes.
    """
    check_choice(arch, ARCHS, name="arch")
    common: dict[str, Any] = {
        "input_size": input_size,
        "num_classes": num_classes,
        "hidden_size": hidden_size,
        "num_layers": num_layers,
        "dropout": dropout,
    }
    if arch == "transformer":
        return TransformerClassifier(**common, heads=heads, max_len=max(1024, max_len or 0))
    if arch == "tcn":
        return TCNClassifier(**common, **({} if max_len is None else {"max_len": max_len}))
    if num_layers is None:
        raise ValueError(f"arch {arch} needs num_layers")
    return RecurrentClassifier(**common, cell=arch)  # type: ignore[arg-type]


def _keywords(cls: type[nn.Module]) -> tuple[set[str], set[str]]:
    """``(all, required)`` keyword names of ``cls``'s constructor."""
    params = inspect.signature(cls.__init__).parameters.values()
    names = {p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY}
    required = {p.name for p in params if p.name in names and p.default is inspect.Parameter.empty}
    return names, required


def classifier_from_config(config: Mapping[str, object]) -> nn.Module:
    """Rebuild a classifier from its ``model.config()`` (weights are not restored).

    Args:
        config: constructor keywords plus ``"arch"``; a config without ``"arch"`` is a
            :class:`RecurrentClassifier` config (saved before other architectures existed).
            An ``"arch"`` of ``"rnn"``/``"lstm"``/``"gru"`` sets the recurrent cell.

    Returns:
        The untrained module.

    Raises:
        ValueError: on an unknown ``arch``, an unknown or missing key, or bad values.
    """
    kwargs: dict[str, Any] = dict(config)
    arch = kwargs.pop("arch", None)
    cls: type[nn.Module]
    if arch is None:
        cls, arch = RecurrentClassifier, "rnn/lstm/gru"
    else:
        check_choice(str(arch), ARCHS, name="arch")
        if arch in CELLS:
            if kwargs.setdefault("cell", arch) != arch:
                raise ValueError(f"config has arch {arch!r} but cell {kwargs['cell']!r}")
            cls = RecurrentClassifier
        else:
            cls = TransformerClassifier if arch == "transformer" else TCNClassifier
    names, required = _keywords(cls)
    for key in kwargs:
        if key not in names:
            raise ValueError(f"unknown config key {key!r} for arch {arch}")
    missing = sorted(required - kwargs.keys())
    if missing:
        raise ValueError(f"config for arch {arch} is missing {', '.join(missing)}")
    return cls(**kwargs)
