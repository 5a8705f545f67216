"""Robustness curves: accuracy (%) against the attack radius ε (pixel units for Figure 7).

Takes plain sequences (no records from higher layers); matplotlib runs with the Agg backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

Line = tuple[str, Sequence[float], Sequence[float]]
"""``(label, eps_pixels, accuracy_fraction)``."""


def plot_accuracy_vs_eps(
    lines: Sequence[Line],
    path: Path,
    *,
    title: str | None = None,
    points: Sequence[Line] = (),
    unit: str = "pixel units, 0–255",
) -> None:
    """One line per model, optional markers (e.g. APGD/Square checks at a few ε).

    Args:
        lines: ``(label, eps, accuracy)`` curves; accuracy as a fraction.
        path: image file to write (format from the suffix).
        title: figure title.
        points: ``(label, eps, accuracy)`` marker series drawn without lines.
        unit: the unit of ε, for the axis label.
    """
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    for i, (label, eps, acc) in enumerate(lines):
        ax.plot(list(eps), [100 * a for a in acc], marker="o", ms=3, lw=1.6, color=f"C{i}",
                label=label)
    for j, (label, eps, acc) in enumerate(points):
        ax.plot(list(eps), [100 * a for a in acc], ls="none", marker="xv^sd+"[j % 6], ms=7,
                color="0.2", label=label)
    ax.set_xlabel(f"ε ({unit})")
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(-2, 102)
    ax.grid(alpha=0.3)
    if title:
        ax.set_title(title)
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=150)
    plt.close(fig)


__all__ = ["plot_accuracy_vs_eps"]
