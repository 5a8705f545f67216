"""``frontier.md``, ``frontier.csv`` and ``frontier.png`` of the frontier study: the
seed-aggregated table, the verdict paragraph (rule in
:mod:`~seqrobust.studies.frontier.table`), grid coverage, attack strength and cost."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from seqrobust._safeio import write_text_atomic
from seqrobust.reporting.text import md_code_block, md_escape, md_table, mpl_escape
from seqrobust.runs.outputs import check_targets, save_figure
from seqrobust.studies.frontier.config import FrontierConfig
from seqrobust.studies.frontier.format import format_points, pct, point_label, write_csv
from seqrobust.studies.frontier.sensitivity import (
    heldout_seed_diffs,
    paired_summary,
    window_comparisons,
)
from seqrobust.studies.frontier.table import (
    Comparison,
    FrontierPoint,
    FrontierRow,
    aggregate,
    claim_status,
    compare,
)

COVERAGE_DROP = 0.03
"""A λ grid should reach a clean-accuracy cost of at least this (3 points)."""


def _outcome(c: Comparison, reference: str) -> str:
    reference, other = md_escape(reference), md_escape(c.other_method)
    return {"reference": f"{reference} more robust", "other": f"{other} more robust",
            "not settled": "not settled", "no matched point": "no matched point"}[c.outcome]


def _points_text(x: float, se: float) -> str:
    if math.isnan(x):
        return "–"
    return f"{100 * x:+.1f}" if math.isnan(se) else f"{100 * x:+.1f} ± {100 * se:.1f}"


def verdict_lines(
    points: Sequence[FrontierPoint], cfg: FrontierConfig, *, metric: str, name: str
) -> list[str]:
    """The verdict paragraph and comparison table for one metric (``"robust"`` or ``"auc"``)."""
    plain = next(p for p in points if p.method == "plain")
    ref = cfg.reference
    others = [m.name for m in cfg.methods if m.name != ref]
    comps = {o: compare(points, ref, o, metric=metric, tol=cfg.match_tol,
                        confidence=cfg.confidence) for o in others}
    status = claim_status([comps[b] for b in cfg.baselines])
    best = comps[others[0]].reference
    parts = [
        f"**Verdict on {name}: {status}.** Plain's clean accuracy is {pct(plain.clean, 2)} %; a "
        f"point is matched when its mean clean accuracy is at most {100 * cfg.match_tol:g} point "
        "below that.",
    ]
    if best is None:
        parts.append(f"{md_escape(ref)} has no matched point, so the claim cannot be judged "
                     "here.")
    else:
        parts.append(f"{md_escape(ref)}'s best matched point (λ={best.lam:g}, clean "
                     f"{pct(best.clean, 2)} %) reaches {pct(getattr(best, metric))} %.")
        for b in cfg.baselines:
            c = comps[b]
            if c.other is None:
                parts.append(f"{md_escape(b)} has no matched point.")
                continue
            limit = "" if math.isnan(c.threshold) else f" (threshold ±{100 * c.threshold:.1f})"
            parts.append(
                f"Against {point_label(c.other)} ({pct(getattr(c.other, metric))} %): "
                f"{_points_text(c.diff, c.se)} points{limit}, {_outcome(c, ref)}."
            )
    low, high = (f((p.seeds for p in points), default=0) for f in (min, max))
    seeds = f"{low}" if low == high else f"{low}-{high}"
    parts.append(f"Decided by a two-sided Welch t-test at {100 * cfg.confidence:g} % over "
                 f"{seeds} seed(s) per point (no test with one); the claim needs the "
                 "reference to beat every baseline.")
    head = ["method", "best matched point", "clean %", f"{name} %",
            f"{md_escape(ref)} − method (points)", "Welch threshold", "outcome"]
    table = []
    for o in others:
        c = comps[o]
        mark = " (baseline)" if o in cfg.baselines else ""
        clean = pct(c.other.clean, 2) if c.other else "–"
        value = pct(getattr(c.other, metric)) if c.other else "–"
        limit = "–" if math.isnan(c.threshold) else f"±{100 * c.threshold:.1f}"
        table.append([f"{md_escape(o)}{mark}", point_label(c.other), clean, value,
                      _points_text(c.diff, c.se), limit, _outcome(c, ref)])
    return [" ".join(parts), "", *md_table(head, table)]


def checks_lines(
    rows: Sequence[FrontierRow], points: Sequence[FrontierPoint], cfg: FrontierConfig, *,
    name: str, tols: Sequence[float] = (0.005, 0.01, 0.02),
) -> list[str]:
    """Two checks on the headline verdict (:mod:`~seqrobust.studies.frontier.sensitivity`):
    other matching windows, and λ picked on all seeds but the one that scores it."""
    ref = cfg.reference
    others = [m.name for m in cfg.methods if m.name != ref]

    def cell(c: Comparison) -> str:
        if c.outcome == "no matched point":
            return "no matched point"
        limit = "" if math.isnan(c.threshold) else f" (±{100 * c.threshold:.1f})"
        return f"{_points_text(c.diff, c.se)}{limit}, {_outcome(c, ref)}"

    windows = []
    for tol, comps in window_comparisons(points, ref, others, metric="robust", tols=tols,
                                         confidence=cfg.confidence):
        baseline = [c for c, o in zip(comps, others, strict=True) if o in cfg.baselines]
        windows.append([f"{100 * tol:g}", point_label(comps[0].reference),
                        *map(cell, comps), claim_status(baseline)])
    lines = [f"Not part of the rule: how {name} comparisons move with the matching window "
             f"(the rule uses {100 * cfg.match_tol:g} point), and with λ picked without the "
             "seed that scores it.", "",
             *md_table(["window (points)", f"{md_escape(ref)} point",
                        *(f"vs {md_escape(o)}" for o in others), "claim"], windows)]
    lines += ["", f"Held-out seed: for each seed, plain's clean accuracy and each method's best "
              f"matched λ ({100 * cfg.match_tol:g}-point window) come from the other seeds, "
              f"and {md_escape(ref)} − method is measured on the held-out seed; the mean over "
              "held-out seeds is judged by a paired t-test at "
              f"{100 * cfg.confidence:g} %.", ""]
    heldout = []
    for o in others:
        diffs = heldout_seed_diffs(rows, ref, o, metric="robust", tol=cfg.match_tol,
                                   headline_eps=cfg.headline_eps)
        mean, se, threshold, outcome = paired_summary(diffs, confidence=cfg.confidence)
        picked = ", ".join(f"s{d.seed}: {d.reference_lam:g} / "
                           + ("–" if o == "plain" else f"{d.other_lam:g}") for d in diffs)
        per_seed = ", ".join(f"{100 * d.diff:+.1f}" for d in diffs)
        limit = "–" if math.isnan(threshold) else f"±{100 * threshold:.1f}"
        verdict = Comparison(None, o, None, mean, se, threshold, outcome)
        heldout.append([md_escape(o), picked or "–", per_seed or "–", _points_text(mean, se),
                        limit, _outcome(verdict, ref)])
    return lines + md_table(["method", f"λ picked ({md_escape(ref)} / method), per held-out "
                             "seed", "difference per held-out seed (points)", "mean ± s.e.",
                             "t threshold", "outcome"], heldout)


def coverage_lines(points: Sequence[FrontierPoint]) -> list[str]:
    """Per method: the robustness gain over plain at the smallest λ, ± the standard error of
    that difference of seed means (a grid should start near "no effect"), and the
    clean-accuracy cost at both ends (it should reach a 3-point cost)."""
    plain = next(p for p in points if p.method == "plain")
    rows = []
    methods = list(dict.fromkeys(p.method for p in points if p.method != "plain"))
    for m in methods:
        pts = sorted((p for p in points if p.method == m), key=lambda p: p.lam)
        drops = [plain.clean.mean - p.clean.mean for p in pts]
        gain = pts[0].robust.mean - plain.robust.mean
        se = math.hypot(pts[0].robust.se, plain.robust.se)
        rows.append([md_escape(m), f"{pts[0].lam:g} … {pts[-1].lam:g}", _points_text(gain, se),
                     f"{100 * drops[0]:+.2f}", f"{100 * drops[-1]:+.2f}",
                     "yes" if max(drops) >= COVERAGE_DROP else "no"])
    return md_table(["method", "λ range", "robust gain at smallest λ (points)",
                     "clean cost at smallest λ", "at largest λ",
                     f"reaches {100 * COVERAGE_DROP:g}-point cost"], rows)


def strength_lines(rows: Sequence[FrontierRow]) -> list[str]:
    """How much APGD/Square added to PGD on the check inputs (worst case vs PGD alone)."""
    gaps = [(a - w, e, r) for r in rows for (e, w), (_, a) in zip(r.worst, r.pgd_check,
                                                                  strict=False)]
    if not gaps:
        return ["No check attack ran: the robust accuracies are PGD alone."]
    gap, e, r = max(gaps, key=lambda g: g[0])
    mean = sum(g[0] for g in gaps) / len(gaps)
    return [f"Worst case over PGD, APGD-CE, APGD-DLR and Square vs PGD alone on the same "
            f"{r.n_check} inputs: on average {100 * mean:.2f} points lower, at most "
            f"{100 * gap:.2f} points ({md_escape(r.method)}, λ={r.lam:g}, seed {r.seed}, "
            f"ε={e:g})."]


def progress_lines(rows: Sequence[FrontierRow], pending: Sequence[str]) -> list[str]:
    """The "interim" banner of a study that is not finished (empty when it is)."""
    if not pending:
        return []
    total = len(rows) + len(pending)
    shown = ", ".join(md_escape(p) for p in pending[:6]) + (
        f" and {len(pending) - 6} more" if len(pending) > 6 else "")
    return [f"**Interim: {len(rows)} of {total} models finished** (pending: {shown}). The "
            "verdict below uses only the finished models.", ""]


def write_report(
    cfg: FrontierConfig, out: Path, rows: Sequence[FrontierRow], notes: Sequence[str],
    *, pending: Sequence[str] = (),
) -> Path:
    """Write ``frontier.csv``, ``frontier.png`` and ``frontier.md`` into ``out`` (``pending``:
    models not finished yet; with no plain model finished only the CSV and the banner)."""
    from seqrobust.reporting.plots_frontier import FrontierSeries, plot_frontier

    check_targets(out, "frontier.csv", "frontier.md", "frontier.png")
    out.mkdir(parents=True, exist_ok=True)
    key_eps = [e for e in cfg.key_eps if e in cfg.eps] or list(cfg.eps)
    write_csv(rows, out / "frontier.csv", key_eps=key_eps, check_eps=cfg.check_eps)
    if not any(r.method == "plain" for r in rows):
        return write_text_atomic(out, "frontier.md", "\n".join([
            "# Clean accuracy vs robustness frontier", "", *progress_lines(rows, pending)]))
    points = aggregate(rows, headline_eps=cfg.headline_eps)
    plain = next(p for p in points if p.method == "plain")

    def err(s: float) -> float:
        return 0.0 if math.isnan(s) else s

    series = []
    for m in cfg.methods:
        pts = sorted((p for p in points if p.method == m.name), key=lambda p: p.lam)
        series.append(FrontierSeries(
            label=mpl_escape(m.name), tags=["" if m.reg == "none" else f"{p.lam:g}" for p in pts],
            x=[p.clean.mean for p in pts], x_err=[err(p.clean.se) for p in pts],
            y=[[p.robust.mean for p in pts], [p.auc.mean for p in pts]],
            y_err=[[err(p.robust.se) for p in pts], [err(p.auc.se) for p in pts]],
        ))
    worst_note = "worst case over attacks" if any(r.worst for r in rows) else "PGD"
    robust_name = f"robust accuracy at ε={cfg.headline_eps:g} ({worst_note})"
    title = (f"{mpl_escape(cfg.dataset)}, hidden {cfg.hidden}, {cfg.epochs} epochs, seeds "
             f"{list(cfg.seeds)}; mean ± s.e. over seeds; dotted: plain − "
             f"{100 * cfg.match_tol:g} point")
    save_figure(out, "frontier.png", lambda path: plot_frontier(
        series, path, ylabels=[f"{robust_name} (%)", "PGD curve area (%)"],
        match_at=plain.clean.mean - cfg.match_tol, zoom=2 * cfg.match_tol, title=title))
    total_train = sum(r.train_seconds for r in rows)
    total_attack = sum(r.attack_seconds for r in rows)
    lines = [
        "# Clean accuracy vs robustness frontier",
        "",
        f"2-layer tanh RNN, hidden {cfg.hidden}, {md_escape(cfg.dataset)}, {cfg.epochs} epochs, "
        "shared "
        f"recipe, regularisers on {cfg.reg_fraction:g} of each batch; seeds {list(cfg.seeds)}. "
        f"Clean accuracy on the full test set; L∞ PGD-{cfg.steps} (α = {cfg.alpha:g} px, "
        f"{cfg.restarts} restart) nested sweep on the first {cfg.n_test} test inputs; APGD-CE/"
        f"DLR ({cfg.apgd_steps} steps) and Square ({cfg.square_queries} queries) at ε = "
        f"{', '.join(f'{e:g}' for e in cfg.check_eps)} on the first {cfg.check_n}, the robust "
        f"accuracy being the worst case over all attacks per input; AUC = mean PGD robust "
        f"accuracy over [0, {max(cfg.eps):g}]; ‖H‖_F² and |J| on the first {cfg.curv_n} "
        "inputs. ε in pixel units (0–255). Mean ± standard error over seeds.",
        "",
        *progress_lines(rows, pending),
        "![frontier](frontier.png)",
        "",
        "## Verdict",
        "",
        *verdict_lines(points, cfg, metric="robust", name=robust_name),
        "",
        *verdict_lines(points, cfg, metric="auc", name="PGD curve area"),
        "",
        "Rule: `seqrobust.studies.frontier.table` (module docstring). Picking the best λ "
        "with the same seeds that measure it favours methods with more λ values.",
        "",
        "### Checks on the verdict",
        "",
        *checks_lines(rows, points, cfg, name=robust_name),
        "",
        "## All points",
        "",
        format_points(points, key_eps=key_eps, headline_eps=cfg.headline_eps),
        "",
        "Per model: `frontier.csv`. Curves and measurements: `evals/NAME/*.json`.",
        "",
        "## λ grid coverage",
        "",
        *coverage_lines(points),
        "",
        "## Attack strength",
        "",
        *strength_lines(rows),
        "",
        "## Cost",
        "",
        f"{len(rows)} models: training {total_train:.0f} s, attacks {total_attack:.0f} s in "
        "total (wall time, as measured when each was computed; cached results keep their "
        "original times).",
    ]
    if notes:
        lines += ["", "## Notes", "", *[f"- {md_escape(n)}" for n in notes]]
    config = ",\n".join(f" {json.dumps(k)}: {json.dumps(v)}" for k, v in asdict(cfg).items())
    lines += ["", "## Configuration", "", md_code_block("{\n" + config + "\n}", "json"), ""]
    return write_text_atomic(out, "frontier.md", "\n".join(lines))


__all__ = [
    "checks_lines", "coverage_lines", "progress_lines", "strength_lines", "verdict_lines",
    "write_report",
]
