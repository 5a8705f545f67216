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
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from seqrobust.attacks import MissingDependencyError
from seqrobust.data.registry import load_dataset
from seqrobust.experiments.frontier_eval import curvature_summary, curve_area, worst_case_accuracy
from seqrobust.experiments.frontier_table import FrontierRow
from seqrobust.experiments.robustness import AttackSettings, RobustnessCurve, robustness_curve
from seqrobust.experiments.shards import write_json_atomic
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


HESSIAN_GRID = (1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1)
"""Hessian λ grid: at 3 epochs λ = 1e-6 still doubled plain's robust accuracy at ε = 16 and
λ = 1e-1 cost ~6 points after one epoch (docs/design measurements)."""
DEFAULT_METHODS = (
    Method("plain"),
    Method("hessian-fd", "hessian", "fd", HESSIAN_GRID),
    Method("hessian-hutchinson", "hessian", "hutchinson", HESSIAN_GRID),
    Method("jacobian", "jacobian", "fd", (1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0)),
    Method("cure", "cure", "fd", (1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0)),
    Method("pgd-at", "pgd-at", "fd", (1e-2, 1e-1, 1.0, 10.0, 100.0)),
)


@dataclass(frozen=True)
class FrontierConfig:
    """The study; the defaults are the full run (full MNIST, 10 epochs, 3 seeds, 30 models
    per seed).

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
    n_test: int = 2000
    alpha: float = 2.0
    steps: int = 30
    restarts: int = 1
    check_eps: tuple[float, ...] = (8.0, 16.0)
    check_n: int = 1000
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


def run_frontier(
    cfg: FrontierConfig, out: str | Path, *, device: str = "auto", progress: bool = True
) -> Path:
    """Run (or resume) the study into ``out``; returns the path of ``frontier.md``.

    Raises:
        ValueError: on a bad device or an ``out`` holding runs of another configuration.
    """
    from seqrobust.experiments.frontier_report import write_report

    out = Path(out)
    dev = resolve_device(device)
    rows: list[FrontierRow] = []
    notes: set[str] = set()
    models = cfg.models()
    for method, lam, seed in tqdm(models, desc="frontier", unit="model", disable=not progress):
        name = run_name(method, lam, seed)
        ensure_trained(cfg.train_config(method, lam, seed, device), out / "runs" / name,
               progress=progress)
        rows.append(_evaluate(cfg, method, lam, seed, out / "runs" / name,
                              out / "evals" / name, dev, progress, notes))
    return write_report(cfg, out, rows, sorted(notes))


__all__ = ["DEFAULT_METHODS", "FrontierConfig", "Method", "run_frontier", "run_name"]
