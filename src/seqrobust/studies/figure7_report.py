"""``figure7.png``, ``figure7.csv`` and ``figure7.md`` of :mod:`seqrobust.studies.figure7`:
written inside the output folder (never through a symlink), every model name and note
escaped for Markdown and matplotlib (:mod:`seqrobust.reporting.text`), and the weights and
data SHA-256 of every curve listed."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seqrobust._safeio import write_text_atomic
from seqrobust.measure.checks import Check
from seqrobust.measure.robustness import RobustnessCurve
from seqrobust.reporting.text import md_code_block, md_escape, md_table, mpl_escape
from seqrobust.runs.attack import format_checks, format_table
from seqrobust.runs.outputs import check_targets, save_figure, write_csv

if TYPE_CHECKING:
    from seqrobust.studies.figure7 import Figure7Config

FILES = ("figure7.png", "figure7.csv", "figure7.md")


def _short(digest: Any) -> str:
    return f"`{digest[:16]}`" if isinstance(digest, str) else "–"


def write_figure7(
    cfg: Figure7Config, out: Path, plain_acc: float,
    sweep_rows: list[tuple[str, float, float, bool]], curves: list[RobustnessCurve],
    extra: list[RobustnessCurve], checks: dict[str, list[Check]], notes: list[str],
    claim: list[str], provenance: dict[str, dict[str, Any]],
) -> Path:
    """Write the figure, the CSV of every curve and the Markdown report into ``out``.

    Args:
        cfg: the experiment.
        out: its output folder.
        plain_acc: the plain model's clean test accuracy.
        sweep_rows: ``(regulariser, λ, clean accuracy, kept)`` per trained model.
        curves: the PGD curve of every kept model.
        extra: the reliability-check curves.
        checks: the sanity checks per model label.
        notes: notes for the end of the report (escaped here).
        claim: the claim's Markdown lines (:func:`~seqrobust.studies.figure7.claim_lines`).
        provenance: per model label, the provenance of its PGD curve.

    Returns:
        The path of ``figure7.md``.
    """
    from seqrobust.reporting.plots_robustness import plot_accuracy_vs_eps

    check_targets(out, *FILES)
    lines_png = [(mpl_escape(c.label), (0.0, *c.eps), (c.clean_accuracy, *c.accuracy))
                 for c in curves]
    title = f"PGD-{cfg.steps} (α={cfg.alpha:g}), {mpl_escape(cfg.dataset)}, n={cfg.n_test}"
    save_figure(out, "figure7.png",
                lambda path: plot_accuracy_vs_eps(lines_png, path, title=title))
    rows: list[list[Any]] = []
    for c in [*curves, *extra]:
        rows.append([c.label, c.settings.attack, c.n, 0, f"{c.clean_accuracy:.6f}"])
        rows += [[c.label, c.settings.attack, c.n, f"{e:g}", f"{a:.6f}"]
                 for e, a in zip(c.eps, c.accuracy, strict=True)]
    write_csv(out, "figure7.csv", ["model", "attack", "n", "eps_pixels", "accuracy"], rows)
    key_eps = tuple(e for e in (2.0, 4.0, 8.0, 16.0, 30.0) if e in cfg.eps) or cfg.eps
    lines = [
        "# Figure 7: robustness of regularised RNNs",
        "",
        f"2-layer tanh RNN, hidden {cfg.hidden}, {md_escape(cfg.dataset)}, {cfg.epochs} epochs "
        f"(shared recipe), seed {cfg.seed}. L∞ PGD-{cfg.steps}, α = {cfg.alpha:g} pixels, random "
        f"start, nested ε-sweep on the first {cfg.n_test} test inputs; ε in pixel units (0–255).",
        "",
        "![Figure 7](figure7.png)",
        "",
        "## Robust accuracy (%)",
        "",
        format_table(curves, eps=key_eps),
        "",
        "Full curves: `figure7.csv`.",
        "",
        *claim,
        f"## Regularisation strength (clean test accuracy, plain {100 * plain_acc:.2f} %)",
        "",
        f"Kept: the largest λ within {100 * cfg.max_drop:.0f} point of plain (else the smallest).",
        "",
        *md_table(["regulariser", "λ", "clean %", "kept"],
                  [[md_escape(r), f"{lam:g}", f"{100 * a:.2f}", "yes" if k else ""]
                   for r, lam, a, k in sweep_rows]),
        "",
        f"## Reliability check (first {cfg.check_n} inputs; APGD {cfg.apgd_steps} steps, "
        f"Square {cfg.square_queries} queries)",
        "",
        format_table([*[c.head(cfg.check_n) for c in curves], *extra], eps=cfg.check_eps),
        "",
        "## Sanity checks",
        "",
    ]
    for label, found in checks.items():
        lines += [f"### {md_escape(label)}", "", format_checks(found), ""]
    lines += ["## Timing", "", *md_table(
        ["model", "attack", "n", "seconds"],
        [[md_escape(c.label), c.settings.attack, c.n, f"{c.seconds:.1f}"]
         for c in [*curves, *extra]])]
    lines += ["", "## Provenance", "", *md_table(
        ["model", "weights SHA-256", "data SHA-256 (as loaded)"],
        [[md_escape(label), _short(p.get("weights_sha256")),
          _short(p.get("data_tensors_sha256"))] for label, p in provenance.items()])]
    if notes:
        lines += ["", "## Notes", "", *[f"- {md_escape(n)}" for n in notes]]
    lines += ["", "## Configuration", "", md_code_block(json.dumps(asdict(cfg), indent=1),
                                                       "json"), ""]
    return write_text_atomic(out, "figure7.md", "\n".join(lines))


__all__ = ["write_figure7"]
