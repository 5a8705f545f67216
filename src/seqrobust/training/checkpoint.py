"""Checkpoints as safetensors (tensors) plus JSON (everything else); never pickles.

A checkpoint ``NAME`` is ``NAME.safetensors`` + ``NAME.json``, each written atomically
(temporary file, then rename), JSON last so a half-written pair is never taken as complete.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import Tensor, nn

_SEP = "::"


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _flatten_optimizer(state: dict[str, Any]) -> tuple[dict[str, Tensor], dict[str, Any]]:
    tensors: dict[str, Tensor] = {}
    plain: dict[str, Any] = {"param_groups": state["param_groups"], "state": {}}
    for pid, entry in state["state"].items():
        plain["state"][str(pid)] = {}
        for key, value in entry.items():
            if isinstance(value, Tensor):
                tensors[f"optim{_SEP}{pid}{_SEP}{key}"] = value.detach().cpu().contiguous()
            else:
                plain["state"][str(pid)][key] = value
    return tensors, plain


def _unflatten_optimizer(tensors: dict[str, Tensor], plain: dict[str, Any]) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {int(pid): dict(v) for pid, v in plain["state"].items()}
    for name, value in tensors.items():
        if name.startswith(f"optim{_SEP}"):
            _, pid, key = name.split(_SEP, 2)
            state.setdefault(int(pid), {})[key] = value
    groups = [
        {k: tuple(v) if isinstance(v, list) and k != "params" else v for k, v in group.items()}
        for group in plain["param_groups"]
    ]  # JSON turned tuples (Adam's betas) into lists
    return {"state": state, "param_groups": groups}


def load_file_tensors(path: str | Path) -> dict[str, Tensor]:
    """The raw tensors of checkpoint ``path`` (without suffix), keyed as stored."""
    return load_file(str(Path(path).with_suffix(".safetensors")))


def save_checkpoint(
    path: str | Path,
    *,
    model: nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    meta: dict[str, Any] | None = None,
) -> None:
    """Write ``path.safetensors`` and ``path.json`` (``path`` without suffix).

    Stores the model's ``state_dict``, the optimizer state (tensors in safetensors, the rest
    in JSON), the global torch RNG state, and ``meta`` (JSON-serialisable).
    """
    base = Path(path)
    base.parent.mkdir(parents=True, exist_ok=True)
    tensors = {
        f"model{_SEP}{k}": v.detach().cpu().contiguous() for k, v in model.state_dict().items()
    }
    record: dict[str, Any] = {"format": "seqrobust-checkpoint-1", "meta": meta or {}}
    if optimizer is not None:
        opt_tensors, opt_plain = _flatten_optimizer(optimizer.state_dict())
        tensors.update(opt_tensors)
        record["optimizer"] = opt_plain
    tensors["rng"] = torch.get_rng_state()
    tmp = base.with_name(f".{base.name}.safetensors.tmp")
    save_file(tensors, str(tmp))
    os.replace(tmp, base.with_suffix(".safetensors"))
    _atomic_write_bytes(base.with_suffix(".json"), json.dumps(record, indent=1).encode())


def load_checkpoint(
    path: str | Path,
    *,
    model: nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    restore_rng: bool = False,
) -> dict[str, Any]:
    """Load a checkpoint written by :func:`save_checkpoint` into ``model`` (and ``optimizer``).

    Returns:
        The ``meta`` dict saved with it.

    Raises:
        ValueError: if the files are missing, corrupt or do not fit the model.
    """
    base = Path(path)
    json_path, st_path = base.with_suffix(".json"), base.with_suffix(".safetensors")
    try:
        record = json.loads(json_path.read_text())
        tensors = load_file(str(st_path))
    except FileNotFoundError as exc:
        raise ValueError(f"checkpoint {base}: missing file {exc.filename}") from None
    except (json.JSONDecodeError, SafetensorError, OSError) as exc:
        raise ValueError(f"checkpoint {base}: corrupt ({str(exc).splitlines()[0]})") from None
    if record.get("format") != "seqrobust-checkpoint-1":
        raise ValueError(f"checkpoint {base}: unknown format {record.get('format')!r}")
    prefix = f"model{_SEP}"
    weights = {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
    try:
        model.load_state_dict(weights)
    except RuntimeError as exc:
        raise ValueError(
            f"checkpoint {base} does not fit the model: {str(exc).splitlines()[0]}"
        ) from None
    if optimizer is not None:
        if "optimizer" not in record:
            raise ValueError(f"checkpoint {base} holds no optimizer state")
        optimizer.load_state_dict(_unflatten_optimizer(tensors, record["optimizer"]))
    if restore_rng:
        torch.set_rng_state(tensors["rng"])
    meta: dict[str, Any] = record.get("meta", {})
    return meta
