"""``seqrobust report RUN [RUN ...]``: one self-contained HTML file about one or more runs.

Sections: configuration, training curves and clean accuracy; geometry (``seqrobust analyze``);
robustness curves (``seqrobust attack``); noise bound (``seqrobust noise``); a gallery of inputs
with their minimal adversarials and per-step sensitivity; the Figure-3 slice and Figure-4
curves (``seqrobust plot``). A section without data says so and how to produce it. Several
runs get a comparison table first.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from seqrobust.attacks import minimal_l2
from seqrobust.data import load_dataset
from seqrobust.geometry import margin_gradient, margins
from seqrobust.models import differentiable_forward
from seqrobust.reporting import html
from seqrobust.reporting.plots_report import gallery_item, training_curves
from seqrobust.training import load_model
from seqrobust.training.config import TrainConfig


def _json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _metrics(run: Path) -> list[dict[str, Any]]:
    path = run / "metrics.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _flat(summary: dict[str, Any], prefix: str = "") -> list[tuple[str, object]]:
    rows: list[tuple[str, object]] = []
    for key, value in summary.items():
        if isinstance(value, dict):
            rows += _flat(value, f"{prefix}{key}.")
        elif isinstance(value, int | float | str | bool) or value is None:
            rows.append((prefix + key, value))
    return rows


def _pngs(folder: Path) -> str:
    return "".join(html.image(p, alt=p.stem) for p in sorted(folder.glob("*.png")))


def _gallery(run: Path, n: int) -> str:
    model, cfg = load_model(run)
    data = load_dataset(cfg.dataset, split="test", root=cfg.data_root, limit=max(4 * n, 20))
    f = differentiable_forward(model.double(), functional=True)
    items, shown = [], 0
    for i in range(len(data)):
        if shown == n:
            break
        steps = data.seq_len if data.lengths is None else int(data.lengths[i])
        x = data.inputs[i : i + 1, :steps].double()
        m = margins(f, x)
        if int(m.pred[0]) != int(data.labels[i]):
            continue
        bounds = data.bounds or (-math.inf, math.inf)
        best = minimal_l2(f, x, bounds=bounds, fmn_steps=50).best
        _, j = margin_gradient(f, x, pred=m.pred, other=m.runner_up)
        png = gallery_item(
            x[0].numpy(),
            best.adversarials[0].numpy(),
            j[0].norm(dim=1).numpy(),
            image_like=cfg.dataset.startswith("mnist") and data.num_features == 28,
            title=(
                f"test input {i}: label {int(data.labels[i])}, runner-up "
                f"{int(m.runner_up[0])}, |δ| = {float(best.norms[0]) / data.eps_scale:.3g} "
                f"{data.eps_unit}"
            ),
        )
        items.append(f"<figure>{html.image(png, alt=f'input {i}')}</figure>")
        shown += 1
    return "".join(items)


def run_section(run: Path, *, gallery: int = 3) -> tuple[str, dict[str, object]]:
    """HTML for one run and its headline numbers (for the comparison table)."""
    cfg = TrainConfig.load(run / "config.json")
    final = _json(run / "model.json") or {}
    meta = final.get("meta", {})
    esc = html.esc
    config = " ".join(f"<code>{esc(k)}={esc(v)}</code>" for k, v in sorted(cfg.to_json().items()))
    parts = [f"<h2>Run {esc(run)}</h2>", "<h3>Configuration</h3>", f"<p>{config}</p>"]
    headline: dict[str, object] = {"run": str(run), "cell": cfg.cell, "reg": cfg.reg}
    records = _metrics(run)
    parts.append("<h3>Training</h3>")
    if records:
        parts.append(html.image(training_curves(records), alt="training curves"))
    if "test_accuracy" in meta:
        acc = 100 * float(meta["test_accuracy"])
        headline["clean accuracy %"] = acc
        parts.append(
            f"<p>Clean test accuracy: <b>{acc:.2f} %</b> after {meta.get('step')} "
            f"steps ({float(meta.get('elapsed', 0)):.0f} s of training).</p>"
        )
    else:
        parts.append(
            html.missing("The run has not finished.", f"seqrobust train --out {run} --resume")
        )

    parts.append("<h3>Geometry and Theorem-1 bounds</h3>")
    summary = _json(run / "analyze" / "summary.json")
    if summary:
        parts.append(html.table(["quantity", "value"], _flat(summary)))
        parts.append(_pngs(run / "analyze"))
        ratio = summary.get("median_ratio", {})
        if isinstance(ratio, dict) and "lower_over_measured" in ratio:
            headline["median lower/measured"] = ratio["lower_over_measured"]
    else:
        parts.append(html.missing("No geometry analysis yet.", f"seqrobust analyze {run} --n 1000"))

    parts.append("<h3>Robustness curves</h3>")
    attacks = sorted(p for p in (run / "attacks").glob("*") if p.is_dir())
    if attacks:
        for folder in attacks:
            parts.append(f"<h4>{esc(folder.name)}</h4>")
            for js in sorted(folder.glob("*.json")):
                data = _json(js)
                if data:
                    parts.append(html.table(["quantity", "value"], _flat(data)[:40]))
            parts.append(_pngs(folder))
    else:
        parts.append(
            html.missing(
                "No attack results yet.", f"seqrobust attack {run} --attack pgd --eps 1:30"
            )
        )

    parts.append("<h3>Random noise and the probabilistic bound</h3>")
    noise = run / "noise"
    if noise.is_dir() and any(noise.glob("*.png")):
        parts.append(_pngs(noise))
    else:
        parts.append(html.missing("No noise study yet.", f"seqrobust noise {run} --n 100"))

    parts.append("<h3>Gallery: minimal adversarials and per-step sensitivity</h3>")
    if gallery > 0 and "test_accuracy" in meta:
        parts.append(f'<div class="gallery">{_gallery(run, gallery)}</div>')
    parts.append("<h3>Decision-boundary slices (Figures 3 and 4)</h3>")
    figures = run / "figures"
    if figures.is_dir() and any(figures.glob("*.png")):
        parts.append(_pngs(figures))
    else:
        parts.append(
            html.missing("No slice drawn yet.", f"seqrobust plot boundary {run} --index 0")
        )
    return "".join(parts), headline


def build_report(runs: list[Path], out: Path, *, gallery: int = 3) -> Path:
    """Write the report for ``runs`` to ``out`` and return its path.

    Raises:
        ValueError: if a folder is not a seqrobust run.
    """
    if not runs:
        raise ValueError("give at least one run folder")
    sections, headlines = [], []
    for run in runs:
        section, headline = run_section(run, gallery=gallery)
        sections.append(section)
        headlines.append(headline)
    body = ""
    if len(runs) > 1:
        keys = sorted({k for h in headlines for k in h} - {"run"})
        body += "<h2>Comparison</h2>" + html.table(
            ["run", *keys], [[h.get("run"), *(h.get(k, "-") for k in keys)] for h in headlines]
        )
    body += "".join(sections)
    out.parent.mkdir(parents=True, exist_ok=True)
    title = "seqrobust report: " + ", ".join(r.name for r in runs)
    out.write_text(html.page(title, body), encoding="utf-8")
    return out


__all__ = ["build_report", "run_section"]
