"""``sr.report``: one self-contained HTML file that leads with the answer, from measurement
results whether or not they came from a run folder (``seqrobust report`` loads a folder's files
into the same objects, :mod:`seqrobust.runs.report`, and comes here).

A result is anything :mod:`seqrobust.measure` returns (:class:`~seqrobust.measure.analyze.
Analysis`, :class:`~seqrobust.measure.robustness.RobustnessCurve`,
:class:`~seqrobust.measure.worst_case.WorstCase`, :class:`~seqrobust.measure.noise_bound.
NoiseBound`, :class:`~seqrobust.measure.curvature.Curvature`), plus what describes the model:
a :class:`~seqrobust.training.FitResult` (training cost) or a
:class:`~seqrobust.runs.report_summary.ModelInfo` (regulariser, λ, ...). Results are grouped by
model: ``report({"my LSTM": [analysis, curve], "baseline": [...]}, "report.html")``; give
``models={"my LSTM": (model, test_data)}`` for the gallery of vulnerable inputs and the padding
check.

Each model's section opens with a headline block and trust badges (a failed check in red at
the top), then pictures (robustness curves, distances against the bounds, curvature against
distance, vulnerable inputs, per-step heat strip), then the raw summaries with human labels
and as JSON. Several models start with a comparison table and overlaid curves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from torch import nn

from seqrobust._safeio import write_text_atomic
from seqrobust.data.dataset import SequenceData
from seqrobust.measure.analyze import Analysis
from seqrobust.measure.noise_bound import NoiseBound
from seqrobust.reporting import html
from seqrobust.reporting.badges import Badge, alert_html, badges_html, tally
from seqrobust.reporting.glossary import raw_section
from seqrobust.reporting.headline import (
    Headline,
    comparison_html,
    headline_html,
    unit_name,
)
from seqrobust.runs.report_gallery import GalleryItem, gallery, padding_check
from seqrobust.runs.report_sections import curve_lines, drawn, geometry, raw, robustness, time_strip
from seqrobust.runs.report_summary import (
    RESULT_TYPES,
    ModelInfo,
    Result,
    badges_of,
    headline_of,
    key_radii,
    main_curve,
    radii_of,
)
from seqrobust.training.fit import FitResult

Item = Result | FitResult | ModelInfo
Results = Mapping[str, Sequence[Item]] | Sequence[Item]
IN_MEMORY_HINTS = {
    "attack": "sr.robustness_curve(model, data, eps=[...]) or sr.worst_case(model, data, ...)",
    "analyze": "sr.analyze(model, data, n=100)", "noise": "sr.noise_bound(model, data, n=20)",
    "gallery": "sr.report(results, out, models={name: (model, data)})",
}


@dataclass(frozen=True)
class Entry:
    """One model as the renderer sees it: its results and everything else known about it.

    Attributes:
        label: the model's name.
        results: measurement results.
        info: what describes the model (:class:`ModelInfo`).
        gallery: drawn vulnerable inputs.
        training: ``metrics.jsonl`` records (training curves).
        figures: ``(caption, PNG bytes)`` of Figure 3/4 slices.
        chips: the training configuration, shown as ``key=value`` chips.
        provenance: where model and data came from.
        raw: further ``(title, summary)`` pairs for the raw section.
        hints: section → the command that produces it, for sections without data.
        notes: remarks shown under the heading (refused files, study caveats).
    """

    label: str
    results: tuple[Result, ...] = ()
    info: ModelInfo = field(default_factory=ModelInfo)
    gallery: tuple[GalleryItem, ...] = ()
    training: tuple[dict[str, Any], ...] = ()
    figures: tuple[tuple[str, bytes], ...] = ()
    chips: Mapping[str, object] = field(default_factory=dict)
    provenance: Mapping[str, Any] = field(default_factory=dict)
    raw: tuple[tuple[str, Mapping[str, Any]], ...] = ()
    hints: Mapping[str, str] = field(default_factory=lambda: dict(IN_MEMORY_HINTS))
    notes: tuple[str, ...] = ()


def render_section(entry: Entry) -> tuple[str, Headline, list[Badge]]:
    """One model's section, its headline and its badges."""
    from seqrobust.reporting.plots_noise import plot_noise
    from seqrobust.reporting.plots_report import training_curves

    esc, hints = html.esc, entry.hints
    head, badges = headline_of(entry.results, entry.info), badges_of(entry.results, entry.info)
    analysis = next((r for r in entry.results if isinstance(r, Analysis)
                     and r.summary.get("inputs")), None)
    parts = [f'<section class="model" data-model="{esc(entry.label)}">',
             f"<h2>{esc(entry.label)}</h2>"]
    if entry.info.description:
        parts.append(f"<p>{esc(entry.info.description)}</p>")
    parts += [html.note(n) for n in entry.notes]
    parts += [alert_html(badges), headline_html(head), "<h3>Sanity checks</h3>",
              badges_html(badges), "<h3>Pictures</h3>", '<div class="pictures">',
              robustness(entry.results, hints), *geometry(analysis, hints)]
    noise = [r for r in entry.results if isinstance(r, NoiseBound)]
    for r in noise:
        parts.append(html.figure(drawn(plot_noise, r.summary), wide=True, caption=(
            f"Random noise against Theorem B (radii in {unit_name(r.config.unit)}, "
            f"n={len(r.records)} inputs).")))
    parts += [time_strip(analysis), "</div>"]
    if entry.gallery or "gallery" in hints:
        parts.append("<h3>Most vulnerable inputs and their minimal adversarials</h3>")
    if entry.gallery:
        parts.append('<div class="gallery">' + "".join(
            html.figure(g.png, caption=g.caption) for g in entry.gallery) + "</div>")
    elif "gallery" in hints:
        parts.append(html.missing("No input drawn.", hints["gallery"]))
    if not noise and "noise" in hints:
        parts += ["<h3>Random noise and Theorem B</h3>",
                  html.missing("No noise study yet.", hints["noise"])]
    if entry.figures or "figures" in hints:
        parts.append("<h3>Decision-boundary slices (Figures 3 and 4)</h3>")
        parts += [html.figure(p, caption=c) for c, p in entry.figures] or [
            html.missing("No slice drawn yet.", hints["figures"])]
    if entry.training or entry.chips:
        parts.append("<h3>Training</h3>")
    if entry.training:
        parts.append(html.figure(training_curves(list(entry.training)),
                                 caption="Loss and accuracy during training."))
    if entry.chips:
        parts.append('<p class="chips">' + " ".join(
            f"<code>{esc(k)}={esc(v)}</code>" for k, v in sorted(entry.chips.items())) + "</p>")
    if entry.provenance:
        parts += ["<h3>Provenance</h3>", raw_section("Where model and data came from",
                                                     entry.provenance)]
    parts += ["<h3>Raw summaries</h3>", raw(entry.results, entry.raw), "</section>"]
    return "".join(parts), head, badges


