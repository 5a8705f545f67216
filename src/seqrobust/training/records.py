"""What a run folder's JSON records must hold, checked field by field.

Each check returns the record when it is well formed and raises a one-line ``ValueError``
``"FILE: FIELD ..."`` otherwise: checkpoint metadata (``ckpt/last.json``, ``model.json``), the
architecture saved with the weights, and the lines of ``metrics.jsonl``.
"""

from __future__ import annotations

import json
import math
from typing import Any

import torch

from seqrobust.models.recurrent import CELLS
from seqrobust.training.sizes import MAX_PARAMETERS, check_size

ARCH_KEYS = ("input_size", "num_classes", "cell", "hidden_size", "num_layers", "dropout")
CHECKPOINT_META = {"step": True, "elapsed": True, "model": False, "window": False}
"""Keys of a training checkpoint's meta, and whether each is required."""
FINAL_META = {"step": True, "elapsed": False, "test_accuracy": False, "val_accuracy": False,
              "model": False, "data": False, "world_size": False}
"""Keys of ``model.json``'s meta (other tools write only some of them)."""


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


def check_arch(source: str, arch: Any) -> dict[str, Any]:
    """A model config saved with the weights: a
    :class:`~seqrobust.models.RecurrentClassifier`'s (no ``"arch"`` key), or a Transformer's or
    TCN's (``"arch"``; checked by building it on the meta device, which allocates nothing).

    Raises:
        ValueError: on missing or unknown keys, wrong types or sizes beyond the caps.
    """
    if not isinstance(arch, dict):
        raise ValueError(f"{source}: model must be an object, got {type(arch).__name__}")
    if arch.get("arch") in ("transformer", "tcn"):
        return _check_other_arch(source, arch)
    missing = [k for k in ARCH_KEYS if k not in arch]
    unknown = sorted(set(arch) - set(ARCH_KEYS))
    if missing or unknown:
        what = ("missing keys " + ", ".join(missing)) if missing else (
            "unknown keys " + ", ".join(unknown))
        raise ValueError(f"{source}: model: {what}")
    for key in ("input_size", "num_classes", "hidden_size", "num_layers"):
        if not (_is_int(arch[key]) and arch[key] > 0):
            raise ValueError(f"{source}: model.{key} must be a positive integer, got "
                             f"{arch[key]!r}")
    if arch["cell"] not in CELLS:
        raise ValueError(f"{source}: model.cell must be one of {', '.join(CELLS)}, got "
                         f"{arch['cell']!r}")
    if not (_is_number(arch["dropout"]) and 0 <= arch["dropout"] < 1):
        raise ValueError(f"{source}: model.dropout must be a number in [0, 1), got "
                         f"{arch['dropout']!r}")
    try:
        check_size(cell=arch["cell"], hidden=arch["hidden_size"], layers=arch["num_layers"],
                   input_size=arch["input_size"], classes=arch["num_classes"])
    except ValueError as exc:
        raise ValueError(f"{source}: model: {exc}") from None
    return arch


def _check_other_arch(source: str, arch: dict[str, Any]) -> dict[str, Any]:
    from seqrobust.models.factory import classifier_from_config

    for key, value in arch.items():
        if key not in ("arch", "positions", "dropout") and not (_is_int(value) and value > 0):
            raise ValueError(f"{source}: model.{key} must be a positive integer, got {value!r}")
    try:
        with torch.device("meta"):
            count = sum(p.numel() for p in classifier_from_config(arch).parameters())
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{source}: model: {exc}") from None
    if count > MAX_PARAMETERS:
        raise ValueError(f"{source}: model has {count:.3g} parameters, above the limit of "
                         f"{MAX_PARAMETERS:.3g}")
    return arch


def check_meta(source: str, meta: Any, keys: dict[str, bool]) -> dict[str, Any]:
    """Checkpoint metadata with the ``keys`` allowed (``True``: required).

    Raises:
        ValueError: on missing or unknown keys or values of the wrong type.
    """
    if not isinstance(meta, dict):
        raise ValueError(f"{source}: meta must be an object, got {type(meta).__name__}")
    missing = [k for k, required in keys.items() if required and k not in meta]
    if missing:
        raise ValueError(f"{source}: meta is missing {', '.join(missing)}")
    unknown = sorted(set(meta) - set(keys))
    if unknown:
        raise ValueError(f"{source}: unknown meta keys {', '.join(unknown)}")
    for key in ("step", "world_size"):
        if key in meta and not (_is_int(meta[key]) and meta[key] >= 0):
            raise ValueError(f"{source}: meta.{key} must be a non-negative integer, got "
                             f"{meta[key]!r}")
    if "elapsed" in meta and not (_is_number(meta["elapsed"]) and meta["elapsed"] >= 0):
        raise ValueError(f"{source}: meta.elapsed must be a non-negative number, got "
                         f"{meta['elapsed']!r}")
    for key in ("test_accuracy", "val_accuracy"):
        acc = meta.get(key)
        if acc is not None and not (isinstance(acc, (int, float)) and not isinstance(acc, bool)
                                    and (math.isnan(acc) or 0 <= acc <= 1)):
            raise ValueError(f"{source}: meta.{key} must be a number in [0, 1], got {acc!r}")
    window = meta.get("window", [])
    if not (isinstance(window, list) and all(
            isinstance(w, list) and len(w) == 4 and all(map(_is_number, w[:2]))
            and all(_is_int(v) and v >= 0 for v in w[2:]) for w in window)):
        raise ValueError(f"{source}: meta.window must be a list of [loss, penalty, correct, "
                         "count] entries")
    if "data" in meta and not isinstance(meta["data"], dict):
        raise ValueError(f"{source}: meta.data must be an object")
    if "model" in meta:
        check_arch(source, meta["model"])
    return meta


def parse_metrics(source: str, text: str) -> tuple[list[tuple[int, str]], str]:
    """The lines of ``metrics.jsonl`` as ``(step, line)`` pairs, and a partial last line.

    A last line without its newline is what a full disk (or a kill in mid-write) leaves; it is
    returned apart (``""`` when there is none) for the caller to drop.

    Raises:
        ValueError: ``"SOURCE line N: ..."`` on a line that is not a JSON object with an
            integer ``step``.
    """
    lines = text.split("\n")
    partial = lines.pop()
    out = []
    for number, line in enumerate(lines, 1):
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{source} line {number}: not JSON ({exc.msg}); fix or delete the "
                             "line") from None
        if not isinstance(record, dict):
            raise ValueError(f"{source} line {number}: expected a JSON object, got "
                             f"{type(record).__name__}")
        step = record.get("step")
        if not isinstance(step, int) or isinstance(step, bool) or step < 0:
            raise ValueError(f"{source} line {number}: step must be a non-negative integer, "
                             f"got {step!r}")
        out.append((step, line))
    return out, partial
