"""``architectures.md``, ``architectures.csv`` and ``architectures.png``: per-dataset tables
beside the published UCR figures, the curvature–robustness figure and the verdict (rule in
:mod:`~seqrobust.studies.architectures.table`)."""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Sequence
from dataclasses import asdict, fields
from pathlib import Path

from seqrobust._safeio import write_text_atomic
from seqrobust.reporting.text import md_code_block, md_escape, md_table, mpl_escape
from seqrobust.runs.outputs import check_targets, csv_text, save_figure
from seqrobust.studies.architectures.config import ArchitecturesConfig
from seqrobust.studies.architectures.evaluate import ArchRow
from seqrobust.studies.architectures.published import PUBLISHED, SOURCE
from seqrobust.studies.architectures.summary import (
    LEAD_SE,
    architecture_lines,
    benchmark_lines,
    head_to_head_lines,
    pct,
    remaining_hours,
    summary_lines,
)
from seqrobust.studies.architectures.table import (
    MIN_CONFIGS,
    ArchPoint,
    RankCorrelation,
    aggregate,
    comparable,
    curvature_correlations,
    split_correlations,
)

NAMES = ("architectures.md", "architectures.csv", "architectures.png")


def _num(x: float) -> str:
    return "–" if not math.isfinite(x) else f"{x:.3g}"


def _spread(p: ArchPoint, key: str) -> str:
    low, high = p.quartiles[key]
    return f"{_num(p.mean[key])} [{_num(low)}, {_num(high)}]"


def _signed(x: float) -> str:
    return "–" if not math.isfinite(x) else f"{x:+.2f}"


def _rho(c: RankCorrelation) -> str:
    if math.isnan(c.rho):
        return f"ρ undefined (n = {c.n})"
    return f"ρ = {c.rho:+.2f} [{c.low:+.2f}, {c.high:+.2f}] (n = {c.n})"


def dataset_table(points: Sequence[ArchPoint], dataset: str, eps: float, *,
                  compared: Sequence[ArchPoint] | None = None) -> list[str]:
    """The Markdown table of one dataset, published rows first where there are any; points
    not in ``compared`` (default: all are) are marked "(not compared)"."""
    head = ["model", "λ", "seeds", "clean", "FGSM", "BIM", f"PGD-30 ε={eps:g}",
            f"worst ε={eps:g}", "λ_max median [quartiles]", "‖H‖_F² median [quartiles]",
            "|J| median [quartiles]",
            "bracketed", "ρ(v, dist.) inputs", "train s"]
    rows = [[f"**{name}** ({SOURCE})", "–", "–", f"{clean:.1f}", f"{fgsm:.1f}", f"{bim:.1f}",
             *["–"] * 8] for name, (clean, fgsm, bim) in PUBLISHED.get(dataset, {}).items()]
    for p in (q for q in points if q.dataset == dataset):
        m, s = p.mean, p.se
        mark = "" if compared is None or p in compared else " (not compared)"
        cells = [f"{md_escape(p.arch)} {md_escape(p.mode)}{mark}", "–" if p.mode == "plain" else
                 f"{p.lam:g}", str(p.seeds), pct(m["clean"], s["clean"]),
                 pct(m["fgsm"], s["fgsm"]), pct(m["bim"], s["bim"]),
                 pct(p.pgd.get(eps, math.nan)),
                 pct(m["worst"], s["worst"]), *(_spread(p, k) for k in ("v", "r", "j")),
                 pct(m["bracket"]), _signed(m["rho_inputs"]), f"{m['train_seconds']:.0f}"]
        rows.append(cells)
    return md_table(head, rows)


def verdict_lines(corr: dict[str, RankCorrelation]) -> list[str]:
    """The plain-language verdict on "robustness increases as curvature decreases"."""
    per = {d: c for d, c in corr.items() if d != "pooled"}
    tally = {o: [d for d, c in per.items() if c.outcome == o]
             for o in ("supported", "contradicted", "not settled")}
    lines = [f"- {md_escape(d)}: {_rho(c)}: **{c.outcome}**" for d, c in per.items()]
    if "pooled" in corr:
        lines.append(f"- pooled (ranks within each dataset): {_rho(corr['pooled'])}: "
                     f"**{corr['pooled'].outcome}**")
    summary = (f"Across architectures and defences, lower median curvature goes with higher "
               f"worst-case robust accuracy on {len(tally['supported'])} of {len(per)} "
               f"dataset(s) (interval below 0: {', '.join(tally['supported']) or 'none'}); "
               f"the opposite on {len(tally['contradicted'])} "
               f"({', '.join(tally['contradicted']) or 'none'}); not settled on "
               f"{len(tally['not settled'])}"
               + (f" ({few} with fewer than {MIN_CONFIGS} comparable configurations)"
                  if (few := sum(math.isnan(c.rho) for c in per.values())) else "") + ".")
    return [md_escape(summary), "", *lines]


