"""The clean-accuracy vs robustness frontier of every training mode over λ grids and seeds
(issue 10): does Hessian regularisation beat plain training and Jacobian regularisation at
matched clean accuracy?

Protocol (:class:`FrontierConfig`):

1. For every seed, train plain and every method at every λ of its grid with the shared recipe
   (:class:`~seqrobust.training.TrainConfig`; the same epochs, hidden size and ``reg_fraction``
   for all).
2. Evaluate each model: clean accuracy on the full test set; the nested L∞ PGD sweep over
   ``eps`` on the first ``n_test`` test inputs and its normalised area
   (:func:`~seqrobust.experiments.frontier_eval.curve_area`); APGD-CE, APGD-DLR and Square at
   ``check_eps`` on the first ``check_n`` inputs, the reported robust accuracy being the worst
   case over all attacks per input (:func:`~seqrobust.experiments.frontier_eval.survivors`);
   mean test ‖H‖_F² and |J| on the first ``curv_n`` inputs.
3. Write ``frontier.csv`` (one row per model), ``frontier.md`` (seed-aggregated table and the
   verdict of :mod:`~seqrobust.experiments.frontier_table`) and ``frontier.png``.

Resumable: each model is a run folder ``OUT/runs/NAME`` (a finished one is reused, a killed one
resumes from its last checkpoint) and each evaluation a JSON file ``OUT/evals/NAME/*.json``
keyed by its settings and a hash of the weights.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from seqrobust.attacks import MissingDependencyError
from seqrobust.data.registry import load_dataset
from seqrobust.experiments.frontier_eval import curvature_summary, curve_area, worst_case_accuracy
from seqrobust.experiments.frontier_records import differing, read_record, write_record
from seqrobust.experiments.frontier_table import FrontierRow
from seqrobust.experiments.robustness import AttackSettings, RobustnessCurve, robustness_curve
from seqrobust.experiments.shards import WHOLE, Shard, write_json_atomic
from seqrobust.training import TrainConfig, accuracy, ensure_trained, load_model
from seqrobust.training.run import resolve_device

CHECK_ATTACKS = ("apgd-ce", "apgd-dlr", "square")


@dataclass(frozen=True)
class Method:
    """A training mode and its λ grid (``reg="none"``: plain, λ ignored)."""

    name: str
    reg: str = "none"
    estimator: str = "fd"
    lams: tuple[float, ...] = (0.0,)


HESSIAN_GRID = (1e-8, 1e-6, 1e-4, 1e-3, 1e-2, 1e-1)
"""Hessian λ grid: at 3 epochs λ = 1e-6 still doubled plain's robust accuracy at ε = 16, so the
grid starts two decades lower; λ = 1e-2 cost 0.9 points at 10 epochs (Figure 7) and λ = 1e-1
about 6 after one epoch (docs/design measurements)."""
HUTCHINSON = Method("hessian-hutchinson", "hessian", "hutchinson", HESSIAN_GRID)
"""The alternative Hessian estimator; not in the default study (issue 17 trims it)."""
DEFAULT_METHODS = (
    Method("plain"),
    Method("hessian-fd", "hessian", "fd", HESSIAN_GRID),
    Method("jacobian", "jacobian", "fd", (1e-5, 1e-4, 1e-3, 1e-2, 3e-2, 1e-1)),
    Method("cure", "cure", "fd", (1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0)),
    Method("pgd-at", "pgd-at", "fd", (1e-2, 1e-1, 1.0, 10.0, 100.0)),
)
"""The default study: plain and the four defences over 5-6 λ each, 24 models per seed."""


@dataclass(frozen=True)
class FrontierConfig:
    """The study; the defaults are the full run (full MNIST, 10 epochs, 3 seeds, 24 models
    per seed: 72 models).

    Attributes:
        dataset: training/test data; epochs, hidden: shared recipe (2-layer tanh RNN).
        seeds: training seeds (each also seeds the model's attacks and curvature probes).
        methods: modes and λ grids; ``reference`` is the Hessian method the claim is about,
            ``baselines`` the methods it must beat.
        reg_fraction: fraction of each batch every regulariser (and PGD-AT) sees.
        at_eps, at_steps: PGD-AT radius (pixels) and steps; also CURE's FGSM radius.
        train_limit: first N training examples only (smoke tests).
        eps, n_test, alpha, steps, restarts: the PGD curve (pixels; the poster's PGD-30).
        check_eps, check_n, apgd_steps, square_queries: the APGD/Square worst-case check.
        curv_n, curv_probes: inputs and probes of mean ‖H‖_F² and |J|.
        headline_eps: the ε of the frontier plot and the verdict.
        key_eps: PGD radii reported in the tables.
        match_tol: clean-accuracy tolerance of the verdict (fraction); confidence: the level of
            its two-sided Welch t-test over seeds.
        batch_size: inputs per attack call.
    """

    dataset: str = "mnist"
    epochs: int = 10
    hidden: int = 128
    seeds: tuple[int, ...] = (0, 1, 2)
    methods: tuple[Method, ...] = DEFAULT_METHODS
    reference: str = "hessian-fd"
    baselines: tuple[str, ...] = ("plain", "jacobian")
    reg_fraction: float = 0.25
    at_eps: float = 8.0
    at_steps: int = 7
    train_limit: int | None = None
    eps: tuple[float, ...] = tuple(float(e) for e in range(1, 31))
    n_test: int = 1000
    alpha: float = 2.0
    steps: int = 30
    restarts: int = 1
    check_eps: tuple[float, ...] = (8.0, 16.0)
    check_n: int = 500
    apgd_steps: int = 100
    square_queries: int = 1000
    curv_n: int = 500
    curv_probes: int = 1
    headline_eps: float = 16.0
    key_eps: tuple[float, ...] = (2.0, 4.0, 8.0, 16.0, 30.0)
    match_tol: float = 0.01
    confidence: float = 0.95
    batch_size: int = 1000

    def __post_init__(self) -> None:
        names = [m.name for m in self.methods]
        if "plain" not in names or len(set(names)) != len(names):
            raise ValueError("methods need unique names and a 'plain' method")
        for name in (self.reference, *self.baselines):
            if name not in names:
                raise ValueError(f"unknown method {name!r} in reference/baselines")
        for e in (self.headline_eps, *self.check_eps):
            if e not in self.eps:
                raise ValueError(f"headline/check ε {e:g} is not on the PGD eps grid")
        if not self.seeds:
            raise ValueError("seeds must not be empty")

    @classmethod
    def quick(cls) -> FrontierConfig:
        """A CPU version of about 10-15 minutes: the 2,000-image ``mnist-subset``, hidden 64,
        20 epochs, 2 seeds, 3 λ per method, 7 radii on 300 inputs (it settles nothing about
        the poster)."""
        return cls(
            dataset="mnist-subset", epochs=20, hidden=64, seeds=(0, 1),
            methods=(
                Method("plain"),
                Method("hessian-fd", "hessian", "fd", (1e-4, 1e-3, 1e-2)),
                Method("hessian-hutchinson", "hessian", "hutchinson", (1e-4, 1e-3, 1e-2)),
                Method("jacobian", "jacobian", "fd", (1e-3, 1e-2, 1e-1)),
                Method("cure", "cure", "fd", (1e-2, 1e-1, 1.0)),
                Method("pgd-at", "pgd-at", "fd", (1e-1, 1.0, 10.0)),
            ),
            at_steps=3, eps=(2.0, 4.0, 8.0, 12.0, 16.0, 24.0, 30.0), n_test=300,
            check_n=100, apgd_steps=10, square_queries=100, curv_n=100,
        )

    def train_config(self, method: Method, lam: float, seed: int, device: str) -> TrainConfig:
        """The shared recipe for ``method`` at weight ``lam``."""
        plain = method.reg == "none"
        return TrainConfig(
            dataset=self.dataset, hidden=self.hidden, epochs=self.epochs, seed=seed,
            reg=method.reg, lam=0.0 if plain else lam, estimator=method.estimator,
            at_eps=self.at_eps, at_steps=self.at_steps, train_limit=self.train_limit,
            reg_fraction=1.0 if plain else self.reg_fraction, device=device,
        )

    def eval_key(self) -> dict[str, Any]:
        """The settings a model's measurements depend on (JSON-normalised)."""
        names = ("eps", "n_test", "alpha", "steps", "restarts", "check_eps", "check_n",
                 "apgd_steps", "square_queries", "curv_n", "curv_probes", "batch_size")
        return json.loads(json.dumps({k: getattr(self, k) for k in names}))

    def models(self) -> list[tuple[Method, float, int]]:
        """Every (method, λ, seed) of the study, seed by seed."""
        return [(m, lam, s) for s in self.seeds for m in self.methods
                for lam in (m.lams if m.reg != "none" else (0.0,))]


def run_name(method: Method, lam: float, seed: int) -> str:
    """The model's folder name, e.g. ``hessian-fd-lam0.001-s0`` or ``plain-s1``."""
    return f"{method.name}-s{seed}" if method.reg == "none" else f"{method.name}-lam{lam:g}-s{seed}"


def _weights_hash(run_dir: Path) -> str:
    return hashlib.sha256((run_dir / "model.safetensors").read_bytes()).hexdigest()[:16]


def _cached(path: Path, key: dict[str, Any], compute: Callable[[], Any]) -> Any:
    """The ``value`` stored in ``path`` under the same ``key``, else ``compute()`` (stored)."""
    if path.exists():
        record = json.loads(path.read_text())
        if record.get("key") == key:
            return record["value"]
    value = compute()
    write_json_atomic(path, {"key": key, "value": value})
    return value


def _evaluate(
    cfg: FrontierConfig, method: Method, lam: float, seed: int, run_dir: Path, evals: Path,
    device: torch.device, progress: bool, notes: set[str],
) -> FrontierRow:
    """Every measurement of one trained model (each cached on its own)."""
    model, tcfg = load_model(run_dir, device=device)
    weights = _weights_hash(run_dir)

    def test(n: int | None) -> Any:
        return load_dataset(tcfg.dataset, split="test", root=tcfg.data_root, limit=n)

    clean = _cached(evals / "clean.json", {"weights": weights, "dataset": tcfg.dataset},
                    lambda: accuracy(model, test(None), device=device))

    def curve(settings: AttackSettings, eps: tuple[float, ...], n: int) -> RobustnessCurve:
        key = {"weights": weights, "settings": asdict(settings), "eps": sorted(eps), "n": n}
        return RobustnessCurve.from_json(_cached(
            evals / f"{settings.attack}.json", key,
            lambda: robustness_curve(model, test(n), settings=settings, eps=eps,
                                     batch_size=cfg.batch_size, label=run_dir.name,
                                     progress=progress).to_json()))

    pgd = curve(AttackSettings(attack="pgd", alpha=cfg.alpha, steps=cfg.steps,
                               restarts=cfg.restarts, seed=seed), cfg.eps, cfg.n_test)
    checks = []
    for attack in CHECK_ATTACKS:
        settings = AttackSettings(attack=attack, steps=cfg.apgd_steps,
                                  queries=cfg.square_queries, seed=seed)
        try:
            checks.append(curve(settings, cfg.check_eps, cfg.check_n))
        except MissingDependencyError as exc:
            notes.add(f"{attack} skipped: {exc}")
    curv_key = {"weights": weights, "n": cfg.curv_n, "probes": cfg.curv_probes, "seed": seed}
    curv = _cached(evals / "curvature.json", curv_key, lambda: asdict(curvature_summary(
        model, test(cfg.curv_n), probes=cfg.curv_probes, seed=seed)))
    meta = json.loads((run_dir / "model.json").read_text())["meta"]
    worst: tuple[tuple[float, float], ...] = ()
    pgd_check: tuple[tuple[float, float], ...] = ()
    if checks:
        worst = tuple((e, worst_case_accuracy([pgd, *checks], e)) for e in cfg.check_eps)
        head = pgd.head(min(c.n for c in checks))
        pgd_check = tuple((e, head.at(e)) for e in cfg.check_eps if e in pgd.eps)
    return FrontierRow(
        method=method.name, estimator=method.estimator if method.reg == "hessian" else "",
        lam=lam, seed=seed, clean=float(clean), pgd=tuple(zip(pgd.eps, pgd.accuracy, strict=True)),
        worst=worst, pgd_check=pgd_check, auc=curve_area(pgd), mean_r=curv["mean_r"],
        median_r=curv["median_r"], mean_j=curv["mean_j"], train_seconds=float(meta["elapsed"]),
        attack_seconds=pgd.seconds + sum(c.seconds for c in checks), n_pgd=pgd.n,
        n_check=min((c.n for c in checks), default=0),
    )


def _train_key(tcfg: TrainConfig | dict[str, Any]) -> dict[str, Any]:
    """A model's identity: its training config without the device. A recorded config (dict)
    gets today's defaults for fields added since it was written, so records stay valid when
    :class:`TrainConfig` grows a field whose default keeps the old behaviour."""
    current = TrainConfig().to_json() if isinstance(tcfg, dict) else tcfg.to_json()
    data = {**current, **tcfg} if isinstance(tcfg, dict) else current
    return {k: v for k, v in json.loads(json.dumps(data)).items() if k != "device"}


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
    train_key, eval_key = _train_key(tcfg), cfg.eval_key()
    path = records / f"{name}.json"
    record = read_record(path)
    if record is not None:
        diff = differing(_train_key(record["train"]), train_key)
        if diff:
            raise ValueError(f"{path} holds a model of another recipe (differs in "
                             f"{', '.join(diff)}); use another --records folder")
        if record["eval"] == eval_key:
            return record["row"], []
    cpu0, wall0 = time.process_time(), time.perf_counter()
    run_dir = out / "runs" / name
    ensure_trained(tcfg, run_dir, progress=progress)
    notes: set[str] = set()
    row = _evaluate(cfg, method, lam, seed, run_dir, out / "evals" / name,
                    resolve_device(device), progress, notes)
    write_record(path, name=name, train=train_key, eval_key=eval_key, row=row,
                 weights_sha256=hashlib.sha256(
                     (run_dir / "model.safetensors").read_bytes()).hexdigest(),
                 cpu_seconds=time.process_time() - cpu0,
                 wall_seconds=time.perf_counter() - wall0,
                 finished=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                 torch=torch.__version__, device=str(resolve_device(device)))
    return row, sorted(notes)


def _worker_init(threads: int) -> None:
    torch.set_num_threads(threads)


def finished_rows(cfg: FrontierConfig, records: Path) -> dict[int, FrontierRow]:
    """The rows of every model of ``cfg`` whose record is in ``records`` with the same recipe
    and evaluation settings, by index in ``cfg.models()``."""
    rows: dict[int, FrontierRow] = {}
    eval_key = cfg.eval_key()
    for i, (method, lam, seed) in enumerate(cfg.models()):
        record = read_record(records / f"{run_name(method, lam, seed)}.json")
        train_key = _train_key(cfg.train_config(method, lam, seed, "cpu"))
        if (record is not None and _train_key(record["train"]) == train_key
                and record["eval"] == eval_key):
            rows[i] = record["row"]
    return rows


def run_frontier(
    cfg: FrontierConfig, out: str | Path, *, device: str = "auto", progress: bool = True,
    records: str | Path | None = None, workers: int = 1, shard: Shard = WHOLE,
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

    Raises:
        ValueError: on a bad device, ``workers < 1``, or an ``out``/``records`` folder holding
            models of another recipe.
    """
    from seqrobust.experiments.frontier_report import write_report

    out = Path(out)
    records = Path(records) if records is not None else out / "records"
    resolve_device(device)
    if not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    models = cfg.models()
    todo = [i for i in range(len(models)) if i % shard.count == shard.index]
    notes: set[str] = set()
    bar = tqdm(total=len(todo), desc="frontier", unit="model", disable=not progress)
    if workers == 1:
        for i in todo:
            notes.update(_model_task(cfg, i, out, records, device, progress)[1])
            bar.update()
    else:
        threads = max(1, (os.cpu_count() or 1) // workers)
        with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"),
                                 initializer=_worker_init, initargs=(threads,)) as pool:
            futures = [pool.submit(_model_task, cfg, i, out, records, device, False)
                       for i in todo]
            for future in as_completed(futures):
                notes.update(future.result()[1])
                bar.update()
    bar.close()
    rows = finished_rows(cfg, records)
    pending = [run_name(*models[i]) for i in range(len(models)) if i not in rows]
    return write_report(cfg, out, [rows[i] for i in sorted(rows)], sorted(notes),
                        pending=pending)


__all__ = [
    "DEFAULT_METHODS", "HUTCHINSON", "FrontierConfig", "Method", "finished_rows", "run_frontier",
    "run_name",
]
