"""The clean-accuracy vs robustness frontier of every training mode over λ grids and seeds
(issue 10): does Hessian regularisation beat plain training and Jacobian regularisation at
matched clean accuracy?

Protocol (:class:`FrontierConfig`):

1. For every seed, train plain and every method at every λ of its grid with the shared recipe
   (:class:`~seqrobust.training.TrainConfig`; the same epochs, hidden size and ``reg_fraction``
   for all).
2. Evaluate each model: clean accuracy on the full test set; the nested L∞ PGD sweep over
   ``eps`` on the first ``n_test`` test inputs and its normalised area
   (:func:`~seqrobust.measure.worst_case.curve_area`); APGD-CE, APGD-DLR and Square at
   ``check_eps`` on the first ``check_n`` inputs, the reported robust accuracy being the worst
   case over all attacks per input (:func:`~seqrobust.measure.worst_case.survivors`);
   mean test ‖H‖_F² and |J| on the first ``curv_n`` inputs.
3. Write ``frontier.csv`` (one row per model), ``frontier.md`` (seed-aggregated table and the
   verdict of :mod:`~seqrobust.studies.frontier.table`) and ``frontier.png``.

Resumable: each model is a run folder ``OUT/runs/NAME`` (a finished one is reused, a killed one
resumes from its last checkpoint) and each evaluation a JSON file ``OUT/evals/NAME/*.json``
keyed by its settings and a hash of the weights.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path

import torch

from seqrobust.runs.shards import WHOLE, Shard
from seqrobust.studies.frontier.config import FrontierConfig, run_name
from seqrobust.studies.frontier.evaluate import evaluate
from seqrobust.studies.frontier.records import read_record, write_record
from seqrobust.studies.frontier.report import write_report
from seqrobust.studies.frontier.table import FrontierRow
from seqrobust.studies.pool import run_tasks
from seqrobust.studies.records import differing, train_key, weights_hash
from seqrobust.training import ensure_trained
from seqrobust.training.run import resolve_device


def _model_task(
    cfg: FrontierConfig, index: int, out: Path, records: Path, device: str, progress: bool,
) -> tuple[FrontierRow, list[str]]:
    """Train (or reuse) and evaluate model ``index`` of ``cfg.models()``; write its record.

    A record of the same recipe and evaluation settings is reused as it is (nothing is loaded
    or trained); one of the same recipe with other evaluation settings is re-evaluated.

    Raises:
        ValueError: if the record holds a model of another recipe.
    """
    method, lam, seed = cfg.models()[index]
    name = run_name(method, lam, seed)
    tcfg = cfg.train_config(method, lam, seed, device)
    key, eval_key = train_key(tcfg), cfg.eval_key()
    path = records / f"{name}.json"
    record = read_record(path)
    if record is not None:
        diff = differing(train_key(record["train"]), key)
        if diff:
            raise ValueError(f"{path} holds a model of another recipe (differs in "
                             f"{', '.join(diff)}); use another --records folder")
        if record["eval"] == eval_key:
            return record["row"], []
    cpu0, wall0 = time.process_time(), time.perf_counter()
    run_dir = out / "runs" / name
    ensure_trained(tcfg, run_dir, progress=progress)
    notes: set[str] = set()
    row = evaluate(cfg, method, lam, seed, run_dir, out / "evals" / name,
                    resolve_device(device), progress, notes)
    write_record(path, name=name, train=key, eval_key=eval_key, row=row,
                 weights_sha256=weights_hash(run_dir),
                 cpu_seconds=time.process_time() - cpu0,
                 wall_seconds=time.perf_counter() - wall0,
                 finished=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                 torch=torch.__version__, device=str(resolve_device(device)))
    return row, sorted(notes)


def finished_rows(cfg: FrontierConfig, records: Path) -> dict[int, FrontierRow]:
    """The rows of every model of ``cfg`` whose record is in ``records`` with the same recipe
    and evaluation settings, by index in ``cfg.models()``."""
    rows: dict[int, FrontierRow] = {}
    eval_key = cfg.eval_key()
    for i, (method, lam, seed) in enumerate(cfg.models()):
        record = read_record(records / f"{run_name(method, lam, seed)}.json")
        key = train_key(cfg.train_config(method, lam, seed, "cpu"))
        if (record is not None and train_key(record["train"]) == key
                and record["eval"] == eval_key):
            rows[i] = record["row"]
    return rows


def run_frontier(
    cfg: FrontierConfig, out: str | Path, *, device: str = "auto", progress: bool = True,
    records: str | Path | None = None, workers: int = 1, shard: Shard = WHOLE,
    report_only: bool = False,
) -> Path:
    """Run (or resume) the study into ``out``; returns the path of ``frontier.md``.

    Args:
        cfg: the protocol.
        out: run folders (``out/runs``), evaluation caches (``out/evals``) and the report.
        device: ``auto | cpu | cuda | cuda:N``.
        progress: progress bars.
        records: folder of the per-model records (default ``out/records``); a model whose
            record is there is never retrained, so committing the records lets a fresh clone
            resume the study.
        workers: models trained and evaluated at a time (separate processes, each with
            ``cpu_count // workers`` threads).
        shard: this job's share, every ``shard.count``-th model from ``shard.index`` (a
            cluster's array job); the report covers every record found, finished or not.
        report_only: train and evaluate nothing; write the (interim) report from the records
            found.

    Raises:
        ValueError: on a bad device, ``workers < 1``, or an ``out``/``records`` folder holding
            models of another recipe.
    """
    out = Path(out)
    records = Path(records) if records is not None else out / "records"
    resolve_device(device)
    models = cfg.models()
    todo = [] if report_only else [i for i in range(len(models))
                                   if i % shard.count == shard.index]
    results = run_tasks(_model_task, [(cfg, i, out, records, device) for i in todo],
                        workers=workers, progress=progress, desc="frontier", unit="model")
    notes = {note for _, found in results for note in found}
    rows = finished_rows(cfg, records)
    pending = [run_name(*models[i]) for i in range(len(models)) if i not in rows]
    return write_report(cfg, out, [rows[i] for i in sorted(rows)], sorted(notes),
                        pending=pending)


__all__ = ["finished_rows", "run_frontier"]
