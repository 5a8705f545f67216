"""Robustness against curvature across models: one panel per dataset, one marker per model
(colour: architecture, shape: training mode), log-scaled curvature.

Takes plain sequences (no records from higher layers); matplotlib runs with the Agg backend.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import LogFormatterSciNotation  # noqa: E402

MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


@dataclass(frozen=True)
class ScatterPanel:
    """One dataset's models: ``x`` curvature (> 0 for the log axis), ``y`` robust accuracy
    (fractions), ``colour`` and ``shape`` the legend groups, ``title`` with its ρ; ``faded``:
    per model, drawn hollow (default: none)."""

    title: str
    x: Sequence[float]
    y: Sequence[float]
    colour: Sequence[str]
    shape: Sequence[str]
    faded: Sequence[bool] | None = None


def plot_scatter(panels: Sequence[ScatterPanel], path: Path, *, xlabel: str, ylabel: str,
                 columns: int = 4, caption: str = "") -> None:
    """Write the panels to ``path`` (PNG); ``caption`` under the legend."""
    cols = max(1, min(columns, len(panels)))
    rows = max(1, math.ceil(len(panels) / cols))
    colours = sorted({c for p in panels for c in p.colour})
    shapes = sorted({s for p in panels for s in p.shape})
    entries = len(colours) + len(shapes)
    ncol = max(1, min(entries, 3 * cols + 1))  # about 1 inch per legend entry
    legend_rows = math.ceil(entries / ncol)
    legend_rows += bool(caption)
    height = 3.6 * rows + 0.25 * legend_rows
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, height), squeeze=False)
    cmap = plt.get_cmap("tab10")
    for ax, panel in zip(axes.flat, panels, strict=False):
        faded = panel.faded if panel.faded is not None else [False] * len(panel.x)
        for c in colours:
            for s in shapes:
                for hollow in (False, True):
                    pts = [(x, 100 * y) for x, y, cc, ss, f in zip(
                        panel.x, panel.y, panel.colour, panel.shape, faded, strict=True)
                        if cc == c and ss == s and f == hollow and x > 0 and math.isfinite(y)]
                    if not pts:
                        continue
                    colour = cmap(colours.index(c) % 10)
                    ax.scatter(*zip(*pts, strict=True), marker=MARKERS[shapes.index(s) % len(
                        MARKERS)], s=28, alpha=0.8, facecolors="none" if hollow else colour,
                        edgecolors=colour if hollow else "none")
        ax.set_xscale("log")
        # label minor ticks only on axes spanning less than half a decade (they overlap else)
        ax.xaxis.set_minor_formatter(LogFormatterSciNotation(minor_thresholds=(0.5, 0.2)))
        ax.tick_params(labelsize=8)
        ax.set_title(panel.title, fontsize=9)
        ax.set_xlabel(xlabel, fontsize=8)
        ax.set_ylabel(ylabel, fontsize=8)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    handles = [plt.Line2D([], [], color=cmap(i % 10), marker="o", ls="", label=c)
               for i, c in enumerate(colours)]
    handles += [plt.Line2D([], [], color="grey", marker=MARKERS[i % len(MARKERS)], ls="",
                           label=s) for i, s in enumerate(shapes)]
    fig.legend(handles=handles, loc="lower center", ncol=ncol, fontsize=8, frameon=False,
               bbox_to_anchor=(0.5, 0.25 / height if caption else 0.0))
    if caption:
        fig.text(0.5, 0.05 / height, caption, ha="center", va="bottom", fontsize=8)
    fig.tight_layout(rect=(0, (0.1 + 0.25 * legend_rows) / height, 1, 1))
    fig.savefig(path, dpi=120)
    plt.close(fig)


__all__ = ["ScatterPanel", "plot_scatter"]
