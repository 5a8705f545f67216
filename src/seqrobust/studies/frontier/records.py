"""Per-model records of the frontier study: small JSON files that outlive the machine.

A record holds everything the study needs from one finished model, so that a fresh clone
resumes from the committed records without retraining anything:

- ``train``: the model's :class:`~seqrobust.training.TrainConfig` (device left out: it is not
  part of a model's identity);
- ``eval``: the evaluation settings it was measured with (:meth:`FrontierConfig.eval_key`);
- ``row``: the :class:`~seqrobust.studies.frontier.table.FrontierRow` measurements;
- ``weights_sha256``, ``cpu_seconds``, ``wall_seconds``, ``finished``, ``torch``, ``device``:
  provenance and cost.

The format is plain JSON with a version tag (``FORMAT``): data, not code, so it stays readable
when the library's modules move.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from seqrobust._safeio import read_text
from seqrobust.runs.shards import write_json_atomic
from seqrobust.studies.frontier.table import FrontierRow

FORMAT = "seqrobust.frontier-record/1"


def row_to_json(row: FrontierRow) -> dict[str, Any]:
    """A JSON-ready dict of ``row`` (NaN written as ``null``)."""
    def clean(v: Any) -> Any:
        if isinstance(v, float) and math.isnan(v):
            return None
        if isinstance(v, (list, tuple)):
            return [clean(x) for x in v]
        return v

    return {k: clean(v) for k, v in asdict(row).items()}


def row_from_json(data: dict[str, Any]) -> FrontierRow:
    """Rebuild a :class:`FrontierRow` (``null`` read back as NaN).

    Raises:
        ValueError: on missing or unknown fields.
    """
    names = {f.name for f in fields(FrontierRow)}
    if set(data) != names:
        missing, extra = sorted(names - set(data)), sorted(set(data) - names)
        raise ValueError(f"row fields differ (missing {missing}, unknown {extra})")

    def num(v: Any) -> float:
        return math.nan if v is None else float(v)

    pairs = {"pgd", "worst", "pgd_check"}
    values: dict[str, Any] = {}
    for f in fields(FrontierRow):
        v = data[f.name]
        if f.name in pairs:
            values[f.name] = tuple((float(e), num(a)) for e, a in v)
        elif f.name in ("method", "estimator"):
            values[f.name] = str(v)
        elif f.name in ("seed", "n_pgd", "n_check"):
            values[f.name] = int(v)
        else:
            values[f.name] = num(v)
    return FrontierRow(**values)


def read_record(path: Path) -> dict[str, Any] | None:
    """The record in ``path``, or ``None`` if there is none.

    Raises:
        ValueError: one line naming the file, on a record that is not valid.
    """
    if not path.exists():
        return None
    try:
        data = json.loads(read_text(path.parent, path.name))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not a valid record ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"{path}: not a frontier record (expected format {FORMAT!r})")
    for key in ("name", "train", "eval", "row", "weights_sha256"):
        if key not in data:
            raise ValueError(f"{path}: record lacks {key!r}")
    try:
        data["row"] = row_from_json(data["row"])
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path}: {exc}") from None
    return data


def write_record(path: Path, *, name: str, train: dict[str, Any], eval_key: dict[str, Any],
                 row: FrontierRow, **provenance: Any) -> None:
    """Write one model's record atomically (never through a symlink)."""
    write_json_atomic(path, {"format": FORMAT, "name": name, "train": train, "eval": eval_key,
                             "row": row_to_json(row), **provenance})


def differing(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """The keys whose values differ between two flat dicts (sorted)."""
    return sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))


__all__ = ["FORMAT", "differing", "read_record", "row_from_json", "row_to_json", "write_record"]
