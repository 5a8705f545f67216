"""``sr.report``: one self-contained HTML file from measurement results, whether or not they
came from a run folder.

A result is anything :mod:`seqrobust.measure` returns: :class:`~seqrobust.measure.analyze.
Analysis`, :class:`~seqrobust.measure.robustness.RobustnessCurve`,
:class:`~seqrobust.measure.worst_case.WorstCase`, :class:`~seqrobust.measure.noise_bound.
NoiseBound`, :class:`~seqrobust.measure.curvature.Curvature`. Results are grouped by model:
``report({"my LSTM": [analysis, curve], "baseline": [...]}, "report.html")``. Each model gets a
headline table, then one section per result with its plots; several models get a comparison
table and overlaid curves first.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from seqrobust.measure.analyze import Analysis
from seqrobust.measure.analyze_summary import parse_table
from seqrobust.measure.curvature import Curvature
from seqrobust.measure.noise_bound import NoiseBound
from seqrobust.measure.robustness import RobustnessCurve
from seqrobust.measure.worst_case import WorstCase
from seqrobust.reporting import html

Result = Analysis | RobustnessCurve | WorstCase | NoiseBound | Curvature
Results = Mapping[str, Sequence[Result]] | Sequence[Result]


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f} %"


def _curves(result: Result) -> list[tuple[str, RobustnessCurve]]:
    if isinstance(result, RobustnessCurve):
        return [(result.settings.attack, result)]
    if isinstance(result, WorstCase):
        return [(c.settings.attack, c) for c in result.curves]
    return []


def _headline(results: Sequence[Result]) -> dict[str, str]:
    """The numbers a reader wants first, with human labels."""
    row: dict[str, str] = {}
    for r in results:
        if isinstance(r, RobustnessCurve | WorstCase):
            row.setdefault("clean accuracy", _pct(r.clean_accuracy))
            name = "worst case" if isinstance(r, WorstCase) else r.settings.attack
            mid = r.eps[len(r.eps) // 2]
            row[f"robust at ε={mid:g} ({name}, n={r.n})"] = _pct(r.at(mid))
        elif isinstance(r, Analysis) and r.summary.get("inputs"):
            b = r.summary.get("bracket", {})
            q = r.summary.get("attacks", {}).get("measured", {}).get("norm") or {}
            row["median minimal L2 distance"] = (
                f"{q.get('q50', float('nan')):.3g} {r.unit}" if q else "–")
            row["Theorem-1 bounds bracket the distance"] = _pct(
                b.get("lower_le_measured_le_upper"))
            row["lower bound ≤ distance"] = _pct(b.get("lower_le_measured"))
            v = (r.summary.get("curvature", {}).get("v") or {}).get("q50")
            row["median top curvature λ_max"] = "–" if v is None else f"{v:.3g}"
        elif isinstance(r, Curvature):
            s = r.summary()
            row["mean ‖H‖_F² (R)"] = f"{s['mean_R']:.3g} ± {s['se_R']:.2g}"
        elif isinstance(r, NoiseBound):
            row["inputs where the noise bound was evaluated"] = str(len(r.records))
    return row


def _png(draw: Any, *args: Any, name: str, **kwargs: Any) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        draw(*args, path, **kwargs)
        return html.image(path, alt=name.removesuffix(".png").replace("_", " "))


def _section(label: str, results: Sequence[Result]) -> str:
    from seqrobust.reporting.plots_analyze import plot_bounds, plot_curvature_hist
    from seqrobust.reporting.plots_noise import plot_noise
    from seqrobust.reporting.plots_robustness import plot_accuracy_vs_eps

    esc = html.esc
    parts = [f"<h2>{esc(label)}</h2>",
             html.table(["quantity", "value"], list(_headline(results).items()))]
    lines = [(name, (0.0, *c.eps), (c.clean_accuracy, *c.accuracy))
             for r in results for name, c in _curves(r)]
    worst = [r for r in results if isinstance(r, WorstCase)]
    lines += [("worst case", (0.0, *w.eps), (w.clean_accuracy, *w.accuracy)) for w in worst]
    if lines:
        unit = next(c.unit for r in results for _, c in _curves(r))
        parts += ["<h3>Robust accuracy against ε</h3>",
                  _png(plot_accuracy_vs_eps, lines, name="robustness.png", unit=unit)]
    for r in results:
        if isinstance(r, Analysis) and r.rows:
            rows = parse_table(r.csv())
            parts += [f"<h3>Distances and Theorem-1 bounds ({esc(r.unit)}, n={len(r.rows)})</h3>",
                      _png(plot_bounds, rows, name="bounds_vs_measured.png"),
                      _png(plot_curvature_hist, rows, name="curvature_hist.png")]
        elif isinstance(r, NoiseBound):
            parts += [f"<h3>Random noise and Theorem B (radii in {esc(r.config.unit)})</h3>",
                      _png(plot_noise, r.summary, name="noise.png")]
        elif isinstance(r, Curvature):
            s = r.summary()
            parts += ["<h3>Input curvature</h3>", html.table(
                ["quantity", "value"],
                [("method", s["method"]), ("inputs", s["n"]), ("mean R", s["mean_R"]),
                 ("median R", s["median_R"]), ("mean |J|", s["mean_J"])])]
    return "".join(parts)


def report(results: Results, out: str | Path, *, title: str = "seqrobust report") -> Path:
    """Write one self-contained HTML report of ``results`` to ``out``.

    Args:
        results: results of one model (a list), or a mapping from model name to its results.
        out: the HTML file to write.
        title: the page title.

    Returns:
        The path written.

    Raises:
        ValueError: on no results or an object that is not a measurement result.
    """
    groups = dict(results) if isinstance(results, Mapping) else {"model": list(results)}
    if not groups or not any(groups.values()):
        raise ValueError("report needs at least one result")
    for label, items in groups.items():
        for r in items:
            if not isinstance(r, Analysis | RobustnessCurve | WorstCase | NoiseBound | Curvature):
                raise ValueError(f"{label}: {type(r).__name__} is not a seqrobust result")
    body = ""
    if len(groups) > 1:
        heads = {label: _headline(items) for label, items in groups.items()}
        keys = sorted({k for h in heads.values() for k in h})
        body += "<h2>Comparison</h2>" + html.table(
            ["model", *keys], [[label, *(h.get(k, "–") for k in keys)]
                               for label, h in heads.items()])
    body += "".join(_section(label, items) for label, items in groups.items())
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html.page(title, body), encoding="utf-8")
    return out


__all__ = ["Result", "report"]