def _comparison(entries: Sequence[Entry], badges: Sequence[list[Badge]]) -> str:
    from seqrobust.reporting.plots_report import robustness_png

    grids = [set(radii_of(e.results, e.info)) for e in entries]
    units = {c.unit for e in entries if (c := main_curve(e.results)) is not None}
    common = sorted(set.intersection(*grids)) if grids else []
    if not common and len(units) == 1:
        unit = next(iter(units))
        common = key_radii(sorted(set().union(*grids)), unit)[:3]
    rows = [(e.label, headline_of(e.results, e.info, radii=common or None), tally(b))
            for e, b in zip(entries, badges, strict=True)]
    parts = ["<h2>Comparison</h2>", comparison_html(rows, common)]
    lines = [ln for k, e in enumerate(entries) for ln in curve_lines(e.results, color=k % 10,
             prefix=f"{e.label}: ") if ln.style != "other"]
    if lines and len(units) == 1:
        unit = unit_name(next(iter(units)))
        parts.append(html.figure(robustness_png(lines, unit=unit, title="all models"),
                                 caption=f"Robust accuracy against ε ({unit}), one colour per "
                                         "model: PGD solid, worst case dashed."))
    elif lines:
        parts.append(html.note("The models' ε are in different units; see each section."))
    return "".join(parts)


