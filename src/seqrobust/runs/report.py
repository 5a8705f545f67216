"""``seqrobust report RUN [RUN ...]``: one self-contained HTML file about one or more runs
(or a foreign model: ``seqrobust report --model ... --out DIR/report.html``, which reads the
model's results from ``DIR``, laid out like a run folder).

Sections: configuration, training curves and clean accuracy; geometry (``seqrobust analyze``);
robustness curves (``seqrobust attack``); noise bound (``seqrobust noise``); a gallery of inputs
with their minimal adversarials and per-step sensitivity; the Figure-3 slice and Figure-4
curves (``seqrobust plot``). A section without data says so and how to produce it. Several
runs get a comparison table first.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from seqrobust.attacks import minimal_l2
from seqrobust.geometry import margin_gradient, margins
from seqrobust.measure._lengths import attack_bounds
from seqrobust.reporting import html
from seqrobust.reporting.plots_report import gallery_item, training_curves
from seqrobust.runs.figures import one_input
from seqrobust.runs.load import Loaded, ModelSource, as_source, load_source
from seqrobust.training.config import TrainConfig
from seqrobust.training.loop import accuracy


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


def _gallery(loaded: Loaded, n: int) -> str:
    data = loaded.data
    bounds = attack_bounds(data)  # unbounded data: a range that never binds
    items, shown = [], 0
    for i in range(len(data)):
        if shown == n:
            break
        f, real = one_input(loaded.model, data, i)
        x = real[None]
        m = margins(f, x)
        if int(m.pred[0]) != int(data.labels[i]):
            continue
        best = minimal_l2(f, x, bounds=bounds, fmn_steps=50).best
        _, j = margin_gradient(f, x, pred=m.pred, other=m.runner_up)
        png = gallery_item(
            x[0].numpy(),
            best.adversarials[0].numpy(),
            j[0].norm(dim=1).numpy(),
            image_like=data.name.startswith("mnist") and data.num_features == 28,
            title=(
                f"test input {i}: label {int(data.labels[i])}, runner-up "
                f"{int(m.runner_up[0])}, |δ| = {float(best.norms[0]) / data.eps_scale:.3g} "
                f"{data.eps_unit}"
            ),
        )
        items.append(f"<figure>{html.image(png, alt=f'input {i}')}</figure>")
        shown += 1
    return "".join(items)


def _run_header(run: Path) -> tuple[list[str], dict[str, object], bool]:
    """Configuration, training curves and clean accuracy of a run folder; whether it has
    finished."""
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
    return parts, headline, "test_accuracy" in meta


def _foreign_header(loaded: Loaded) -> tuple[list[str], dict[str, object]]:
    """Provenance and clean accuracy of a foreign model on its data."""
    source, data = loaded.source, loaded.data
    acc = 100 * accuracy(loaded.model, data)
    parts = [f"<h2>Model {html.esc(source.name)}</h2>", "<h3>Provenance</h3>",
             html.table(["quantity", "value"], _flat(loaded.provenance)),
             "<h3>Clean accuracy</h3>",
             f"<p>Clean accuracy on the {len(data)} inputs of {html.esc(data.name)}: "
             f"<b>{acc:.2f} %</b> (trained outside seqrobust).</p>"]
    return parts, {"run": source.name, "clean accuracy %": acc}


def _hint(source: ModelSource, folder: Path, command: str, options: str, sub: str) -> str:
    """The command that fills a section: on a run folder its default output, else ``--out``
    into ``folder`` (where the report looks)."""
    if source.run is not None:
        return f"seqrobust {command} {source.run} {options}"
    return f"seqrobust {command} {source.cli_args()} {options} --out {folder / sub}"


def _results(source: ModelSource, folder: Path) -> list[str]:
    """The sections read from the outputs in ``folder`` (laid out like a run folder)."""
    esc = html.esc
    parts = ["<h3>Geometry and Theorem-1 bounds</h3>"]
    summary = _json(folder / "analyze" / "summary.json")
    if summary:
        parts.append(html.table(["quantity", "value"], _flat(summary)))
        parts.append(_pngs(folder / "analyze"))
    else:
        parts.append(html.missing("No geometry analysis yet.",
                                  _hint(source, folder, "analyze", "--n 1000", "analyze")))
    parts.append("<h3>Robustness curves</h3>")
    attacks = sorted(p for p in (folder / "attacks").glob("*") if p.is_dir())
    for sub in attacks:
        parts.append(f"<h4>{esc(sub.name)}</h4>")
        for js in sorted(sub.glob("*.json")):
            data = _json(js)
            if data:
                parts.append(html.table(["quantity", "value"], _flat(data)[:40]))
        parts.append(_pngs(sub))
    if not attacks:
        parts.append(html.missing("No attack results yet.", _hint(
            source, folder, "attack", "--attack pgd --eps 1:30", "attacks/pgd")))
    parts.append("<h3>Random noise and the probabilistic bound</h3>")
    noise = folder / "noise"
    if noise.is_dir() and any(noise.glob("*.png")):
        parts.append(_pngs(noise))
    else:
        parts.append(html.missing("No noise study yet.",
                                  _hint(source, folder, "noise", "--n 100", "noise")))
    return parts


def _figures(source: ModelSource, folder: Path) -> list[str]:
    parts = ["<h3>Decision-boundary slices (Figures 3 and 4)</h3>"]
    figures = folder / "figures"
    if figures.is_dir() and any(figures.glob("*.png")):
        parts.append(_pngs(figures))
    else:
        parts.append(html.missing("No slice drawn yet.", _hint(
            source, folder, "plot boundary", "--index 0", "figures/boundary-0.png")))
    return parts


def run_section(
    run: Path | ModelSource, *, gallery: int = 3, folder: Path | None = None
) -> tuple[str, dict[str, object]]:
    """HTML for one run folder or foreign model, and its headline numbers (for the comparison
    table).

    Args:
        run: a run folder, or a :class:`~seqrobust.runs.load.ModelSource`.
        gallery: inputs in the adversarial gallery.
        folder: where the outputs of ``analyze``, ``attack``, ``noise`` and ``plot`` lie,
            laid out like a run folder (default: the run folder; needed for a foreign model).

    Raises:
        ValueError: if a folder is not a seqrobust run, or on a bad foreign model or data.
    """
    source = as_source(run)
    loaded: Loaded | None = None
    if source.run is not None:
        parts, headline, finished = _run_header(source.run)
        if finished and gallery > 0:
            loaded = load_source(source, limit=max(4 * gallery, 20))
    else:
        if folder is None:
            raise ValueError("a foreign model's report needs the folder of its results")
        loaded = load_source(source)
        parts, headline = _foreign_header(loaded)
    where = folder if folder is not None else source.output(None)
    parts += _results(source, where)
    parts.append("<h3>Gallery: minimal adversarials and per-step sensitivity</h3>")
    if loaded is not None and gallery > 0:
        parts.append(f'<div class="gallery">{_gallery(loaded, gallery)}</div>')
    parts += _figures(source, where)
    return "".join(parts), headline


def build_report(
    runs: Sequence[Path | ModelSource], out: Path, *, gallery: int = 3
) -> Path:
    """Write the report for ``runs`` to ``out`` and return its path. A foreign model's results
    are read from the folder of ``out``, laid out like a run folder (``analyze/``,
    ``attacks/ATTACK/``, ``noise/``, ``figures/``).

    Raises:
        ValueError: if a folder is not a seqrobust run, or on a bad foreign model or data.
    """
    if not runs:
        raise ValueError("give at least one run folder or --model")
    sections, headlines = [], []
    for run in runs:
        section, headline = run_section(run, gallery=gallery, folder=(
            None if not isinstance(run, ModelSource) or run.run is not None else out.parent))
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
    title = "seqrobust report: " + ", ".join(as_source(r).label for r in runs)
    out.write_text(html.page(title, body), encoding="utf-8")
    return out


__all__ = ["build_report", "run_section"]
