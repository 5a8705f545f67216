"""Checkpoints as safetensors (tensors) plus JSON (everything else); never pickles.

A checkpoint ``NAME`` is ``NAME.safetensors`` + ``NAME.json`` (the final ``model.*`` of a run),
each written atomically, JSON last; the JSON records the SHA-256 of the tensors file, so a
pair from two different saves is refused. Loading refuses malformed records (one line naming
the file and field), non-float or non-finite weights and tensors that do not fit the model.
:mod:`~seqrobust.training.snapshot` stores the same content as one file per step.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_bytes
from safetensors.torch import save as save_bytes
from torch import Tensor, nn

from seqrobust._safeio import read_regular_file, write_bytes_atomic

FORMAT = "seqrobust-checkpoint-1"
_SEP = "::"
_RECORD_KEYS = {"format", "meta", "optimizer", "sha256"}


def sha256(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


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


def pack_state(
    model: nn.Module, optimizer: torch.optim.Optimizer | None, meta: dict[str, Any] | None
) -> tuple[dict[str, Tensor], dict[str, Any]]:
    """``(tensors, record)``: the model's ``state_dict``, the optimizer state (tensors apart
    from the rest), the global torch RNG state (and the current CUDA device's, once CUDA is
    in use), and ``meta``.

    Raises:
        ValueError: if a floating weight holds NaN or infinity (never saved).
    """
    tensors = {
        f"model{_SEP}{k}": v.detach().cpu().contiguous() for k, v in model.state_dict().items()
    }
    for name, value in tensors.items():
        if value.is_floating_point() and not bool(torch.isfinite(value).all()):
            raise ValueError(f"refusing to save non-finite weights ({name[len('model::'):]})")
    record: dict[str, Any] = {"format": FORMAT, "meta": meta or {}}
    if optimizer is not None:
        opt_tensors, opt_plain = _flatten_optimizer(optimizer.state_dict())
        tensors.update(opt_tensors)
        record["optimizer"] = opt_plain
    tensors["rng"] = torch.get_rng_state()
    if torch.cuda.is_available() and torch.cuda.is_initialized():  # dropout on CUDA
        tensors["rng_cuda"] = torch.cuda.get_rng_state()
    return tensors, record


def check_record(source: str, record: Any, *, fmt: str = FORMAT) -> dict[str, Any]:
    """``record`` if it is a well-formed checkpoint record of format ``fmt``.

    Raises:
        ValueError: ``"SOURCE: ..."`` naming the bad field.
    """
    if not isinstance(record, dict):
        raise ValueError(f"{source}: expected a JSON object, got {type(record).__name__}")
    unknown = sorted(set(record) - _RECORD_KEYS)
    if unknown:
        raise ValueError(f"{source}: unknown keys {', '.join(unknown)}")
    if record.get("format") != fmt:
        raise ValueError(f"{source}: unknown format {record.get('format')!r} (expected {fmt})")
    if not isinstance(record.get("meta", {}), dict):
        raise ValueError(f"{source}: meta must be an object")
    opt = record.get("optimizer")
    if opt is not None and not (
        isinstance(opt, dict) and set(opt) == {"param_groups", "state"}
        and isinstance(opt["param_groups"], list) and isinstance(opt["state"], dict)
        and all(isinstance(g, dict) for g in opt["param_groups"])
        and all(isinstance(s, dict) and k.isdigit() for k, s in opt["state"].items())
    ):
        raise ValueError(f"{source}: optimizer must be an object with param_groups (a list of "
                         "objects) and state (objects keyed by parameter index)")
    digest = record.get("sha256")
    if digest is not None and not (isinstance(digest, str) and len(digest) == 64):
        raise ValueError(f"{source}: sha256 must be a 64-digit hex string")
    return record


def read_tensors(source: str, data: bytes) -> tuple[dict[str, Tensor], dict[str, str]]:
    """The tensors and the header metadata of safetensors bytes ``data``.

    Raises:
        ValueError: ``"SOURCE: corrupt (...)"``.
    """
    try:
        tensors = load_bytes(data)
        size = int.from_bytes(data[:8], "little")
        header = json.loads(data[8 : 8 + size])
    except (SafetensorError, ValueError, RuntimeError) as exc:
        raise ValueError(f"{source}: corrupt ({str(exc).splitlines()[0]})") from None
    metadata = header.get("__metadata__") or {}
    return tensors, metadata


def unpack_state(
    source: str,
    tensors: dict[str, Tensor],
    record: dict[str, Any],
    *,
    model: nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    restore_rng: bool = False,
) -> dict[str, Any]:
    """Load what :func:`pack_state` stored into ``model`` (and ``optimizer``, the RNG).

    Returns:
        The ``meta`` dict.

    Raises:
        ValueError: ``"SOURCE: ..."`` on non-float or non-finite tensors, a state that does
            not fit the model, or missing optimizer/RNG state.
    """
    prefix = f"model{_SEP}"
    weights = {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
    own = model.state_dict()
    for name, value in weights.items():
        target = own.get(name)
        if target is not None and target.is_floating_point() and not value.is_floating_point():
            raise ValueError(f"{source}: {name} has dtype {value.dtype}, expected a float")
    for name, value in tensors.items():
        if value.is_floating_point() and not bool(torch.isfinite(value).all()):
            raise ValueError(f"{source}: {name} holds NaN or infinite values")
    try:
        model.load_state_dict(weights)
    except RuntimeError as exc:
        raise ValueError(f"{source} does not fit the model: {str(exc).splitlines()[0]}") from None
    if optimizer is not None:
        if "optimizer" not in record:
            raise ValueError(f"{source} holds no optimizer state")
        try:
            optimizer.load_state_dict(_unflatten_optimizer(tensors, record["optimizer"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{source}: optimizer state does not fit ({exc})") from None
    if restore_rng:
        rng = tensors.get("rng")
        if rng is None or rng.dtype != torch.uint8 or rng.dim() != 1:
            raise ValueError(f"{source}: no valid rng state (a uint8 vector)")
        torch.set_rng_state(rng)
        cuda = tensors.get("rng_cuda")
        if cuda is not None and torch.cuda.is_available():
            if cuda.dtype != torch.uint8 or cuda.dim() != 1:
                raise ValueError(f"{source}: no valid rng_cuda state (a uint8 vector)")
            torch.cuda.set_rng_state(cuda)
    meta: dict[str, Any] = record.get("meta", {})
    return meta


def save_checkpoint(
    path: str | Path,
    *,
    model: nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    meta: dict[str, Any] | None = None,
) -> None:
    """Write ``path.safetensors`` and then ``path.json`` (``path`` without suffix), each
    atomically; the JSON names the tensors file's SHA-256.

    Stores the model's ``state_dict``, the optimizer state (tensors in safetensors, the rest
    in JSON), the global torch RNG state, and ``meta`` (JSON-serialisable, finite).

    Raises:
        ValueError: on non-finite weights or ``meta`` values, or an unsafe target path.
    """
    base = Path(path)
    base.parent.mkdir(parents=True, exist_ok=True)
    tensors, record = pack_state(model, optimizer, meta)
    data = save_bytes(tensors)
    record["sha256"] = sha256(data)
    text = json.dumps(record, indent=1, allow_nan=False)
    write_bytes_atomic(base.parent, base.name + ".safetensors", data)
    write_bytes_atomic(base.parent, base.name + ".json", text.encode())


def read_pair(path: str | Path) -> tuple[dict[str, Tensor], dict[str, Any]]:
    """The tensors and the checked record of checkpoint ``path`` (without suffix).

    Raises:
        ValueError: on missing, corrupt, mismatched or malformed files.
    """
    base = Path(path)
    json_name, st_name = base.name + ".json", base.name + ".safetensors"
    try:
        text = read_regular_file(base.parent, json_name).decode("utf-8")
        data = read_regular_file(base.parent, st_name)
    except FileNotFoundError as exc:
        raise ValueError(f"checkpoint {base}: missing file {exc.filename}") from None
    except (UnicodeDecodeError, OSError) as exc:
        raise ValueError(f"checkpoint {base}: corrupt ({str(exc).splitlines()[0]})") from None
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"checkpoint {base}: corrupt ({exc.msg} in {json_name})") from None
    record = check_record(str(base.with_name(json_name)), record)
    tensors, _ = read_tensors(f"checkpoint {base}", data)
    if "sha256" in record and record["sha256"] != sha256(data):
        raise ValueError(f"{base.with_name(json_name)}: sha256 does not match {st_name} (the two "
                         "files are from different saves)")
    return tensors, record


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
        ValueError: if the files are missing, corrupt, malformed or do not fit the model.
    """
    tensors, record = read_pair(path)
    return unpack_state(f"checkpoint {Path(path)}", tensors, record, model=model,
                        optimizer=optimizer, restore_rng=restore_rng)


def load_file_tensors(path: str | Path) -> dict[str, Tensor]:
    """The raw tensors of checkpoint ``path`` (without suffix), keyed as stored.

    Raises:
        ValueError: if the file is missing or corrupt.
    """
    base = Path(path)
    try:
        data = read_regular_file(base.parent, base.name + ".safetensors")
    except FileNotFoundError:
        raise ValueError(f"checkpoint {base}: missing file {base}.safetensors") from None
    return read_tensors(f"checkpoint {base}", data)[0]
