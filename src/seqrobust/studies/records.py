"""Per-model records of the multi-model studies: small JSON files that outlive the machine,
and the on-disk caches of each model's measurements.

A record holds everything a study needs from one finished model, so that a fresh clone resumes
from the committed records without retraining anything: a ``format`` tag, the model's
``name``, its training config (``train``: :func:`train_key`), the evaluation settings
(``eval``), the measurements (``row``: a flat frozen dataclass of numbers, strings and tuples,
NaN written as ``null``) and provenance. The format is plain JSON: data, not code, so it stays
readable when the library's modules move.
"""

from __future__ import annotations

import hashlib
import json
import math
import typing
from collections.abc import Callable
from dataclasses import asdict, fields, is_dataclass
from pathlib import Path
from typing import Any, TypeVar

from seqrobust._safeio import read_text
from seqrobust.runs.shards import write_json_atomic
from seqrobust.training import TrainConfig

RowT = TypeVar("RowT")


def row_to_json(row: Any) -> dict[str, Any]:
    """A JSON-ready dict of the dataclass ``row`` (NaN written as ``null``)."""
    def clean(v: Any) -> Any:
        if isinstance(v, float) and math.isnan(v):
            return None
        if isinstance(v, (list, tuple)):
            return [clean(x) for x in v]
        return v

    return {k: clean(v) for k, v in asdict(row).items()}


def _convert(hint: Any, v: Any) -> Any:
    if hint is str:
        return str(v)
    if hint is int:
        return int(v)
    if hint is float:
        return math.nan if v is None else float(v)
    if typing.get_origin(hint) is tuple:
        args = typing.get_args(hint)
        inner = args[0]
        return tuple(_convert(inner, x) for x in v)
    raise TypeError(f"unsupported field type {hint!r}")


def row_from_json(cls: type[RowT], data: dict[str, Any]) -> RowT:
    """Rebuild the dataclass ``cls`` from :func:`row_to_json` (``null`` read back as NaN).

    Raises:
        ValueError: on missing or unknown fields, or values of the wrong shape.
    """
    if not is_dataclass(cls):
        raise TypeError(f"{cls!r} is not a dataclass")
    names = {f.name for f in fields(cls)}
    if set(data) != names:
        missing, extra = sorted(names - set(data)), sorted(set(data) - names)
        raise ValueError(f"row fields differ (missing {missing}, unknown {extra})")
    hints = typing.get_type_hints(cls)
    try:
        return cls(**{name: _convert(hints[name], data[name]) for name in names})
    except (TypeError, ValueError) as exc:
        raise ValueError(f"row values do not fit {cls.__name__} ({exc})") from None


def read_record(path: Path, *, format: str, row: type[RowT],
                required: tuple[str, ...] = ("name", "train", "row")) -> dict[str, Any] | None:
    """The record in ``path`` with its ``row`` rebuilt as ``row``, or ``None`` if there is none.

    Raises:
        ValueError: one line naming the file, on a record that is not valid.
    """
    if not path.exists():
        return None
    try:
        data = json.loads(read_text(path.parent, path.name))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not a valid record ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != format:
        raise ValueError(f"{path}: not a record of this study (expected format {format!r})")
    for key in required:
        if key not in data:
            raise ValueError(f"{path}: record lacks {key!r}")
    if "row" in data:
        try:
            data["row"] = row_from_json(row, data["row"])
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{path}: {exc}") from None
    return data


def write_record(path: Path, *, format: str, name: str, row: Any | None = None,
                 **fields_: Any) -> None:
    """Write one model's record atomically (never through a symlink)."""
    body: dict[str, Any] = {"format": format, "name": name, **fields_}
    if row is not None:
        body["row"] = row_to_json(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(path, body)


def differing(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """The keys whose values differ between two flat dicts (sorted)."""
    return sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))


def train_key(tcfg: TrainConfig | dict[str, Any]) -> dict[str, Any]:
    """A model's identity: its training config without the device. A recorded config (dict)
    gets today's defaults for fields added since it was written, so records stay valid when
    :class:`TrainConfig` grows a field whose default keeps the old behaviour."""
    current = TrainConfig().to_json() if isinstance(tcfg, dict) else tcfg.to_json()
    data = {**current, **tcfg} if isinstance(tcfg, dict) else current
    return {k: v for k, v in json.loads(json.dumps(data)).items() if k != "device"}


def weights_hash(run_dir: Path) -> str:
    """SHA-256 of a run folder's final weights (hex)."""
    return hashlib.sha256((run_dir / "model.safetensors").read_bytes()).hexdigest()


def cached(path: Path, key: dict[str, Any], compute: Callable[[], Any]) -> Any:
    """The ``value`` stored in ``path`` under the same ``key``, else ``compute()`` (stored)."""
    if path.exists():
        record = json.loads(read_text(path.parent, path.name))
        if isinstance(record, dict) and record.get("key") == key:
            return record["value"]
    value = compute()
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(path, {"key": key, "value": value})
    return value


__all__ = ["cached", "differing", "read_record", "row_from_json", "row_to_json", "train_key",
           "weights_hash", "write_record"]
