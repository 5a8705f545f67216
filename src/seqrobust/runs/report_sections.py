"""The pictures and raw summaries of one model's report section, from its results: the
robustness figure (PGD, worst case, other attacks), distances against the Theorem-1 bounds,
curvature against distance, the per-time-step heat strip and the labelled raw summaries."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from seqrobust.measure.analyze import Analysis
from seqrobust.measure.analyze_summary import parse_table
from seqrobust.measure.curvature import Curvature
from seqrobust.measure.noise_bound import NoiseBound
from seqrobust.measure.robustness import RobustnessCurve
from seqrobust.reporting import html
from seqrobust.reporting.glossary import raw_section
from seqrobust.reporting.headline import attack_name, short_unit, unit_name
from seqrobust.runs.report_summary import Result, curves_of, main_curve, worst_of


def drawn(draw: Any, *args: Any) -> bytes:
    """PNG bytes of a plot function that writes to a path."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "plot.png"
        draw(*args, path)
        return path.read_bytes()


def curve_lines(results: Sequence[Result], *, color: int = 0, prefix: str = "") -> list[Any]:
    """The lines of one model's robustness figure: PGD, the worst case, the other attacks."""
    from seqrobust.reporting.plots_report import CurveLine

    main, worst = main_curve(results), worst_of(results)
    lines = []
    for c in curves_of(results):
        if c is main:
            continue
        lines.append(CurveLine(f"{prefix}{attack_name(c.settings.attack)} (n={c.n})",
                               (0.0, *c.eps), (c.clean_accuracy, *c.accuracy), "other", color))
    if main is not None:
        lines.append(CurveLine(f"{prefix}{attack_name(main.settings.attack)} (n={main.n})",
                               (0.0, *main.eps), (main.clean_accuracy, *main.accuracy), "pgd",
                               color))
    if worst is not None:
        lines.append(CurveLine(f"{prefix}worst case over {len(worst.curves)} attacks "
                               f"(n={worst.n})", (0.0, *worst.eps),
                               (worst.clean_accuracy, *worst.accuracy), "worst", color))
    return lines


def robustness(results: Sequence[Result], hints: Mapping[str, str]) -> str:
    """The robustness figure, or the command that produces a curve."""
    from seqrobust.reporting.plots_report import robustness_png

    main = main_curve(results)
    if main is None:
        return html.missing("No robustness curve yet.", hints.get("attack", ""))
    lines = curve_lines(results)
    png = robustness_png(lines, unit=unit_name(main.unit), title="robust accuracy against ε")
    return html.figure(png, caption=f"Robust accuracy against ε ({unit_name(main.unit)}): "
                                    "PGD solid, worst case over attacks dashed.")


def geometry(analysis: Analysis | None, hints: Mapping[str, str]) -> list[str]:
    """Distances against the bounds and curvature against distance, or the command that
    produces an analysis."""
    from seqrobust.reporting.plots_report import bounds_png, curvature_png

    if analysis is None:
        return [html.missing("No geometry analysis yet.", hints.get("analyze", ""))]
    tab, unit = parse_table(analysis.csv()), short_unit(analysis.unit)
    n = int(np.isfinite(tab["measured"]).sum())
    return [
        html.figure(bounds_png(tab["measured"], tab["lower"], tab["upper"], unit=unit),
                    caption=f"Measured minimal L2 distance against the Theorem-1 lower and upper "
                            f"bounds ({unit}, n={n}); bracketed: blue below, red above the line."),
        html.figure(curvature_png(tab["measured"], tab["v"], unit=unit),
                    caption=f"Top curvature against the measured distance (n={n})."),
    ]


def time_strip(analysis: Analysis | None) -> str:
    """The per-time-step heat strip of the analysis profile (empty without one)."""
    from seqrobust.reporting.plots_report import time_strip_png

    steps = (analysis.summary.get("time_steps") if analysis is not None else None) or {}
    grad = steps.get("mean_grad_norm")
    if not grad:
        return ""
    curv = steps.get("mean_block_curvature")
    png = time_strip_png(np.asarray(grad, dtype=float),
                         None if curv is None else np.asarray(curv, dtype=float),
                         n=len(analysis.profile) if analysis else 0,
                         n_curv=int(steps.get("inputs_with_curvature", 0)))
    return html.figure(png, wide=True, caption="Per-time-step sensitivity ‖J_t‖ of the margin "
                       "and block curvature λ_max(M_tt), mean over inputs.")


def raw(results: Sequence[Result], extra: Sequence[tuple[str, Mapping[str, Any]]]) -> str:
    """The raw summaries with human labels, each also as JSON."""
    parts = []
    for r in results:
        if isinstance(r, Analysis):
            parts.append(raw_section(f"Geometry analysis ({r.unit})", r.summary))
        elif isinstance(r, RobustnessCurve):
            record = {k: v for k, v in r.to_json().items() if k != "first_fooled"}
            parts.append(raw_section(f"{attack_name(r.settings.attack)} curve, n={r.n}", record))
        elif isinstance(r, NoiseBound):
            parts.append(raw_section("Random noise and Theorem B", r.summary))
        elif isinstance(r, Curvature):
            parts.append(raw_section("Input curvature", r.summary()))
    parts += [raw_section(title, data) for title, data in extra]
    return "".join(parts)


__all__ = ["curve_lines", "drawn", "geometry", "raw", "robustness", "time_strip"]
