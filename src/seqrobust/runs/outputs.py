"""Writing a service's outputs inside its output folder, and comparing the records they carry.

Every file a run-folder service (:mod:`seqrobust.runs`) or a study (:mod:`seqrobust.studies`)
writes goes through :mod:`seqrobust._safeio`: atomic, never through a symlink, never outside
the folder. :func:`check_targets` refuses bad targets *before* a long computation;
:func:`save_figure` and :func:`save_figures` let matplotlib draw into a private temporary folder
and copy the PNGs in the same way (``savefig`` itself would follow a symlink).
:func:`differences` names the fields in which two (nested) records differ, for one-line
refusals of resumes and merges.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from seqrobust._safeio import append_text, inside, write_bytes_atomic, write_text_atomic
from seqrobust.models.classifier import as_classifier

if TYPE_CHECKING:
    from torch import nn

    from seqrobust.data.dataset import SequenceData


def check_targets(folder: str | Path, *names: str | Path) -> None:
    """Refuse, before anything is computed, to write ``names`` of ``folder``.

    Raises:
        ValueError: one line, if a name is absolute, contains ``..``, is a symlink, resolves
            outside ``folder`` or names something that is not a regular file.
    """
    for name in names:
        path = Path(folder) / name
        if path.is_symlink():
            raise ValueError(f"{path}: is a symlink; refusing to write through it (remove it)")
        inside(folder, name)
        if path.exists() and not path.is_file():
            raise ValueError(f"{path}: is not a regular file; refusing to overwrite it")


def csv_text(header: Sequence[Any], rows: Sequence[Sequence[Any]]) -> str:
    """``header`` and ``rows`` as CSV text (``csv`` module quoting, ``\\r\\n`` line ends)."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def write_csv(folder: str | Path, name: str | Path, header: Sequence[Any],
              rows: Sequence[Sequence[Any]]) -> Path:
    """Write a CSV file of ``folder`` atomically (:func:`csv_text`)."""
    return write_text_atomic(folder, name, csv_text(header, rows))


def append_csv(folder: str | Path, name: str | Path, header: Sequence[Any],
               rows: Sequence[Sequence[Any]]) -> Path:
    """Append ``rows`` to a CSV file of ``folder`` in one write (the header first if the file
    is new); refuses symlinks and paths outside ``folder``."""
    new = not (Path(folder) / name).exists()
    text = csv_text(header, rows)
    return append_text(folder, name, text if new else text.split("\r\n", 1)[1])


def write_json(folder: str | Path, name: str | Path, record: Any, *, indent: int | None = 1,
               allow_nan: bool = True, default: Callable[[Any], Any] | None = None) -> Path:
    """Write ``record`` as JSON (and a final newline) to ``folder/name`` atomically."""
    text = json.dumps(record, indent=indent, allow_nan=allow_nan, default=default)
    return write_text_atomic(folder, name, text + "\n")


def save_figures(folder: str | Path, draw: Callable[[Path], object]) -> list[Path]:
    """Let ``draw(tmp)`` write figures into a fresh private folder, then copy every file it
    wrote into ``folder`` (same relative names) atomically.

    Returns:
        The files written in ``folder``.
    """
    written = []
    with tempfile.TemporaryDirectory(prefix="seqrobust-fig-") as tmp:
        draw(Path(tmp))
        for path in sorted(Path(tmp).rglob("*")):
            if path.is_file() and not path.is_symlink():
                rel = path.relative_to(tmp)
                written.append(write_bytes_atomic(folder, rel, path.read_bytes()))
    return written


def save_figure(folder: str | Path, name: str, draw: Callable[[Path], object]) -> Path:
    """Let ``draw(path)`` write one figure to a private temporary path, then copy it to
    ``folder/name`` atomically.

    Returns:
        The file written.
    """
    check_targets(folder, name)
    with tempfile.TemporaryDirectory(prefix="seqrobust-fig-") as tmp:
        path = Path(tmp) / Path(name).name
        draw(path)
        return write_bytes_atomic(folder, name, path.read_bytes())


def data_hash(data: SequenceData) -> str:
    """The SHA-256 of the inputs, labels and lengths of ``data`` as loaded (dtype, shape and
    bytes of each), as 64 hex digits: what a measurement was computed from."""
    digest = hashlib.sha256()
    tensors = [("inputs", data.inputs), ("labels", data.labels), ("lengths", data.lengths)]
    for name, tensor in tensors:
        if tensor is None:
            digest.update(f"{name}:none;".encode())
            continue
        t = tensor.detach().cpu().contiguous()
        digest.update(f"{name}:{t.dtype}:{tuple(t.shape)};".encode())
        digest.update(t.view(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return digest.hexdigest()


def padding_mode(model: nn.Module, data: SequenceData) -> str | None:
    """How the measurements evaluate ``data``'s padded inputs: ``"trim"`` (cut to their real
    steps: the model's logits do not change), ``"fed"`` (padded as the model gets them) or
    ``None`` (no input is padded); :meth:`~seqrobust.models.Classifier.resolved_padding`."""
    if data.lengths is None or bool((data.lengths == data.seq_len).all()):
        return None
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    return as_classifier(model).resolved_padding(data.inputs.to(device),
                                                 data.lengths.to(device))


def _short(value: Any) -> str:
    """``repr(value)``, a long string (a hash) cut to 16 characters and ``…``."""
    if isinstance(value, str) and len(value) > 20:
        return repr(value[:16] + "…")
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


def differences(a: Mapping[str, Any], b: Mapping[str, Any], *, ignore: Sequence[str] = (),
                prefix: str = "") -> list[tuple[str, Any, Any]]:
    """The fields in which two records differ, nested dicts as dotted names.

    Args:
        a: one record.
        b: the other.
        ignore: (dotted) names that may differ.
        prefix: prepended to the names (for the recursion).

    Returns:
        ``[(name, value in a, value in b)]``, sorted by name.
    """
    found: list[tuple[str, Any, Any]] = []
    for key in sorted(set(a) | set(b)):
        name = f"{prefix}{key}"
        if name in ignore:
            continue
        x, y = a.get(key), b.get(key)
        if isinstance(x, Mapping) and isinstance(y, Mapping):
            found += differences(x, y, ignore=ignore, prefix=f"{name}.")
        elif x != y:
            found.append((name, x, y))
    return found


def describe(diff: Sequence[tuple[str, Any, Any]]) -> str:
    """``"name: new vs old, other"``: the differing names, the first with both values."""
    name, x, y = diff[0]
    rest = "".join(f", {n}" for n, _, _ in diff[1:])
    return f"{name}: {_short(x)} vs {_short(y)}{rest}"


__all__ = [
    "append_csv",
    "check_targets",
    "csv_text",
    "data_hash",
    "describe",
    "differences",
    "save_figure",
    "save_figures",
    "write_csv",
    "write_json",
]
