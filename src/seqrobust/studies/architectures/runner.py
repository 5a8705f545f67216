"""``seqrobust reproduce architectures``: which sequence architecture is most robust, and does
curvature explain it (issue 16)?

Each (dataset, architecture) unit (:mod:`~seqrobust.studies.architectures.config`) trains its
selection models, chooses each mode's λ on validation accuracy, then trains and measures the
final models: in two passes, every unit's first seed, then every unit's further seeds. Every
finished model leaves a small JSON record in ``RECORDS/DATASET/ARCH/``: ``select-*.json`` (the
training config and validation accuracy) and ``*.json`` of the final models (their
:class:`~seqrobust.studies.architectures.evaluate.ArchRow`). A model whose record
is there is never retrained, so committing the records lets a fresh clone resume; run folders
(``OUT/runs``) and evaluation caches (``OUT/evals``) make an interrupted model resume on the
same machine.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import Any

import torch

from seqrobust.runs.shards import WHOLE, Shard
from seqrobust.studies.architectures.config import ArchitecturesConfig, model_name
from seqrobust.studies.architectures.evaluate import ArchRow, measure
from seqrobust.studies.architectures.report import write_report
from seqrobust.studies.architectures.select import choose_lam, scan_lams
from seqrobust.studies.frontier.config import Method
from seqrobust.studies.pool import run_tasks
from seqrobust.studies.records import differing, read_record, train_key, weights_hash, write_record
from seqrobust.training import TrainConfig, ensure_trained
from seqrobust.training.run import resolve_device

SELECT_FORMAT = "seqrobust.architectures-select/1"
FINAL_FORMAT = "seqrobust.architectures-record/1"


def _provenance(run_dir: Path, cpu0: float, wall0: float, device: str) -> dict[str, Any]:
    return {"weights_sha256": weights_hash(run_dir), "cpu_seconds": time.process_time() - cpu0,
            "wall_seconds": time.perf_counter() - wall0,
            "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "torch": torch.__version__, "device": str(resolve_device(device))}


def _matching(path: Path, fmt: str, tcfg: TrainConfig) -> dict[str, Any] | None:
    """The record in ``path`` if it holds this recipe; an error if it holds another."""
    required = ("name", "train", "row") if fmt == FINAL_FORMAT else ("name", "train",
                                                                     "val_accuracy")
    record = read_record(path, format=fmt, row=ArchRow, required=required)
    if record is None:
        return None
    diff = differing(train_key(record["train"]), train_key(tcfg))
    if diff:
        raise ValueError(f"{path} holds a model of another recipe (differs in "
                         f"{', '.join(diff)}); use another --records folder")
    return record


def _meta(run_dir: Path) -> dict[str, Any]:
    return dict(json.loads((run_dir / "model.json").read_text())["meta"])


def _validation(cfg: ArchitecturesConfig, dataset: str, arch: str, mode: Method, lam: float,
                out: Path | None, records: Path, device: str, progress: bool) -> float | None:
    """The validation accuracy of one selection model (read from its record, else trained into
    ``out``; ``out=None``: not trained, ``None`` returned)."""
    name = model_name(mode, lam, 0, selection=True)
    tcfg = cfg.train_config(dataset, arch, mode, lam, 0, selection=True, device=device)
    path = records / f"{name}.json"
    record = _matching(path, SELECT_FORMAT, tcfg)
    if record is None:
        if out is None:
            return None
        cpu0, wall0 = time.process_time(), time.perf_counter()
        run_dir = out / "runs" / name
        ensure_trained(tcfg, run_dir, progress=progress)
        meta = _meta(run_dir)
        record = {"val_accuracy": meta["val_accuracy"], "train_seconds": meta["elapsed"]}
        write_record(path, format=SELECT_FORMAT, name=name, train=train_key(tcfg), **record,
                     **_provenance(run_dir, cpu0, wall0, device))
    return float(record["val_accuracy"])


class _Missing(Exception):
    """A selection model has no record and may not be trained."""


def selection(cfg: ArchitecturesConfig, dataset: str, arch: str, out: Path | None,
              records: Path, device: str, progress: bool
              ) -> dict[str, tuple[float, float, float]] | None:
    """Train (or reuse) the unit's selection models; per mode ``(λ, val, val_plain)``
    (``out=None``: from the records alone, ``None`` if one is missing).

    Each grid is tried from its largest λ down and left at the first λ within the tolerance
    (:func:`~seqrobust.studies.architectures.select.scan_lams`): the rule takes the largest
    such λ, so the smaller ones cannot change the choice and are not trained.

    With ``cfg.extend > 0``, when the rule picks the top of a mode's grid the grid grows
    upwards by factors of 10 (at most ``cfg.extend`` times) until some λ costs more than the
    tolerance.
    """
    def val(mode: Method, lam: float) -> float:
        found = _validation(cfg, dataset, arch, mode, lam, out, records, device, progress)
        if found is None:
            raise _Missing
        return found

    try:
        plain = val(cfg.modes[0], 0.0)
        chosen = {cfg.modes[0].name: (0.0, plain, plain)}
        for mode in cfg.modes[1:]:
            found = scan_lams(plain, mode.lams, partial(val, mode), tolerance=cfg.tolerance)
            lam, _ = choose_lam(plain, found, tolerance=cfg.tolerance)
            for _ in range(cfg.extend):
                if lam != max(found):
                    break
                top = float(f"{10 * max(found):g}")
                found[top] = val(mode, top)
                lam, _ = choose_lam(plain, found, tolerance=cfg.tolerance)
            chosen[mode.name] = (lam, found[lam], plain)
    except _Missing:
        return None
    return chosen


def _final(cfg: ArchitecturesConfig, dataset: str, arch: str, mode: Method,
           choice: tuple[float, float, float], seed: int, out: Path, records: Path,
           device: str, progress: bool, notes: set[str]) -> ArchRow:
    lam, val, val_plain = choice
    name = model_name(mode, lam, seed, selection=False)
    tcfg = cfg.train_config(dataset, arch, mode, lam, seed, selection=False, device=device)
    path, eval_key = records / f"{name}.json", cfg.eval_key(dataset)
    record = _matching(path, FINAL_FORMAT, tcfg)
    if record is not None and record.get("eval") == eval_key:
        return record["row"]
    cpu0, wall0 = time.process_time(), time.perf_counter()
    run_dir = out / "runs" / name
    ensure_trained(tcfg, run_dir, progress=progress)
    found = measure(cfg, cfg.plan(dataset), run_dir, out / "evals" / name, seed=seed,
                    device=resolve_device(device), progress=progress, notes=notes)
    row = ArchRow(dataset=dataset, arch=arch, mode=mode.name, lam=lam, seed=seed, val=val,
                  val_plain=val_plain, train_seconds=float(_meta(run_dir)["elapsed"]), **found)
    write_record(path, format=FINAL_FORMAT, name=name, train=train_key(tcfg), eval=eval_key,
                 row=row, **_provenance(run_dir, cpu0, wall0, device))
    return row


def unit_task(cfg: ArchitecturesConfig, index: int, out: Path, records: Path, device: str,
              seeds: tuple[int, ...], modes: tuple[str, ...], progress: bool) -> list[str]:
    """Unit ``index`` of ``cfg.units()``: selection (reused once recorded), then its final
    models of ``seeds`` × ``modes`` (names in ``cfg.modes``); the notes."""
    dataset, arch = cfg.units()[index]
    out, records = out / dataset / arch, records / dataset / arch
    chosen = selection(cfg, dataset, arch, out, records, device, progress)
    assert chosen is not None  # trained when missing
    notes: set[str] = set()
    for seed in seeds:
        for mode in cfg.modes:
            if mode.name in modes:
                _final(cfg, dataset, arch, mode, chosen[mode.name], seed, out, records,
                       device, progress, notes)
    return sorted(notes)


def finished_rows(cfg: ArchitecturesConfig, records: Path) -> tuple[list[ArchRow], list[str]]:
    """The rows of every final model of ``cfg`` recorded in ``records`` (same recipe and
    evaluation, at the λ its selection records choose), and the units not finished."""
    rows: list[ArchRow] = []
    pending: list[str] = []
    for dataset, arch in cfg.units():
        folder = records / dataset / arch
        found = [read_record(p, format=FINAL_FORMAT, row=ArchRow)
                 for p in sorted(folder.glob("*.json")) if not p.name.startswith("select-")]
        eval_key = cfg.eval_key(dataset)
        chosen = selection(cfg, dataset, arch, None, folder, "cpu", False) or {}
        good = [r["row"] for r in found if r is not None and r.get("eval") == eval_key
                and r["row"].arch == arch and r["row"].dataset == dataset
                and r["row"].mode in chosen and r["row"].lam == chosen[r["row"].mode][0]]
        order = [m.name for m in cfg.modes]
        rows += sorted(good, key=lambda r: (order.index(r.mode) if r.mode in order
                                            else len(order), r.seed))
        if len(good) < len(cfg.modes) * len(cfg.plan(dataset).seeds):
            pending.append(f"{dataset}/{arch}")
    return rows, pending


def run_architectures(
    cfg: ArchitecturesConfig, out: str | Path, *, device: str = "auto", progress: bool = True,
    records: str | Path | None = None, workers: int = 1, shard: Shard = WHOLE,
    report_only: bool = False,
) -> Path:
    """Run (or resume) the study into ``out``; returns the path of ``architectures.md``.

    Args:
        cfg: the protocol.
        out: run folders and evaluation caches (``out/DATASET/ARCH``) and the report.
        device: ``auto | cpu | cuda | cuda:N``.
        progress: progress bars.
        records: folder of the per-model records (default ``out/records``); the committed study
            uses ``docs/results/architectures/records``.
        workers: tasks run at a time (processes, ``cpu_count // workers`` threads each), in
            two passes: one task per unit for its selection and first-seed final models, then
            one task per final model of the further seeds (so that a unit of slow models does
            not keep the other workers idle at the end). Every model is seeded on its own, so
            its record does not depend on the schedule.
        shard: this job's share of the units, every ``shard.count``-th from ``shard.index``.
        report_only: train nothing; write the (interim) report from the records found.

    Raises:
        ValueError: on a bad device or ``workers``, or records of another recipe.
    """
    out = Path(out)
    records = Path(records) if records is not None else out / "records"
    resolve_device(device)
    units = cfg.units()
    todo = [] if report_only else [i for i in range(len(units)) if i % shard.count == shard.index]
    results: list[list[str]] = []
    # every unit's first seed before any unit's further seeds, so that the whole grid is
    # covered early; the second pass starts when the first has ended (it reuses the selection)
    modes = tuple(m.name for m in cfg.modes)
    first = [(cfg, i, out, records, device, cfg.plan(units[i][0]).seeds[:1], modes)
             for i in todo]
    further = [(cfg, i, out, records, device, (seed,), (mode,)) for i in todo
               for seed in cfg.plan(units[i][0]).seeds[1:] for mode in modes]
    for calls, desc, unit in ((first, "architectures (first seed)", "unit"),
                              (further, "architectures (further seeds)", "model")):
        results += run_tasks(unit_task, calls, workers=workers, progress=progress, desc=desc,
                             unit=unit)
    rows, pending = finished_rows(cfg, records)
    return write_report(cfg, out, rows, sorted({n for found in results for n in found}),
                        pending=pending)


__all__ = ["FINAL_FORMAT", "SELECT_FORMAT", "finished_rows", "run_architectures", "selection",
           "unit_task"]
