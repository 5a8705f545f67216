"""Plots for the random-noise study: Figure 5 (quadratic GOE classifier) and the trained-network
noise experiment. Takes plain records (dicts of lists); matplotlib runs with the Agg backend."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import FixedLocator, NullFormatter, ScalarFormatter  # noqa: E402

_FLOOR = 1e-9


def _clip(values: Sequence[float]) -> np.ndarray:
    return np.clip(np.asarray(values, dtype=np.float64), _FLOOR, None)


def plot_figure5(panels: Sequence[dict[str, Any]], path: Path) -> None:
    """One log-y panel per ``(d, mu)``: Monte Carlo with its 95 % interval, Theorem B with
    Imhof and Chernoff beta, the closed form (E16) and the exact ``W``-average, the poster's
    formula (dashed, not a bound), and vertical lines at the lower bound (E2) and ``r*``.

    Args:
        panels: records with the fields of :class:`seqrobust.studies.figure5.Panel`.
        path: PNG file to write.
    """
    dims = sorted({p["d"] for p in panels})
    cols = max(sum(p["d"] == d for p in panels) for d in dims)
    fig, axes = plt.subplots(
        len(dims), cols, figsize=(5.2 * cols, 4.2 * len(dims)), squeeze=False, sharex=True
    )
    for row, d in enumerate(dims):
        for col, p in enumerate([p for p in panels if p["d"] == d]):
            ax = axes[row][col]
            rho = np.asarray(p["rho"])
            p_hat = np.asarray(p["p_hat"])
            seen = p_hat > 0
            err = np.vstack([p_hat - np.asarray(p["ci_low"]), np.asarray(p["ci_high"]) - p_hat])
            ax.errorbar(rho[seen], p_hat[seen], yerr=err[:, seen], fmt="o", ms=3, color="k",
                        label="Monte Carlo, 95% Clopper–Pearson interval")
            ax.plot(rho, _clip(p["bound_imhof"]), color="C0", lw=2, label="Theorem B, Imhof β")
            ax.plot(rho, _clip(p["bound_chernoff"]), color="C1", lw=1.5,
                    label="Theorem B, Chernoff β")
            ax.plot(rho, _clip(p["closed_form"]), color="C2", lw=1.2, ls=":",
                    label="closed form (E16), W-avg")
            ax.plot(rho, _clip(p["p_avg"]), color="C2", lw=0.8, alpha=0.6,
                    label="exact W-average P")
            ax.plot(rho, _clip(p["poster"]), color="C3", lw=1.2, ls="--",
                    label="poster formula at the same κ, β — not a bound")
            ax.axvline(p["r_lower"], color="0.5", ls=":", lw=1, label="lower bound (E2)")
            ax.axvline(p["r_star"], color="0.2", ls="-.", lw=1, label="exact distance r*")
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_ylim(_FLOOR, 2.0)
            ax.set_title(f"d = {d}, μ = {p['mu']:+.3f}, N = {p['n']:,} directions", fontsize=10)
            ax.grid(True, which="major", alpha=0.3)
            if row == len(dims) - 1:
                ax.set_xlabel("noise radius ρ  (units of t/|J|)")
            if col == 0:
                ax.set_ylabel("P(misclassified)")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=4, fontsize=9, frameon=False)
    fig.suptitle("Probability of misclassification under random noise: quadratic GOE classifier")
    fig.subplots_adjust(left=0.06, right=0.99, top=0.92, bottom=0.17, wspace=0.18, hspace=0.22)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_noise(summary: dict[str, Any], path: Path) -> None:
    """Three panels for the trained-network experiment: median misclassification probability
    against the radius (clipped, unclipped, Theorem B); the fraction of changed predictions
    with ``q > 0`` (where assumption H1 fails); and the ratio of the random-noise radius to the
    adversarial radius against the square-root-of-d law.

    Args:
        summary: the record written by :func:`seqrobust.measure.noise.write_noise`.
        path: PNG file to write.
    """
    rho = np.asarray(summary["rho"])
    unit = summary.get("unit", "pixel (0-255)")
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.6))
    ax = axes[0]
    for key, label, style in (
        ("p_unclipped", "Monte Carlo, unclipped", dict(color="k", marker="o")),
        ("p_clipped", f"Monte Carlo, clipped to {summary.get('clipped_to')}",
         dict(color="0.5", marker="s")),
        ("p_quadratic", "quadratic model q < 0", dict(color="C2", marker="^")),
        ("bound_imhof", "Theorem B (Imhof β), assumes H1", dict(color="C0", lw=2)),
        ("bound_union", "union bound over all classes", dict(color="C1", lw=1.5)),
    ):
        if key == "bound_union" and "quantiles_bound_union" not in summary:
            continue
        source = summary["quantiles_bound_union"] if key == "bound_union" else None
        q = np.asarray(source if source is not None else summary["quantiles"][key])
        ax.plot(rho, np.clip(q[1], _FLOOR, None), label=label, ms=3, **style)
        ax.fill_between(rho, np.clip(q[0], _FLOOR, None), np.clip(q[2], _FLOOR, None),
                        color=style["color"], alpha=0.12)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylim(1e-5, 2.0)
    ax.set_xlabel(f"noise radius ρ (L2, unit: {unit})")
    ax.set_ylabel("P(prediction changed), median and IQR over inputs")
    ax.legend(fontsize=8)
    ax.grid(True, alpha=0.3)

    ax = axes[1]
    h1 = np.asarray(summary["h1_failure_given_changed"], dtype=np.float64)
    conv = np.asarray(summary["q_negative_but_unchanged"], dtype=np.float64)
    ax.plot(rho, h1, "o-", color="C3", ms=3, label="P(q > 0 | prediction changed): H1 fails")
    ax.plot(rho, conv, "s-", color="C4", ms=3, label="P(unchanged | q ≤ 0): converse fails")
    runner = np.asarray(summary["runner_up_given_changed"], dtype=np.float64)
    ax.plot(rho, runner, "^-", color="C2", ms=3, label="P(new class = runner-up | changed)")
    below = np.asarray(summary["bound_below_ci_low_fraction"], dtype=np.float64)
    ax.plot(rho, below, "k--", lw=1.2, label="inputs with Theorem B < 95% CI lower end")
    if "union_h1_failure_given_changed" in summary:
        fail = np.asarray(summary["union_h1_failure_given_changed"], dtype=np.float64)
        ax.plot(rho, fail, "v-", color="C1", ms=3, label="P(all q_k > 0 | changed)")
        union_below = np.asarray(summary["union_bound_below_ci_low_fraction"], dtype=np.float64)
        ax.plot(rho, union_below, ":", color="C1", lw=1.5, label="inputs with union bound < CI")
    ax.set_xscale("log")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel(f"noise radius ρ (L2, unit: {unit})")
    ax.set_ylabel("fraction (pooled over inputs and directions; unclipped)")
    ax.legend(fontsize=8)
    ax.grid(True, alpha=0.3)

    ax = axes[2]
    ratios = np.asarray(
        [r for r in summary["per_input_radius_ratio_half"] if r is not None and math.isfinite(r)]
    )
    if ratios.size:
        lo, hi = float(ratios.min()), float(ratios.max())
        bins = np.geomspace(lo, hi * 1.001, 25) if hi > lo > 0 else 10
        ax.hist(ratios, bins=bins, color="0.4")
        ax.axvline(float(np.median(ratios)), color="k", ls="--", lw=1,
                   label=f"median {float(np.median(ratios)):.1f}")
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.xaxis.set_major_locator(FixedLocator([2, 5, 10, 20, 50, 100, 200, 500]))
        ax.xaxis.set_major_formatter(ScalarFormatter())
        ax.set_xlim(0.8 * lo, 1.25 * max(hi, math.sqrt(summary["d"])))
    root_d = math.sqrt(summary["d"])
    ax.axvline(root_d, color="C0", lw=2, label=f"√d = {root_d:.0f}")
    ax.set_xlabel("ρ(P = ½, unclipped) / adversarial radius t/|J|")
    ax.set_ylabel("inputs")
    ax.legend(fontsize=8)
    ax.grid(True, alpha=0.3)
    fig.suptitle(f"Random noise on {summary['run']}: {summary['n_inputs']} test inputs, "
                 f"{summary['samples']} directions each")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
