"""Figures of ``seqrobust analyze``: bounds against measured distances, the histogram of the top
curvature ``v``, and the per-time-step sensitivity heat-map. Takes plain column dicts (as read
from ``rows.csv`` / ``profile.csv``); matplotlib runs with the Agg backend."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from numpy.typing import NDArray  # noqa: E402

FloatArray = NDArray[np.float64]


def plot_bounds(rows: dict[str, FloatArray], path: Path) -> None:
    """Log–log scatter of the lower, upper and best-witness bounds against the measured
    distance, with the diagonal; points above it (lower) or below it (upper) break the bracket.
    """
    meas = rows["measured"]
    fig, ax = plt.subplots(figsize=(5.6, 5.0))
    finite = np.isfinite(meas) & (meas > 0)
    span = [np.inf, 0.0]
    for key, style, label in (
        ("lower", dict(marker="^", color="tab:blue"), "lower bound (E2), min over classes"),
        ("upper", dict(marker="v", color="tab:red"), "upper bound (E2), min over classes"),
        ("best", dict(marker=".", color="tab:green"), "best witness (E3)"),
    ):
        val = rows[key]
        ok = finite & np.isfinite(val) & (val > 0)
        if ok.any():
            ax.scatter(meas[ok], val[ok], s=9, alpha=0.5, label=label, **style)  # type: ignore[arg-type]
            span = [
                min(span[0], meas[ok].min(), val[ok].min()),
                max(span[1], meas[ok].max(), val[ok].max()),
            ]
    if np.isfinite(span[0]):
        ax.plot(span, span, color="k", lw=1, label="bound = measured")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("measured minimal L2 distance (best of DeepFool, FMN)")
    ax.set_ylabel("bound")
    ax.set_title("Theorem 1 (corrected) vs measured distance")
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def plot_curvature_hist(rows: dict[str, FloatArray], path: Path) -> None:
    """Histogram of ``v = λ_max(∇²(−F))`` for the runner-up margin."""
    v = rows["v"][np.isfinite(rows["v"])]
    fig, ax = plt.subplots(figsize=(5.6, 4.0))
    if v.size and float(v.min()) > 0:  # heavy-tailed and positive: log axis
        ax.hist(v, bins=np.geomspace(v.min(), v.max(), 41).tolist(), color="tab:purple")
        ax.set_xscale("log")
    else:
        ax.hist(v, bins=40, color="tab:purple", alpha=0.8)
        ax.axvline(0.0, color="k", lw=1)
    if v.size:
        ax.axvline(float(np.median(v)), color="tab:orange", lw=1.5, ls="--", label="median")
        ax.legend(fontsize=8)
    ax.set_xlabel("top curvature toward the boundary  v = λ_max(∇²(−F))")
    ax.set_ylabel("inputs")
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def plot_time_steps(
    rows: dict[str, FloatArray], profile: dict[str, FloatArray], path: Path
) -> None:
    """Heat-maps (inputs sorted by measured distance × time steps) of ``|J_t|`` and of the
    block curvature ``λ_max(M_tt)``, with their means over inputs."""
    grad = np.stack([v for k, v in profile.items() if k.startswith("grad_")], axis=1)
    curv = np.stack([v for k, v in profile.items() if k.startswith("curv_")], axis=1)
    order = np.argsort(rows["measured"], kind="stable")
    have_curv: NDArray[np.bool_] = np.asarray(np.isfinite(curv).any(axis=1))
    panels = [("|J_t| (runner-up margin)", grad[order], "viridis")]
    if have_curv.any():
        sub = order[have_curv[order]]
        panels.append(("λ_max(M_tt), block curvature", curv[sub], "magma"))
    fig, axes = plt.subplots(2, len(panels), figsize=(5.2 * len(panels), 6.4), squeeze=False)
    for col, (title, data, cmap) in enumerate(panels):
        ax = axes[0][col]
        im = ax.imshow(data, aspect="auto", cmap=cmap, interpolation="nearest")
        fig.colorbar(im, ax=ax)
        ax.set_title(title, fontsize=9)
        ax.set_ylabel("input (sorted by measured distance)")
        count = np.isfinite(data).sum(axis=0)
        mean = np.where(np.isfinite(data), data, 0.0).sum(axis=0) / np.maximum(count, 1)
        axes[1][col].plot(np.where(count > 0, mean, np.nan), color="k")
        axes[1][col].set_xlabel("time step (padded steps blank)")
        axes[1][col].set_ylabel("mean over inputs")
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def plot_analysis(rows: dict[str, FloatArray], profile: dict[str, FloatArray], out: Path) -> None:
    """Write ``bounds_vs_measured.png``, ``curvature_hist.png`` and ``time_steps.png``."""
    plot_bounds(rows, out / "bounds_vs_measured.png")
    plot_curvature_hist(rows, out / "curvature_hist.png")
    if profile:
        plot_time_steps(rows, profile, out / "time_steps.png")
