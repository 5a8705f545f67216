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
an interrupted grid resumes where it stopped.
"""

from __future__ import annotations

import csv
import json
import math
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from seqrobust.measure.analyze_summary import read_table
from seqrobust.measure.robustness import AttackSettings, RobustnessCurve, robustness_curve
from seqrobust.runs.analyze import AnalyzeConfig, run_analyze
from seqrobust.runs.load import load_run_data
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
        record: dict[str, Any] = json.loads(cache.read_text())
        return record
    meta = json.loads((folder / "model.json").read_text()).get("meta", {})
    model, _, data = load_run_data(folder, split="train")
    record = {
        "run": str(folder),
        "train_seconds": float(meta.get("elapsed", math.nan)),
        "train_cpu_seconds": cpu,
        "train_accuracy": accuracy(model, data),
    }
    cache.write_text(json.dumps(record, indent=1) + "\n")
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
) -> RobustnessCurve:
    """The ``pgd`` or ``square`` curve of ``run`` at ``eps`` (cached in
    ``run/grid-ATTACK.json``). PGD: step ``max(eps) / 15``
    (:func:`~seqrobust.runs.attack.default_alpha`); Square: the black-box check for
    gradient masking, ``grid.square_queries`` queries."""
    path = run / f"grid-{attack}.json"
    settings = AttackSettings(attack=attack, alpha=max(eps) / 15.0, steps=grid.pgd_steps,
                              queries=grid.square_queries, seed=grid.seed)
    model, _, data = load_run_data(run, split="test", limit=grid.n_attack)
    if path.exists():
        cached = RobustnessCurve.from_json(json.loads(path.read_text()))
        if cached.settings == settings and cached.eps == tuple(sorted(eps)) and (
                cached.n == len(data)):
            return cached
    curve = robustness_curve(model, data, settings=settings, eps=eps, label=run.name)
    path.write_text(json.dumps(curve.to_json(), indent=1) + "\n")
    return curve


def analysis(run: Path, grid: GridConfig) -> dict[str, Any]:
    """Theorem-1 figures of ``run`` on its first ``grid.n_analyze`` test inputs (resumable)."""
    cfg = AnalyzeConfig(
        n=grid.n_analyze, batch_size=50, lanczos_iters=grid.lanczos_iters,
        fmn_steps=grid.fmn_steps, profile_n=0, seed=grid.seed, device=grid.device,
    )
    summary = run_analyze(run, run / "grid-analyze", cfg, progress=False, plots=False)
    rows = read_table(run / "grid-analyze" / "rows.csv")
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


COLUMNS = (
    "dataset", "mode", "lam", "clean_acc", "pgd_acc_eps1", "pgd_acc_eps2", "eps1", "eps2",
    "square_acc_eps1", "square_acc_eps2",
    "median_lower", "median_measured", "bracket", "lower_le_measured", "median_v", "spearman_v",
    "median_vt_over_j2", "median_linear_over_measured", "analysed", "attacked", "train_seconds",
    "train_cpu_seconds", "train_acc", "lam_candidates",
)  # fmt: skip


def run_grid(grid: GridConfig, out: str | Path, *, progress: bool = True) -> list[dict[str, Any]]:
    """Train, attack and analyse every dataset × mode; write ``table.md`` and ``table.csv``.

    Returns:
        One row per cell (the CSV's columns).
    """
    out = Path(out)
    (out / "runs").mkdir(parents=True, exist_ok=True)
    (out / "grid.json").write_text(json.dumps(asdict(grid), indent=1) + "\n")
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
        curve = attack_curve(run, grid, grid.radii(dataset))
        square = attack_curve(run, grid, grid.radii(dataset), "square") if (
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
        })
        write_table(rows, out)
    return rows


def write_table(rows: list[dict[str, Any]], out: Path) -> None:
    """Write ``table.csv`` (every column) and ``table.md`` (the readable subset)."""
    with open(out / "table.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(COLUMNS))
        writer.writeheader()
        writer.writerows(rows)
    (out / "table.md").write_text(format_table(rows) + "\n")


def _num(value: float | None, fmt: str, scale: float = 1.0) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    return format(scale * value, fmt)


def format_table(rows: list[dict[str, Any]]) -> str:
    """The Markdown results table: accuracies in %, ε and distances in training standard
    deviations (ε L∞, distances L2), training time in CPU seconds (wall seconds when the CPU
    time was not measured, marked ``w``)."""
    if not rows:
        return ""
    lines = [
        "| dataset | mode | λ | clean % | ε₁, ε₂ | PGD ε₁ % | PGD ε₂ % | Square ε₁ % | "
        "Square ε₂ % | found / analysed | "
        "median lower | "
        "median measured | lower≤meas≤upper % | lower≤meas % | median v | median v·t/\\|J\\|² | "
        "Spearman(v, meas) | train CPU s |",
        "|" + "---|" * 18,
    ]
    for r in rows:
        cpu = r.get("train_cpu_seconds", math.nan)
        train_s = _num(cpu, ".0f") if math.isfinite(cpu) else _num(r["train_seconds"], ".0f") + "w"
        lines.append(
            f"| {r['dataset']} | {r['mode']} | {_num(r['lam'], 'g') if r['lam'] else '–'} | "
            f"{100 * r['clean_acc']:.1f} | {r['eps1']:g}, {r['eps2']:g} | "
            f"{100 * r['pgd_acc_eps1']:.1f} | {100 * r['pgd_acc_eps2']:.1f} | "
            f"{_num(r.get('square_acc_eps1'), '.1f', 100)} | "
            f"{_num(r.get('square_acc_eps2'), '.1f', 100)} | "
            f"{r.get('attacked', '?')} / {r['analysed']} | {_num(r['median_lower'], '.3f')} | "
            f"{_num(r['median_measured'], '.3f')} | "
            f"{_num(r['bracket'], '.0f', 100)} | {_num(r['lower_le_measured'], '.0f', 100)} | "
            f"{_num(r['median_v'], '.3g')} | {_num(r.get('median_vt_over_j2'), '.3g')} | "
            f"{_num(r['spearman_v'], '+.2f')} | {train_s} |"
        )
    return "\n".join(lines)


def quick_or_full(quick: bool, **overrides: Any) -> GridConfig:
    """:meth:`GridConfig.quick` or the default grid, with ``overrides`` applied."""
    grid = GridConfig.quick() if quick else GridConfig()
    return replace(grid, **overrides) if overrides else grid


__all__ = [
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
