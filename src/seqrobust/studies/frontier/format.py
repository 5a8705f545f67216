"""The frontier study's Markdown table and CSV file (formatting of
:mod:`~seqrobust.studies.frontier.table`'s rows and points)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from seqrobust.reporting.text import md_escape, md_table
from seqrobust.runs import outputs
from seqrobust.studies.frontier.table import FrontierPoint, FrontierRow, Stat, lookup


def pct(s: Stat, digits: int = 1) -> str:
    """``"mean ± se"`` in percent (``"mean"`` alone with one seed)."""
    if math.isnan(s.mean):
        return "–"
    text = f"{100 * s.mean:.{digits}f}"
    return text if math.isnan(s.se) else f"{text} ± {100 * s.se:.{digits}f}"


def num(s: Stat) -> str:
    """``"mean ± se"`` with 3 significant digits."""
    if math.isnan(s.mean):
        return "–"
    return f"{s.mean:.3g}" if math.isnan(s.se) else f"{s.mean:.3g} ± {s.se:.2g}"


def point_label(p: FrontierPoint | None) -> str:
    """``"method (λ=...)"``, the method's name escaped for Markdown."""
    if p is None:
        return "–"
    return md_escape(p.method) + ("" if p.method == "plain" else f" (λ={p.lam:g})")


def format_points(
    points: Sequence[FrontierPoint], *, key_eps: Sequence[float], headline_eps: float
) -> str:
    """The aggregated Markdown table (mean ± s.e. over seeds, percentages)."""
    worst_eps = [e for e, _ in points[0].worst] if points else []
    head = (["method", "λ", "seeds", "clean %"] + [f"PGD ε={e:g}" for e in key_eps]
            + [f"worst ε={e:g}" for e in worst_eps] + [f"robust ε={headline_eps:g}",
            "AUC %", "mean ‖H‖_F²", "mean |J|", "train s", "attack s"])
    rows = []
    for p in points:
        pgd = dict(p.pgd)
        worst = dict(p.worst)
        cells = [md_escape(p.method), "–" if p.method == "plain" else f"{p.lam:g}",
                 str(p.seeds), pct(p.clean, 2)]
        cells += [pct(pgd[e]) if e in pgd else "–" for e in key_eps]
        cells += [pct(worst[e]) if e in worst else "–" for e in worst_eps]
        cells += [pct(p.robust), pct(p.auc), num(p.mean_r), num(p.mean_j),
                  f"{p.train_seconds.mean:.3g}", f"{p.attack_seconds.mean:.3g}"]
        rows.append(cells)
    return "\n".join(md_table(head, rows))


CSV_FIXED = ("method", "estimator", "lam", "seed", "clean_pct")
CSV_TAIL = ("auc_pct", "mean_hess_fro2", "median_hess_fro2", "mean_grad_norm", "train_seconds",
            "attack_seconds", "n_pgd", "n_check")


def csv_header(key_eps: Sequence[float], check_eps: Sequence[float]) -> list[str]:
    """The columns of ``frontier.csv``."""
    return [*CSV_FIXED, *[f"pgd_eps{e:g}_pct" for e in key_eps],
            *[f"worst_eps{e:g}_pct" for e in check_eps], *CSV_TAIL]


def write_csv(
    rows: Sequence[FrontierRow], path: Path, *, key_eps: Sequence[float],
    check_eps: Sequence[float],
) -> None:
    """One line per model (percentages with 2 decimals; empty cell: not measured), atomic."""
    def p(v: float) -> str:
        return "" if math.isnan(v) else f"{100 * v:.2f}"

    lines = [[
        r.method, r.estimator, f"{r.lam:g}", r.seed, p(r.clean),
        *[p(lookup(r.pgd, e)) for e in key_eps],
        *[p(lookup(r.worst, e)) for e in check_eps],
        p(r.auc), f"{r.mean_r:.6g}", f"{r.median_r:.6g}", f"{r.mean_j:.6g}",
        f"{r.train_seconds:.3f}", f"{r.attack_seconds:.3f}", r.n_pgd, r.n_check,
    ] for r in rows]
    outputs.write_csv(path.parent, path.name, csv_header(key_eps, check_eps), lines)


__all__ = ["csv_header", "format_points", "num", "pct", "point_label", "write_csv"]