def split_lines(split: dict[str, RankCorrelation]) -> list[str]:
    """The pooled correlation split into architectures (plain models) and defences (within
    each architecture): context for the verdict, not part of its rule."""
    return ["Where the pooled ρ comes from (context, not the rule): "
            + "; ".join(f"{md_escape(k)} {_rho(c)}, {c.outcome}" for k, c in split.items())
            + ". *Between architectures*: plain models only, ranks within each dataset (does "
            "the architecture with the flatter boundary resist better?). *Between defences*: "
            "ranks within each dataset × architecture (does the defence that flattens a "
            "model's boundary most make it the most robust?)."]


MEASURES = {"v": "median λ_max of the margin Hessian", "j": "median |J|"}
"""The other per-model measures the pooled ρ is recomputed with (context, not the rule)."""


def measure_lines(points: Sequence[ArchPoint]) -> list[str]:
    """The pooled ρ with :data:`MEASURES` in place of median R (over ``points``)."""
    parts = [f"{text} {_rho(c)}, {c.outcome}" for key, text in MEASURES.items()
             if (c := curvature_correlations(points, curvature=key).get("pooled")) is not None]
    if not parts:
        return []
    return ["With another measure in place of median R (context, not the rule): pooled "
            + "; ".join(parts) + "."]


def input_rank_lines(rows: Sequence[ArchRow], datasets: Sequence[str]) -> list[str]:
    """How curvature ranks the inputs *within* each model (the poster's view): per dataset the
    median over models of ρ(λ_max, measured minimal distance)."""
    parts = []
    for d in datasets:
        vals = [r.rho_inputs for r in rows if r.dataset == d and math.isfinite(r.rho_inputs)]
        if vals:
            parts.append(f"{md_escape(d)} {statistics.median(vals):+.2f} ({len(vals)} models)")
    if not parts:
        return []
    return ["Within a model, curvature ranks inputs: median ρ(λ_max, measured distance) over "
            "the analysed inputs (negative: more curved inputs lie closer to the boundary): "
            + "; ".join(parts) + "."]


def _benchmark_section(cfg: ArchitecturesConfig, points: Sequence[ArchPoint],
                       compared: Sequence[ArchPoint], datasets: Sequence[str]) -> list[str]:
    table = benchmark_lines(points, compared, datasets, cfg.archs)
    if not table:
        return []
    same = " (the same: the series as aeon ships them)"
    ours = ", ".join(f"ε = {e:g} in {u} units{same if u == 'raw' else ''}" for e, u in sorted(
        {(cfg.plan(d).eps, cfg.plan(d).units) for d in datasets if d in PUBLISHED}))
    return ["## Against the published benchmark", "",
            "Accuracy (%) clean / FGSM / BIM; published: ε = 0.1 in the archive's z-normalised "
            f"units; ours: {ours}. "
            "For each of our architectures: its comparable configuration with the highest BIM "
            "accuracy (the defence in brackets), mean over seeds; *not compared*: no "
            "configuration of it came within the clean-accuracy window.", "", *table, ""]


