"""``seqrobust reproduce datasets``: real sequential data × training mode, one results table.

For each aeon dataset (speech: JapaneseVowels; motion: BasicMotions; univariate series:
GunPoint, ItalyPowerDemand) and each training mode (plain, Jacobian, Hessian regularised), a
small LSTM is trained and evaluated on the test split:

- clean accuracy, and PGD (L∞, nested ε-sweep) robust accuracy at two ε, in units of the
  training standard deviation (the data are standardised per channel with training statistics),
  with the black-box Square attack at the same ε as the gradient-masking check;
- on the first ``n_analyze`` test inputs, ``seqrobust analyze``: median Theorem-1 lower bound
  (theory.md E2, multi-class minimum), median measured minimal L2 distance (best of DeepFool and
  FMN), the bracketing fraction ``lower ≤ measured ≤ upper``, median top curvature ``v``, the
  Spearman correlation of ``v`` with the measured distance, and two unit-free figures: the
  median of ``v·t/|J|²`` (0 = linear margin; theory.md E4's expansion parameter) and of the
  linear estimate ``t/|J|`` over the measured distance;
- training time (the run's own clock, excluding evaluation).

**λ rule** (per dataset and mode, simple and stated in the table): train each of the two
candidates in :attr:`GridConfig.lams`; keep the *largest* whose clean training accuracy is
within :attr:`GridConfig.tolerance` (2 points) of the plain model's, else the smallest.

Everything is cached under ``OUT/runs/``: finished trainings, curves and analyses are reused, so
an interrupted grid resumes where it stopped (a curve only with the same settings, weights and
data: its cache records their SHA-256; an analysis as ``seqrobust analyze`` resumes). Every
file is written inside ``OUT``, never through a symlink; the table
(:mod:`seqrobust.studies.datasets_table`) lists the weights and data SHA-256 of every cell.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from seqrobust._safeio import read_text
from seqrobust.measure.analyze_summary import parse_table
from seqrobust.measure.robustness import AttackSettings, RobustnessCurve, robustness_curve
from seqrobust.runs.analyze import AnalyzeConfig, run_analyze
from seqrobust.runs.load import ModelSource, load_run_data, load_source
from seqrobust.runs.shards import write_json_atomic
from seqrobust.studies.datasets_table import COLUMNS, format_table, write_table
from seqrobust.training import TrainConfig, accuracy, ensure_trained

DATASETS = ("JapaneseVowels", "BasicMotions", "GunPoint", "ItalyPowerDemand")
MODES = ("plain", "jacobian", "hessian")


@dataclass(frozen=True)
class GridConfig:
    """What the grid trains and measures (defaults: the full grid, ≈ 20 CPU minutes)."""

    datasets: tuple[str, ...] = DATASETS
    modes: tuple[str, ...] = MODES
    epochs: dict[str, int] = field(default_factory=lambda: {
        "JapaneseVowels": 30, "BasicMotions": 100, "GunPoint": 300, "ItalyPowerDemand": 100})
    """Training epochs per dataset (other datasets: :attr:`default_epochs`)."""
    default_epochs: int = 50
    cell: str = "lstm"
    hidden: int = 64
    layers: int = 1
    batch_size: int = 16
    lr: float = 2e-3
    lams: dict[str, tuple[float, ...]] = field(default_factory=lambda: {
        "jacobian": (0.1, 1.0), "hessian": (0.1, 1.0)})
    """λ candidates per regularised mode (see the λ rule in the module docstring)."""
    tolerance: float = 0.02
    """Largest drop of clean training accuracy below plain that a λ may cost."""
    eps: tuple[float, float] = (0.1, 0.25)
    """The two PGD radii (L∞, training standard deviations)."""
    eps_by_dataset: dict[str, tuple[float, float]] = field(default_factory=dict)
    """Other radii for some datasets."""
    pgd_steps: int = 30
    square_queries: int = 1000
    """Queries of the black-box Square attack (0: skip it)."""
    n_attack: int | None = None
    """Test inputs attacked (``None``: all)."""
    n_analyze: int = 100
    """Test inputs analysed (the first ones)."""
    lanczos_iters: int = 30
    fmn_steps: int = 100
    seed: int = 0
    device: str = "cpu"

    @classmethod
    def quick(cls) -> GridConfig:
        """A few-minute version: fewer epochs, inputs and candidates."""
        return cls(
            epochs={name: 10 for name in DATASETS}, default_epochs=10,
            lams={"jacobian": (0.1,), "hessian": (0.1,)}, n_attack=100, n_analyze=10,
            lanczos_iters=15, fmn_steps=30,
        )

    def radii(self, dataset: str) -> tuple[float, float]:
        """The two PGD radii of ``dataset``."""
        return self.eps_by_dataset.get(dataset, self.eps)

    def train_config(self, dataset: str, reg: str = "none", lam: float = 0.0) -> TrainConfig:
        """The training configuration of one cell."""
        return TrainConfig(
            dataset=dataset, cell=self.cell, layers=self.layers, hidden=self.hidden,
            epochs=self.epochs.get(dataset, self.default_epochs), batch_size=self.batch_size,
            lr=self.lr, seed=self.seed, reg=reg, lam=lam, log_every=1000, device=self.device,
        )


def _run_name(dataset: str, reg: str, lam: float) -> str:
    return f"{dataset}-plain" if reg == "none" else f"{dataset}-{reg}-lam{lam:g}"


def trained_run(cfg: TrainConfig, folder: Path, *, progress: bool = False) -> dict[str, Any]:
    """Train ``cfg`` into ``folder`` unless finished (an interrupted run resumes).

    Returns:
        ``{"run", "train_seconds", "train_cpu_seconds", "train_accuracy"}``: the run's own
        wall clock (training only), the CPU time of this process while training (NaN when
        resumed or reused; the machine is shared, so CPU time is the steadier figure) and the
        clean accuracy on the full training split (cached in ``folder/grid.json``).

    Raises:
        ValueError: if ``folder`` holds a run with another configuration.
    """
    cache = folder / "grid.json"
    fresh = not (folder / "config.json").exists()
    started = time.process_time()
    ensure_trained(cfg, folder, progress=progress)  # checks a saved config, trains or resumes
    cpu = time.process_time() - started if fresh else math.nan
    if cache.exists():
        record: dict[str, Any] = json.loads(read_text(folder, cache.name))
        return {**record, "run": str(folder)}  # the folder itself, never a path read back
    meta = json.loads((folder / "model.json").read_text()).get("meta", {})
    model, _, data = load_run_data(folder, split="train")
    record = {
        "run": str(folder),
        "train_seconds": float(meta.get("elapsed", math.nan)),
        "train_cpu_seconds": cpu,
        "train_accuracy": accuracy(model, data),
    }
    write_json_atomic(cache, record)
    return record


def choose_lam(plain_acc: float, candidates: dict[float, float], tolerance: float) -> float:
    """The λ rule: the largest candidate whose training accuracy is at least
    ``plain_acc - tolerance``, else the smallest candidate.

    Args:
        plain_acc: the plain model's clean training accuracy.
        candidates: ``{λ: training accuracy}``.
        tolerance: allowed drop (fraction).
    """
    ok = [lam for lam, acc in candidates.items() if acc >= plain_acc - tolerance]
    return max(ok) if ok else min(candidates)


def attack_curve(
    run: Path, grid: GridConfig, eps: tuple[float, float], attack: str = "pgd"
) -> tuple[RobustnessCurve, dict[str, Any]]:
    """The ``pgd`` or ``square`` curve of ``run`` at ``eps`` and its provenance (cached in
    ``run/grid-ATTACK.json``, reused only with the same settings, weights and data). PGD: step
    ``max(eps) / 15`` (:func:`~seqrobust.runs.attack.default_alpha`); Square: the black-box
    check for gradient masking, ``grid.square_queries`` queries."""
    name = f"grid-{attack}.json"
    settings = AttackSettings(attack=attack, alpha=max(eps) / 15.0, steps=grid.pgd_steps,
                              queries=grid.square_queries, seed=grid.seed)
    loaded = load_source(ModelSource(run=run), split="test", limit=grid.n_attack)
    identity = ("weights_sha256", "data_tensors_sha256")
    key = {k: loaded.provenance.get(k) for k in identity}
    if (run / name).exists():
        record = json.loads(read_text(run, name))
        if isinstance(record, dict) and "curve" in record and {
                k: record.get("provenance", {}).get(k) for k in identity} == key:
            cached = RobustnessCurve.from_json(record["curve"])
            if cached.settings == settings and cached.eps == tuple(sorted(eps)) and (
                    cached.n == len(loaded.data)):
                return cached, loaded.provenance
    curve = robustness_curve(loaded.model, loaded.data, settings=settings, eps=eps,
                             label=run.name)
    write_json_atomic(run / name, {"curve": curve.to_json(), "provenance": loaded.provenance})
    return curve, loaded.provenance


def analysis(run: Path, grid: GridConfig) -> dict[str, Any]:
    """Theorem-1 figures of ``run`` on its first ``grid.n_analyze`` test inputs (resumable)."""
    available = len(load_run_data(run, split="test", limit=grid.n_analyze)[2])
    cfg = AnalyzeConfig(
        n=min(grid.n_analyze, available), batch_size=50, lanczos_iters=grid.lanczos_iters,
        fmn_steps=grid.fmn_steps, profile_n=0, seed=grid.seed, device=grid.device,
    )
    summary = run_analyze(run, run / "grid-analyze", cfg, progress=False, plots=False)
    rows = parse_table(read_text(run / "grid-analyze", "rows.csv"))
    hit = np.isfinite(rows["measured"])
    spearman = (summary.get("spearman_with_measured") or {}).get("v") or {}
    return {
        "analysed": int(hit.size),
        "attacked": int(hit.sum()),
        "median_lower": float(np.median(rows["lower"][hit])) if hit.any() else math.nan,
        "median_measured": float(np.median(rows["measured"][hit])) if hit.any() else math.nan,
        "bracket": summary["bracket"]["lower_le_measured_le_upper"],
        "lower_le_measured": summary["bracket"]["lower_le_measured"],
        "median_v": float(np.median(rows["v"])),
        "median_vt_over_j2": float(np.median(rows["v"] * rows["t"] / rows["j_norm"] ** 2)),
        "median_linear_over_measured": float(np.median(
            (rows["t"] / rows["j_norm"])[hit] / rows["measured"][hit])) if hit.any() else math.nan,
        "spearman_v": spearman.get("rho", math.nan),
    }


def run_grid(grid: GridConfig, out: str | Path, *, progress: bool = True) -> list[dict[str, Any]]:
    """Train, attack and analyse every dataset × mode; write ``table.md`` and ``table.csv``.

    Returns:
        One row per cell (the CSV's columns).
    """
    out = Path(out)
    (out / "runs").mkdir(parents=True, exist_ok=True)
    write_json_atomic(out / "grid.json", asdict(grid))
    rows = []
    cells = [(d, m) for d in grid.datasets for m in grid.modes]
    for dataset, mode in tqdm(cells, desc="datasets grid", disable=not progress):
        plain_dir = out / "runs" / _run_name(dataset, "none", 0)
        plain = trained_run(grid.train_config(dataset), plain_dir)
        lam, record, tried = 0.0, plain, {}
        if mode != "plain":
            for cand in grid.lams[mode]:
                folder = out / "runs" / _run_name(dataset, mode, cand)
                tried[cand] = trained_run(grid.train_config(dataset, mode, cand), folder)
            lam = choose_lam(plain["train_accuracy"],
                             {c: r["train_accuracy"] for c, r in tried.items()}, grid.tolerance)
            record = tried[lam]
        run = Path(record["run"])
        curve, provenance = attack_curve(run, grid, grid.radii(dataset))
        square = attack_curve(run, grid, grid.radii(dataset), "square")[0] if (
            grid.square_queries) else None
        rows.append({
            "dataset": dataset, "mode": mode, "lam": lam, "clean_acc": curve.clean_accuracy,
            "pgd_acc_eps1": curve.accuracy[0], "pgd_acc_eps2": curve.accuracy[1],
            "eps1": curve.eps[0], "eps2": curve.eps[1],
            "square_acc_eps1": square.accuracy[0] if square else math.nan,
            "square_acc_eps2": square.accuracy[1] if square else math.nan,
            **analysis(run, grid),
            "train_seconds": record["train_seconds"],
            "train_cpu_seconds": record.get("train_cpu_seconds", math.nan),
            "train_acc": record["train_accuracy"],
            "lam_candidates": " ".join(f"{c:g}:{100 * r['train_accuracy']:.1f}"
                                       for c, r in tried.items()),
            "weights_sha256": provenance["weights_sha256"],
            "data_sha256": provenance["data_tensors_sha256"],
        })
        write_table(rows, out)
    return rows


def quick_or_full(quick: bool, **overrides: Any) -> GridConfig:
    """:meth:`GridConfig.quick` or the default grid, with ``overrides`` applied."""
    grid = GridConfig.quick() if quick else GridConfig()
    return replace(grid, **overrides) if overrides else grid


__all__ = [
    "COLUMNS",
    "DATASETS",
    "MODES",
    "GridConfig",
    "choose_lam",
    "format_table",
    "quick_or_full",
    "run_grid",
    "trained_run",
    "write_table",
]
