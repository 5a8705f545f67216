"""Crash-consistent training checkpoints: one file per step plus a manifest written last.

A snapshot is ``ckpt/step-NNNNNNNN.safetensors``: the tensors (weights, optimizer state, RNG)
with the JSON record (metadata, optimizer's plain state) in the safetensors header, so weights
and step count are one unit. ``ckpt/last.json`` then names that file and its SHA-256; older
step files are removed only after it is in place. A process killed at any instant leaves a
manifest naming a complete, verified snapshot (the old one or the new one), and resuming from
it replays to the same weights. Folders of the previous layout (``ckpt/last.safetensors`` +
``ckpt/last.json`` of format 1) still load; their files are removed by the first new snapshot.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save as save_bytes
from torch import Tensor, nn

from seqrobust._safeio import (
    inside,
    read_regular_file,
    remove,
    write_bytes_atomic,
    write_text_atomic,
)
from seqrobust.training.checkpoint import FORMAT as PAIR_FORMAT
from seqrobust.training.checkpoint import (
    check_record,
    pack_state,
    read_pair,
    read_tensors,
    sha256,
    unpack_state,
)

FORMAT = "seqrobust-checkpoint-2"
MANIFEST = "last.json"
_FILE = re.compile(r"step-\d{8}\.safetensors")
_STALE = re.compile(r"(\.?step-\d{8}\.safetensors(\.tmp)?|\.?last\.safetensors(\.tmp)?)")
_MANIFEST_KEYS = {"format", "file", "sha256", "step"}


def snapshot_name(step: int) -> str:
    """The file name of the snapshot at ``step``."""
    return f"step-{step:08d}.safetensors"


def save_snapshot(
    folder: str | Path,
    *,
    step: int,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    meta: dict[str, Any],
) -> None:
    """Write the snapshot of ``step`` into ``folder``, then the manifest, then remove older
    snapshots (each step atomic; see the module docstring).

    Raises:
        ValueError: on non-finite weights or meta, or an unsafe path in ``folder``.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tensors, record = pack_state(model, optimizer, meta)
    record["format"] = FORMAT
    data = save_bytes(tensors, metadata={"seqrobust": json.dumps(record, allow_nan=False)})
    name = snapshot_name(step)
    write_bytes_atomic(folder, name, data)
    manifest = {"format": FORMAT, "file": name, "sha256": sha256(data), "step": step}
    write_text_atomic(folder, MANIFEST, json.dumps(manifest, indent=1) + "\n")
    for path in sorted(folder.iterdir()):
        if path.name != name and _STALE.fullmatch(path.name):
            remove(folder, path.name)


def _manifest(folder: Path) -> dict[str, Any] | None:
    source = folder / MANIFEST
    try:
        text = read_regular_file(folder, MANIFEST).decode("utf-8")
    except FileNotFoundError:
        return None
    except UnicodeDecodeError:
        raise ValueError(f"{source}: not UTF-8 text") from None
    try:
        manifest = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{source}: malformed JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(manifest, dict):
        raise ValueError(f"{source}: expected a JSON object, got {type(manifest).__name__}")
    return manifest


def _check_manifest(source: Path, manifest: dict[str, Any]) -> None:
    missing = sorted(_MANIFEST_KEYS - set(manifest))
    unknown = sorted(set(manifest) - _MANIFEST_KEYS)
    if missing or unknown:
        what = "missing keys " + ", ".join(missing) if missing else "unknown keys " + ", ".join(
            unknown)
        raise ValueError(f"{source}: {what}")
    if not (isinstance(manifest["file"], str) and _FILE.fullmatch(manifest["file"])):
        raise ValueError(f"{source}: file must be a name like step-00000012.safetensors, got "
                         f"{manifest['file']!r}")
    step = manifest["step"]
    if not (isinstance(step, int) and not isinstance(step, bool) and step >= 0):
        raise ValueError(f"{source}: step must be a non-negative integer, got {step!r}")
    if not (isinstance(manifest["sha256"], str) and len(manifest["sha256"]) == 64):
        raise ValueError(f"{source}: sha256 must be a 64-digit hex string")


def read_snapshot(folder: str | Path) -> tuple[str, dict[str, Tensor], dict[str, Any]] | None:
    """The snapshot ``folder/last.json`` names (or an old ``last.*`` pair), verified.

    Returns:
        ``(source, tensors, record)`` (``source`` names the file for messages), or ``None``
        if ``folder`` holds no checkpoint.

    Raises:
        ValueError: one line naming the file (and field) on a malformed manifest or record,
            or a SHA-256 mismatch.
    """
    folder = Path(folder)
    manifest = _manifest(folder)
    if manifest is None:
        return None
    if manifest.get("format") == PAIR_FORMAT:
        tensors, record = read_pair(folder / "last")
        return f"checkpoint {folder / 'last'}", tensors, record
    source = folder / MANIFEST
    if manifest.get("format") != FORMAT:
        raise ValueError(f"{source}: unknown format {manifest.get('format')!r}")
    _check_manifest(source, manifest)
    path = inside(folder, manifest["file"])
    try:
        data = read_regular_file(folder, manifest["file"])
    except FileNotFoundError:
        raise ValueError(f"{source}: names {manifest['file']}, which is missing") from None
    if sha256(data) != manifest["sha256"]:
        raise ValueError(f"{path}: sha256 does not match {source} (corrupt file)")
    tensors, metadata = read_tensors(str(path), data)
    try:
        record = json.loads(metadata.get("seqrobust", ""))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: malformed record in the header ({exc.msg})") from None
    record = check_record(str(path), record, fmt=FORMAT)
    step = record.get("meta", {}).get("step")
    if step != manifest["step"]:
        raise ValueError(f"{path}: step {step!r} differs from the manifest's {manifest['step']}")
    return str(path), tensors, record


def load_snapshot(
    folder: str | Path,
    *,
    model: nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    restore_rng: bool = False,
) -> dict[str, Any] | None:
    """Load :func:`read_snapshot`'s checkpoint into ``model`` (and ``optimizer``, the RNG).

    Returns:
        Its ``meta`` dict, or ``None`` if ``folder`` holds no checkpoint.

    Raises:
        ValueError: as :func:`read_snapshot`, and on non-finite or non-float weights or a
            state that does not fit.
    """
    found = read_snapshot(folder)
    if found is None:
        return None
    source, tensors, record = found
    return unpack_state(source, tensors, record, model=model, optimizer=optimizer,
                        restore_rng=restore_rng)
