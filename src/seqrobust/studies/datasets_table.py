"""The results table of :mod:`seqrobust.studies.datasets`: ``table.csv`` (every column, the
weights and data SHA-256 of each cell included) and ``table.md`` (the readable subset, names
escaped for Markdown), written inside the output folder, never through a symlink."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from seqrobust._safeio import write_text_atomic
from seqrobust.reporting.text import md_escape, md_table
from seqrobust.runs.outputs import check_targets, write_csv

COLUMNS = (
    "dataset", "mode", "lam", "clean_acc", "pgd_acc_eps1", "pgd_acc_eps2", "eps1", "eps2",
    "square_acc_eps1", "square_acc_eps2",
    "median_lower", "median_measured", "bracket", "lower_le_measured", "median_v", "spearman_v",
    "median_vt_over_j2", "median_linear_over_measured", "analysed", "attacked", "train_seconds",
    "train_cpu_seconds", "train_acc", "lam_candidates", "weights_sha256", "data_sha256",
)  # fmt: skip


def write_table(rows: list[dict[str, Any]], out: Path) -> None:
    """Write ``table.csv`` (every column) and ``table.md`` (the readable subset)."""
    check_targets(out, "table.csv", "table.md")
    write_csv(out, "table.csv", list(COLUMNS), [[r.get(c, "") for c in COLUMNS] for r in rows])
    write_text_atomic(out, "table.md", format_table(rows) + "\n")


def _num(value: float | None, fmt: str, scale: float = 1.0) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    return format(scale * value, fmt)


def format_table(rows: list[dict[str, Any]]) -> str:
    """The Markdown results table: accuracies in %, ε and distances in training standard
    deviations (ε L∞, distances L2), training time in CPU seconds (wall seconds when the CPU
    time was not measured, marked ``w``); dataset and mode names escaped."""
    if not rows:
        return ""
    head = ["dataset", "mode", "λ", "clean %", "ε₁, ε₂", "PGD ε₁ %", "PGD ε₂ %", "Square ε₁ %",
            "Square ε₂ %", "found / analysed", "median lower", "median measured",
            "lower≤meas≤upper %", "lower≤meas %", "median v", "median v·t/\\|J\\|²",
            "Spearman(v, meas)", "train CPU s"]
    table = []
    for r in rows:
        cpu = r.get("train_cpu_seconds", math.nan)
        train_s = _num(cpu, ".0f") if math.isfinite(cpu) else _num(r["train_seconds"], ".0f") + "w"
        table.append([
            md_escape(r["dataset"]), md_escape(r["mode"]),
            _num(r["lam"], "g") if r["lam"] else "–", f"{100 * r['clean_acc']:.1f}",
            f"{r['eps1']:g}, {r['eps2']:g}", f"{100 * r['pgd_acc_eps1']:.1f}",
            f"{100 * r['pgd_acc_eps2']:.1f}", _num(r.get("square_acc_eps1"), ".1f", 100),
            _num(r.get("square_acc_eps2"), ".1f", 100),
            f"{r.get('attacked', '?')} / {r['analysed']}", _num(r["median_lower"], ".3f"),
            _num(r["median_measured"], ".3f"), _num(r["bracket"], ".0f", 100),
            _num(r["lower_le_measured"], ".0f", 100), _num(r["median_v"], ".3g"),
            _num(r.get("median_vt_over_j2"), ".3g"), _num(r["spearman_v"], "+.2f"), train_s])
    return "\n".join(md_table(head, table))


__all__ = ["COLUMNS", "format_table", "write_table"]