def render_page(entries: Sequence[Entry], title: str) -> str:
    """The whole report of ``entries`` (a comparison first when there are several)."""
    if not entries:
        raise ValueError("report needs at least one model")
    sections = [render_section(e) for e in entries]
    body = _comparison(entries, [b for _, _, b in sections]) if len(entries) > 1 else ""
    body += "".join(s for s, _, _ in sections)
    machine = {"models": [{"label": e.label, "headline": asdict(h),
                           "checks": [asdict(b) for b in bs]}
                          for e, (_, h, bs) in zip(entries, sections, strict=True)]}
    return html.page(title, body + html.json_script("seqrobust-report", machine))


def write_report(entries: Sequence[Entry], out: str | Path, *, title: str) -> Path:
    """Render ``entries`` and write the page to ``out`` atomically (never through a symlink).

    Raises:
        ValueError: on no entries, or if ``out`` is a symlink or not a regular file.
    """
    out = Path(out)
    if out.is_symlink():  # refused before the work of rendering; write_text_atomic checks too
        raise ValueError(f"{out}: is a symlink; refusing to write through it (remove it)")
    out.parent.mkdir(parents=True, exist_ok=True)
    return write_text_atomic(out.parent, out.name, render_page(entries, title))


def entry_of(label: str, items: Sequence[Item], *,
             model: tuple[nn.Module, SequenceData] | None = None, count: int = 3) -> Entry:
    """The :class:`Entry` of in-memory ``items``; with ``model`` (module, data) also the padding
    check and the gallery.

    Raises:
        ValueError: on an item that is neither a result nor a model description.
    """
    results = [r for r in items if isinstance(r, RESULT_TYPES)]
    info = next((r for r in items if isinstance(r, ModelInfo)), ModelInfo())
    for r in items:
        if not isinstance(r, (*RESULT_TYPES, FitResult, ModelInfo)):
            raise ValueError(f"{label}: {type(r).__name__} is not a seqrobust result")
        if isinstance(r, FitResult) and info.train_seconds is None:
            info = replace(info, train_seconds=r.seconds, train_detail=f", {r.steps} steps")
    drawn: list[GalleryItem] = []
    if model is not None:
        pad = padding_check(*model)
        info = replace(info, padding=pad.mode, padding_reason=pad.reason)
        analysis = next((r for r in results if isinstance(r, Analysis)), None)
        drawn = gallery(model[0], model[1], analysis=analysis, count=count)
    return Entry(label, tuple(results), info, tuple(drawn))


def report(
    results: Results, out: str | Path, *, title: str = "seqrobust report",
    models: Mapping[str, tuple[nn.Module, SequenceData]] | None = None, gallery: int = 3,
) -> Path:
    """Write one self-contained HTML report of ``results`` to ``out``.

    Args:
        results: results of one model (a list), or a mapping from model name to its results.
        out: the HTML file to write.
        title: the page title.
        models: model name → ``(module, data)``: draws that model's most vulnerable inputs and
            checks how it treats padding.
        gallery: inputs drawn per model given in ``models``.

    Returns:
        The path written.

    Raises:
        ValueError: on no results, an object that is not a result, or a ``models`` name with
            no results.
    """
    groups = dict(results) if isinstance(results, Mapping) else {"model": list(results)}
    if not groups or not any(groups.values()):
        raise ValueError("report needs at least one result")
    unknown = sorted(set(models or {}) - set(groups))
    if unknown:
        raise ValueError(f"models= names {unknown} have no results; use the same names")
    entries = [entry_of(label, items, model=(models or {}).get(label), count=gallery)
               for label, items in groups.items()]
    return write_report(entries, out, title=title)


__all__ = ["Entry", "Item", "ModelInfo", "Result", "entry_of", "render_page", "render_section",
           "report", "write_report"]
