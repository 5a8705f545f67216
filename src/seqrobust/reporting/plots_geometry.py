"""Figure 3 (a decision-boundary slice) and Figure 4 (second-order model vs the real margin)
for one input; matplotlib runs with the Agg backend. Inputs are plain arrays in model units."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from numpy.typing import NDArray  # noqa: E402

Array = NDArray[np.float64]


def plot_boundary_slice(
    path: Path,
    *,
    a: Array,
    b: Array,
    classes: NDArray[np.int64],
    margin: Array,
    quadratic: Array,
    delta_norm: float,
    pred: int,
    lower: float,
    upper: float,
    scale: float,
    unit: str,
    title: str = "",
) -> None:
    """Class regions, the true boundary (black), the quadratic model's zero set (red dashed),
    x, the measured δ and circles at the Theorem-1 radii; lengths multiplied by ``scale``.

    ``a``/``b`` ``(G,)`` are the grid axes and ``classes``/``margin``/``quadratic`` ``(G, G)``
    the predicted class, true margin and second-order model (row = b)."""
    a, b = a * scale, b * scale
    fig, ax = plt.subplots(figsize=(6.2, 5.4))
    levels = np.arange(classes.min(), classes.max() + 2) - 0.5
    ax.contourf(a, b, classes, levels=levels, cmap="tab10", alpha=0.25, vmin=-0.5, vmax=9.5)
    ax.contour(a, b, margin, levels=[0.0], colors="black", linewidths=2)
    ax.contour(a, b, quadratic, levels=[0.0], colors="red", linestyles="--", linewidths=1.6)
    ax.plot([0], [0], "ko", ms=6)
    d = delta_norm * scale
    ax.annotate("", xy=(d, 0), xytext=(0, 0), arrowprops={"arrowstyle": "->", "lw": 1.5})
    for radius, style in ((lower, ":"), (upper, "-.")):
        if np.isfinite(radius):
            circle = plt.Circle((0, 0), radius * scale, fill=False, ls=style, color="tab:blue")
            ax.add_patch(circle)
    ax.set_xlim(a[0], a[-1])
    ax.set_ylim(b[0], b[-1])
    ax.set_aspect("equal")
    ax.set_xlabel(f"along the measured δ ({unit})")
    ax.set_ylabel(f"orthogonal direction ({unit})")
    handles = [
        Line2D([], [], color="black", lw=2, label="decision boundary F = 0"),
        Line2D([], [], color="red", ls="--", label="second-order model q = 0"),
        Line2D([], [], color="black", marker=">", ls="", label=f"measured δ (|δ| = {d:.3g})"),
        Line2D([], [], color="tab:blue", ls=":", label=f"Theorem-1 lower {lower * scale:.3g}"),
        Line2D([], [], color="tab:blue", ls="-.", label=f"Theorem-1 upper {upper * scale:.3g}"),
    ]
    ax.legend(handles=handles, loc="upper left", fontsize=7, framealpha=0.85)
    ax.set_title(title or f"decision boundary slice (predicted class {pred})", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def plot_taylor(
    path: Path,
    *,
    radii: Array,
    margin: Array,
    quadratic: Array,
    changed: NDArray[np.bool_],
    scale: float,
    unit: str,
    title: str = "",
) -> None:
    """Left: true margin and second-order model along random directions (median and 10-90 %
    band). Right: agreement of "q < 0" with "prediction changed", and (H1) violations.

    ``radii`` ``(R,)``; ``margin``, ``quadratic``, ``changed`` ``(R, N)``."""
    radii = radii * scale
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for values, color, name in (
        (margin, "black", "true margin F(x+ρθ)"),
        (quadratic, "red", "second-order model q(ρθ)"),
    ):
        lo, med, hi = np.percentile(values, [10, 50, 90], axis=1)
        left.plot(radii, med, color=color, label=name)
        left.fill_between(radii, lo, hi, color=color, alpha=0.15)
    left.axhline(0, color="gray", lw=0.8)
    left.set_xscale("log")
    left.set_xlabel(f"radius ρ ({unit})")
    left.set_ylabel("margin")
    left.legend(fontsize=8)
    agreement = ((quadratic < 0) == changed).mean(axis=1)
    violations = (changed & (quadratic > 0)).mean(axis=1)
    right.plot(radii, agreement, "o-", label='agreement of "q<0" and "changed"')
    right.plot(radii, violations, "s--", label="(H1) fails: changed but q>0")
    right.plot(radii, changed.mean(axis=1), "^:", label="prediction changed")
    right.set_xscale("log")
    right.set_ylim(-0.02, 1.02)
    right.set_xlabel(f"radius ρ ({unit})")
    right.set_ylabel("fraction of directions")
    right.legend(fontsize=8)
    fig.suptitle(title or "second-order model against the real margin", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
