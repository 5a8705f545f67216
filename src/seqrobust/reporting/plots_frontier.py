"""The clean-accuracy vs robustness frontier: one line per method through its λ grid, seed
spread as error bars, one panel per robustness measure.

Takes plain sequences (no records from higher layers); matplotlib runs with the Agg backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


@dataclass(frozen=True)
class FrontierSeries:
    """One method's points, in λ order (fractions; ``*_err``: half-lengths of the error bars).

    Attributes:
        label: legend entry.
        tags: per-point annotation (e.g. ``"1e-3"``); empty strings for none.
        x, x_err: clean accuracy and its error.
        y, y_err: one sequence per panel, the robustness measure and its error.
    """

    label: str
    tags: Sequence[str]
    x: Sequence[float]
    x_err: Sequence[float]
    y: Sequence[Sequence[float]]
    y_err: Sequence[Sequence[float]]


def _draw(ax: plt.Axes, series: Sequence[FrontierSeries], k: int) -> None:
    for i, s in enumerate(series):
        single = len(s.x) == 1
        ax.errorbar(
            [100 * v for v in s.x], [100 * v for v in s.y[k]],
            xerr=[100 * v for v in s.x_err], yerr=[100 * v for v in s.y_err[k]],
            marker="*" if single else "o", ms=11 if single else 4, lw=1.4, capsize=2,
            color="black" if single else f"C{i}", label=s.label,
        )
        for tag, x, y in zip(s.tags, s.x, s.y[k], strict=True):
            if tag:
                ax.annotate(tag, (100 * x, 100 * y), fontsize=6, xytext=(3, 3),
                            textcoords="offset points", color="0.3")


def _zoom(ax: plt.Axes, series: Sequence[FrontierSeries], k: int, lo: float) -> None:
    """Limit ``ax`` to clean accuracy ``>= lo`` and the robustness range of the points there."""
    xs = [x for s in series for x in s.x]
    hi = max(xs) + 0.003
    ys = [y for s in series for x, y in zip(s.x, s.y[k], strict=True) if lo <= x <= hi]
    ax.set_xlim(100 * lo, 100 * hi)
    if ys:
        ax.set_ylim(100 * min(ys) - 3, 100 * max(ys) + 3)


def plot_frontier(
    series: Sequence[FrontierSeries],
    path: Path,
    *,
    ylabels: Sequence[str],
    match_at: float | None = None,
    zoom: float | None = None,
    title: str | None = None,
) -> None:
    """Clean accuracy (x) against each robustness measure (one panel per ``ylabels`` entry).

    Args:
        series: one per method; a single-point series is drawn as a star (plain).
        path: image file to write (format from the suffix).
        ylabels: panel y-axis labels; every series has ``len(ylabels)`` y sequences.
        match_at: clean accuracy (fraction) above which points count as matched; a dotted
            vertical line.
        zoom: with ``match_at``, a second row of the same panels limited to clean accuracy
            at least ``match_at − zoom`` (where the matched comparison is decided).
        title: figure title.
    """
    panels = len(ylabels)
    rows = 2 if zoom is not None and match_at is not None else 1
    fig, axes = plt.subplots(rows, panels, figsize=(6.0 * panels, 4.6 * rows), squeeze=False)
    for r in range(rows):
        for k, ax in enumerate(axes[r]):
            _draw(ax, series, k)
            if match_at is not None:
                ax.axvline(100 * match_at, ls=":", color="0.4", lw=1)
            if r == 1 and match_at is not None and zoom is not None:
                _zoom(ax, series, k, match_at - zoom)
                ax.set_title(f"zoom: clean accuracy within {100 * zoom:g} points of the "
                             "dotted line", fontsize=8)
            ax.set_xlabel("clean accuracy (%)")
            ax.set_ylabel(ylabels[k])
            ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=7, loc="best")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=150)
    plt.close(fig)


__all__ = ["FrontierSeries", "plot_frontier"]