def write_report(cfg: ArchitecturesConfig, out: Path, rows: Sequence[ArchRow],
                 notes: Sequence[str], *, pending: Sequence[str] = ()) -> Path:
    """Write the three files into ``out`` (``pending``: units not finished yet)."""
    from seqrobust.reporting.plots_scatter import ScatterPanel, plot_scatter

    check_targets(out, *NAMES)
    out.mkdir(parents=True, exist_ok=True)
    header = [f.name for f in fields(ArchRow)]
    write_text_atomic(out, "architectures.csv", csv_text(header, [
        [json.dumps(v) if isinstance(v, tuple) else v for v in asdict(r).values()]
        for r in rows]))
    points = aggregate(rows)
    compared = comparable(points, window=cfg.clean_window)
    datasets = [p.name for p in cfg.datasets if any(r.dataset == p.name for r in rows)]
    corr = curvature_correlations(compared)
    every = curvature_correlations(points).get("pooled")
    expected = [(p.name, a, m.name, s) for p in cfg.datasets for a in cfg.archs
                for m in cfg.modes for s in p.seeds]
    left, unknown = remaining_hours(rows, expected)
    lines = [
        "# Which sequence architecture is most robust, and does curvature explain it?", "",
        "## Progress", "",
        f"{len(rows)} of {len(expected)} final models recorded ("
        f"{sum(r.train_seconds + r.eval_seconds for r in rows) / 3600:.1f} h of training and "
        "measurement, one thread each, selection models not counted)"
        + (f"; {len(pending)} unit(s) not finished: "
           f"{', '.join(md_escape(p) for p in pending[:6])}"
           f"{f' and {len(pending) - 6} more' if len(pending) > 6 else ''}; about "
           f"{left:.1f} h left at the cost of the same configurations' recorded seeds"
           + (f" (and {unknown} model(s) with none recorded)" if unknown else "") + "."
           if pending else "; the study is complete."), "",
        "## Protocol", "",
        f"Architectures {', '.join(cfg.archs)} (hidden {cfg.hidden}, {cfg.layers} layers; TCN: "
        f"blocks covering the sequence) × modes {', '.join(m.name for m in cfg.modes)}. λ per "
        f"mode: the largest of its grid whose validation accuracy (a stratified "
        f"{100 * cfg.val_fraction:g} % split of the training data, seed 0) is within "
        f"{100 * cfg.tolerance:g} point of plain's"
        + (f" (a grid grows upwards by up to {cfg.extend} decades while its top is chosen)"
           if cfg.extend else "") + "; final models retrained on the whole "
        "training split. Attacks on the first test inputs (see each table): FGSM and BIM "
        "(the published protocol), PGD-30, then APGD-CE, APGD-DLR (≥ 3 classes) and Square, "
        "each on the inputs every attack before it failed to fool; *worst*: robust only if "
        "none of them fooled the input. Curvature on the first inputs: λ_max of "
        "the margin Hessian, R = Σ_k ‖∇²f_k‖_F², |J|; *bracketed*: Theorem-1 "
        "lower ≤ measured ≤ upper. Mean ± s.e. over seeds.", "",
        "## Verdict", "",
        "The poster: *robustness increases as decision-boundary curvature decreases*. "
        "Spearman ρ(median R, worst-case robust accuracy) over the comparable configurations "
        "of a dataset (architecture × mode, each the mean over its seeds, whose clean accuracy "
        f"is within {100 * cfg.clean_window:g} points of the dataset's best: "
        f"{len(compared)} of {len(points)}), 95 % bootstrap interval "
        "(rule: `seqrobust.studies.architectures.table`):", "",
        *verdict_lines(corr), "",
        *([f"Over every configuration, comparable or not: pooled {_rho(every)}, "
           f"{every.outcome}.", ""] if every is not None else []),
        *split_lines(split_correlations(compared)), "",
        *measure_lines(compared), "",
        *input_rank_lines(rows, [p.name for p in cfg.datasets]), "",
        "![robust accuracy against curvature](architectures.png)", "",
        "## Most robust per dataset", "",
        f"Among the comparable configurations (clean accuracy within "
        f"{100 * cfg.clean_window:g} points of the dataset's best). The published figures "
        "are Fawaz et al.'s best BIM accuracy and its model's clean accuracy. *Lead*: the most "
        "robust configuration's worst case minus the next one's, ± the standard error of the "
        f"difference over seeds; *clear* when above {LEAD_SE:g} standard errors.", "",
        *summary_lines(compared, datasets), "",
        "## Architectures ranked", "",
        "Each architecture's most robust comparable configuration (worst case %, any defence) "
        "per dataset, and its mean rank among the architectures over the datasets where it "
        "has one (1: most robust); – : no configuration of it is comparable there.", "",
        *architecture_lines(compared, datasets, cfg.archs), "",
        "Head to head, on the same datasets (the mean rank above averages over different "
        "ones): datasets where the row's most robust comparable configuration has the higher "
        "worst case – datasets where the column's has.", "",
        *head_to_head_lines(compared, datasets, cfg.archs), "",
        *_benchmark_section(cfg, points, compared, datasets),
    ]
    panels = []
    for d in datasets:
        rs = [r for r in rows if r.dataset == d]
        plan = cfg.plan(d)
        lines += [f"## {md_escape(d)}", "",
                  f"Units: {plan.units}; ε = {plan.eps:g}; {rs[0].n_attack} test inputs "
                  f"attacked, {rs[0].n_analyze} analysed; {plan.epochs} epochs.", "",
                  *dataset_table(points, d, plan.eps, compared=compared), ""]
        ps = [p for p in points if p.dataset == d]
        panels.append(ScatterPanel(f"{mpl_escape(d)}: {_rho(corr[d])}",
                                   [p.mean["r"] for p in ps], [p.mean["worst"] for p in ps],
                                   [p.arch for p in ps], [p.mode for p in ps],
                                   faded=[p not in compared for p in ps]))
    if panels:
        save_figure(out, "architectures.png", lambda path: plot_scatter(
            panels, path, xlabel="median ‖H‖_F², mean over seeds (log)",
            ylabel="worst-case robust acc. (%)",
            caption="hollow: not compared (clean accuracy more than "
                    f"{100 * cfg.clean_window:g} points below the dataset's best)"))
    if notes:
        lines += ["## Notes", "", *[f"- {md_escape(n)}" for n in notes], ""]
    config = json.dumps(asdict(cfg), indent=1)
    lines += ["## Configuration", "", md_code_block(config, "json"), ""]
    return write_text_atomic(out, "architectures.md", "\n".join(lines))


__all__ = ["dataset_table", "input_rank_lines", "measure_lines", "split_lines", "verdict_lines",
           "write_report"]
