"""Figures that only the report draws: training curves, robustness curves (PGD and the worst
case, overlaid for several models), distances against the two Theorem-1 bounds, curvature
against distance and the per-time-step heat strip. Each returns PNG bytes (matplotlib Agg) and
takes plain arrays."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import (  # noqa: E402
    FuncFormatter,
    LogLocator,
    MaxNLocator,
    NullFormatter,
)
from numpy.typing import NDArray  # noqa: E402

FloatArray = NDArray[np.float64]
_DPI = 100


def png(fig: Figure, *, tight: bool = True) -> bytes:
    """The figure as PNG bytes (closes it); ``tight``: lay it out with ``tight_layout`` (slow
    for many panels)."""
    buffer = io.BytesIO()
    if tight:
        fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=_DPI)
    plt.close(fig)
    return buffer.getvalue()


def training_curves(records: list[dict[str, Any]]) -> bytes:
    """Loss, train accuracy and test accuracy against the step (from ``metrics.jsonl``)."""
    steps = [r for r in records if "loss" in r]
    tests = [r for r in records if "test_acc" in r]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.2))
    left.plot([r["step"] for r in steps], [r["loss"] for r in steps], label="loss")
    if any("reg" in r for r in steps):
        left.plot([r["step"] for r in steps], [r.get("reg", np.nan) for r in steps],
                  label="penalty")
    left.set_yscale("log")
    left.set_xlabel("optimisation step")
    left.legend()
    right.plot([r["step"] for r in steps], [100 * r["train_acc"] for r in steps], label="train")
    right.plot([r["step"] for r in tests], [100 * r["test_acc"] for r in tests], "o-", label="test")
    right.set_xlabel("optimisation step")
    right.set_ylabel("accuracy (%)")
    right.legend()
    return png(fig)


@dataclass(frozen=True)
class CurveLine:
    """One robustness curve to draw.

    Attributes:
        label: legend entry.
        eps: radii, starting with 0 (the clean accuracy).
        accuracy: fractions at ``eps``.
        style: ``"pgd"`` (solid), ``"worst"`` (dashed, thick) or ``"other"`` (dotted, thin).
        color: colour index (one per model in a comparison).
    """

    label: str
    eps: Sequence[float]
    accuracy: Sequence[float]
    style: str = "pgd"
    color: int = 0


_STYLES = {"pgd": dict(ls="-", lw=1.8, marker="o", ms=3),
           "worst": dict(ls="--", lw=2.4, marker="s", ms=3),
           "other": dict(ls=":", lw=1.2, marker=".", ms=4)}


def robustness_png(lines: Sequence[CurveLine], *, unit: str, title: str) -> bytes:
    """Robust accuracy (%) against ε for every line."""
    many = len(lines) > 8
    fig, ax = plt.subplots(figsize=(9.6 if many else 6.2, 4.6 if many else 4.0))
    for line in lines:
        ax.plot(list(line.eps), [100 * a for a in line.accuracy], color=f"C{line.color}",
                label=line.label, **_STYLES.get(line.style, _STYLES["other"]))  # type: ignore[arg-type]
    ax.set_xlabel(f"ε ({unit})")
    ax.set_ylabel("robust accuracy (%)")
    ax.set_ylim(-2, 102)
    ax.grid(alpha=0.3)
    ax.set_title(title, fontsize=9)
    if many:  # beside the axes, not over the curves
        ax.legend(fontsize=5.5, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    else:
        ax.legend(fontsize=7, loc="best")
    return png(fig)


def _log(ax: Any, axis: str, values: FloatArray) -> None:
    """A log axis with short labels: decades, plus 2 and 5 when the data span under two."""
    getattr(ax, f"set_{axis}scale")("log")
    which = getattr(ax, f"{axis}axis")
    short = FuncFormatter(lambda v, _: f"{v:g}")
    which.set_major_formatter(short)
    positive = values[np.isfinite(values) & (values > 0)]
    narrow = positive.size > 0 and np.log10(positive.max() / positive.min()) < 2
    which.set_minor_locator(LogLocator(subs=(2.0, 5.0)))
    which.set_minor_formatter(short if narrow else NullFormatter())


def _finite(*arrays: FloatArray) -> NDArray[np.bool_]:
    ok = np.ones(arrays[0].shape, dtype=bool)
    for a in arrays:
        ok &= np.isfinite(a) & (a > 0)
    return ok


def bounds_png(measured: FloatArray, lower: FloatArray, upper: FloatArray, *, unit: str) -> bytes:
    """Log-log scatter of the lower and upper bound against the measured distance with the
    diagonal: a bracketed input has its blue point below the line and its red one above."""
    fig, ax = plt.subplots(figsize=(5.4, 4.2))
    span: list[float] = []
    for values, marker, color, name in ((lower, "^", "tab:blue", "lower bound"),
                                        (upper, "v", "tab:red", "upper bound")):
        ok = _finite(measured, values)
        if ok.any():
            ax.scatter(measured[ok], values[ok], s=14, alpha=0.6, marker=marker, color=color,
                       label=f"{name} (n={int(ok.sum())})")
            span += [float(measured[ok].min()), float(values[ok].min()),
                     float(measured[ok].max()), float(values[ok].max())]
    if span:
        lo, hi = min(span), max(span)
        ax.plot([lo, hi], [lo, hi], color="k", lw=1, label="bound = measured")
        both = np.asarray(span, dtype=np.float64)
        _log(ax, "x", both)
        _log(ax, "y", both)
        ax.legend(fontsize=7, loc="upper left")
    ax.set_xlabel(f"measured minimal L2 distance ({unit})")
    ax.set_ylabel(f"Theorem-1 bound ({unit})")
    ax.set_title("distances against the two bounds", fontsize=9)
    return png(fig)


def curvature_png(measured: FloatArray, v: FloatArray, *, unit: str) -> bytes:
    """Top curvature against the measured distance (log-log where positive)."""
    fig, ax = plt.subplots(figsize=(5.4, 4.2))
    ok = np.isfinite(measured) & np.isfinite(v)
    ax.scatter(measured[ok], v[ok], s=14, alpha=0.7, color="tab:purple",
               label=f"inputs (n={int(ok.sum())})")
    if ok.any() and (measured[ok] > 0).all():
        _log(ax, "x", measured[ok])
    if ok.any() and (v[ok] > 0).all():
        _log(ax, "y", v[ok])
    ax.set_xlabel(f"measured minimal L2 distance ({unit})")
    ax.set_ylabel(f"top curvature λ_max(∇²(−F)) (logit per {unit}²)")
    ax.set_title("curvature against distance", fontsize=9)
    ax.legend(fontsize=7)
    return png(fig)


def strip(ax: Any, values: FloatArray, *, cmap: str, label: str, cax: Any = None) -> None:
    """A one-row heat strip of ``values`` over time steps on ``ax`` (NaN left blank), its
    colour bar beside it (in ``cax`` when given, so ``ax`` keeps its width)."""
    im = ax.imshow(values[None, :], aspect="auto", cmap=cmap, interpolation="nearest")
    ax.set_yticks([])
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
    if cax is not None:
        plt.colorbar(im, cax=cax)
        cax.tick_params(labelsize=6)
    else:
        plt.colorbar(im, ax=ax, pad=0.01, fraction=0.04)


def time_strip_png(grad: FloatArray, curv: FloatArray | None, *, n: int, n_curv: int) -> bytes:
    """Mean ‖J_t‖ and mean block curvature per time step as heat strips."""
    rows = 1 if curv is None or not np.isfinite(curv).any() else 2
    fig, axes = plt.subplots(rows, 1, figsize=(10, 0.9 + 0.75 * rows), squeeze=False)
    strip(axes[0][0], grad, cmap="viridis", label=f"‖J_t‖\n(n={n})")
    if rows == 2 and curv is not None:
        strip(axes[1][0], curv, cmap="magma", label=f"curvature\n(n={n_curv})")
    axes[-1][0].set_xlabel("time step (blank: padding only)")
    fig.suptitle("where in the sequence the model is sensitive (mean over inputs)", fontsize=9)
    return png(fig)


__all__ = ["CurveLine", "bounds_png", "curvature_png", "png", "robustness_png", "strip",
           "time_strip_png", "training_curves"]
