"""Per-model records of the frontier study (:mod:`seqrobust.studies.records`, format
``FORMAT``): ``train`` (the model's :class:`~seqrobust.training.TrainConfig` without the
device), ``eval`` (:meth:`FrontierConfig.eval_key`), ``row`` (the
:class:`~seqrobust.studies.frontier.table.FrontierRow`), ``weights_sha256``, ``cpu_seconds``,
``wall_seconds``, ``finished``, ``torch``, ``device``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from seqrobust.studies import records as rec
from seqrobust.studies.frontier.table import FrontierRow
from seqrobust.studies.records import differing

FORMAT = "seqrobust.frontier-record/1"


def row_to_json(row: FrontierRow) -> dict[str, Any]:
    """A JSON-ready dict of ``row`` (NaN written as ``null``)."""
    return rec.row_to_json(row)


def row_from_json(data: dict[str, Any]) -> FrontierRow:
    """Rebuild a :class:`FrontierRow` (``null`` read back as NaN).

    Raises:
        ValueError: on missing or unknown fields.
    """
    return rec.row_from_json(FrontierRow, data)


def read_record(path: Path) -> dict[str, Any] | None:
    """The record in ``path``, or ``None`` if there is none.

    Raises:
        ValueError: one line naming the file, on a record that is not valid.
    """
    return rec.read_record(path, format=FORMAT, row=FrontierRow,
                           required=("name", "train", "eval", "row", "weights_sha256"))


def write_record(path: Path, *, name: str, train: dict[str, Any], eval_key: dict[str, Any],
                 row: FrontierRow, **provenance: Any) -> None:
    """Write one model's record atomically (never through a symlink)."""
    rec.write_record(path, format=FORMAT, name=name, train=train, eval=eval_key, row=row,
                     **provenance)


__all__ = ["FORMAT", "differing", "read_record", "row_from_json", "row_to_json", "write_record"]
