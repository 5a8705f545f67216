"""``seqrobust report RUN [RUN ...]``: one self-contained HTML file about one or more run
folders, study folders (``runs/figure7``, a frontier folder) or a foreign model (``seqrobust
report --model ... --out DIR/report.html`` reads the model's results from ``DIR``, laid out
like a run folder).

This module only loads: each folder's files (``analyze/``, ``attacks/ATTACK/curve.json``,
``noise/noise.json``, ``figures/*.png``, ``config.json``, ``model.json``, ``metrics.jsonl``)
become the result objects of :mod:`seqrobust.measure` and an
:class:`~seqrobust.runs.results_report.Entry`, which :mod:`seqrobust.runs.results_report`
renders exactly as it renders in-memory results. Only regular files inside the folder are read
(a symlink is refused and named in the report); the report is written atomically, never through
a symlink.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from seqrobust._safeio import read_regular_file, read_text
from seqrobust.measure.analyze import Analysis
from seqrobust.measure.bounds_table import COLUMNS
from seqrobust.measure.noise import InputRecord, NoiseConfig
from seqrobust.measure.noise_bound import NoiseBound
from seqrobust.measure.robustness import RobustnessCurve
from seqrobust.reporting.headline import regulariser_name
from seqrobust.runs.load import ModelSource, as_source, load_source
from seqrobust.runs.report_gallery import PADDING_CHECKED, gallery, padding_check
from seqrobust.runs.report_summary import ModelInfo, Result
from seqrobust.runs.results_report import Entry, write_report
from seqrobust.training.config import TrainConfig
from seqrobust.training.loop import accuracy


def read_json(folder: Path, name: str, notes: list[str]) -> dict[str, Any] | None:
    """``folder/name`` as a JSON object; ``None`` if missing; refused (symlink, not a regular
    file) or malformed files are skipped with a note."""
    try:
        data = json.loads(read_text(folder, name))
    except FileNotFoundError:
        return None
    except ValueError as exc:  # a symlink, not regular, not UTF-8, or malformed JSON
        notes.append(f"skipped {name}: {str(exc).splitlines()[0]}")
        return None
    return data if isinstance(data, dict) else None


def _number(text: str) -> Any:
    """A CSV cell as written by the package: a bool, an int, a float (empty: NaN), else
    the text itself."""
    if text in ("True", "False"):
        return text == "True"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return float("nan") if not text else text


def read_csv(folder: Path, name: str, notes: list[str]) -> tuple[list[str], list[list[Any]]] | None:
    """``folder/name`` as its header and rows of numbers (text kept where not a number);
    ``None`` if missing; a refused file is skipped with a note."""
    try:
        lines = list(csv.reader(io.StringIO(read_text(folder, name))))
    except FileNotFoundError:
        return None
    except ValueError as exc:
        notes.append(f"skipped {name}: {exc}")
        return None
    return (lines[0], [[_number(v) for v in r] for r in lines[1:] if r]) if lines else None


def load_analysis(folder: Path, notes: list[str]) -> Analysis | None:
    """The :class:`~seqrobust.measure.analyze.Analysis` in ``folder/analyze`` (``None`` if
    there is none)."""
    summary = read_json(folder, "analyze/summary.json", notes)
    rows = read_csv(folder, "analyze/rows.csv", notes)
    if summary is None or rows is None:
        return None
    if tuple(rows[0]) != COLUMNS:
        notes.append("skipped analyze/rows.csv: its columns are not those of this version")
        return None
    profile = read_csv(folder, "analyze/profile.csv", notes) or (["index"], [])
    steps = sum(c.startswith("grad_") for c in profile[0])
    return Analysis(rows[1], profile[1], steps, str(summary.get("unit", "model units")), summary)


def load_curves(folder: Path, notes: list[str]) -> list[RobustnessCurve]:
    """Every ``attacks/ATTACK/curve.json`` of ``folder`` as a curve, sorted by attack."""
    root = folder / "attacks"
    if root.is_symlink() or not root.is_dir():
        return []
    curves = []
    for sub in sorted(p.name for p in root.iterdir()):
        data = read_json(folder, f"attacks/{sub}/curve.json", notes)
        if data is None:
            continue
        try:
            curves.append(RobustnessCurve.from_json(data["curve"]))
        except (KeyError, TypeError, ValueError) as exc:
            notes.append(f"skipped attacks/{sub}/curve.json: not a curve ({exc})")
    return curves


def load_noise(folder: Path, notes: list[str]) -> NoiseBound | None:
    """``folder/noise/noise.json`` as a :class:`~seqrobust.measure.noise_bound.NoiseBound`."""
    data = read_json(folder, "noise/noise.json", notes)
    if data is None:
        return None
    try:
        cfg = dict(data["config"])
        cfg["rho"] = None if cfg.get("rho") is None else tuple(cfg["rho"])
        cfg["bounds"] = None if cfg.get("bounds") is None else tuple(cfg["bounds"])
        records = [InputRecord(**r) for r in data["inputs"]]
        return NoiseBound(records, dict(data["summary"]), NoiseConfig(**cfg))
    except (KeyError, TypeError, ValueError) as exc:
        notes.append(f"skipped noise/noise.json: not a noise record ({exc})")
        return None


def folder_results(folder: Path, notes: list[str]) -> list[Result]:
    """Every result in ``folder``, laid out like a run folder."""
    found: list[Result] = []
    analysis, noise = load_analysis(folder, notes), load_noise(folder, notes)
    found += [analysis] if analysis is not None else []
    found += load_curves(folder, notes)
    found += [noise] if noise is not None else []
    return found


def figures(folder: Path, notes: list[str]) -> tuple[tuple[str, bytes], ...]:
    """The PNGs of ``folder/figures`` (regular files only)."""
    root = folder / "figures"
    if root.is_symlink() or not root.is_dir():
        return ()
    out = []
    for name in sorted(p.name for p in root.glob("*.png")):
        try:
            out.append((f"{name.removesuffix('.png')} (seqrobust plot)",
                        read_regular_file(folder, f"figures/{name}")))
        except ValueError as exc:
            notes.append(f"skipped figures/{name}: {exc}")
    return tuple(out)


def hints(source: ModelSource, folder: Path) -> dict[str, str]:
    """The command that fills each section: on a run folder its default output, else ``--out``
    into ``folder`` (where the report looks)."""
    def one(command: str, options: str, sub: str) -> str:
        if source.run is not None:
            return f"seqrobust {command} {source.run} {options}"
        return f"seqrobust {command} {source.cli_args()} {options} --out {folder / sub}"

    return {"analyze": one("analyze", "--n 1000", "analyze"),
            "attack": one("attack", "--attack pgd --eps 1:30", "attacks/pgd"),
            "noise": one("noise", "--n 100", "noise"),
            "figures": one("plot boundary", "--index 0", "figures/boundary-0.png")}


def _metrics(run: Path, notes: list[str]) -> tuple[dict[str, Any], ...]:
    try:
        text = read_text(run, "metrics.jsonl")
    except FileNotFoundError:
        return ()
    except ValueError as exc:
        notes.append(f"skipped metrics.jsonl: {exc}")
        return ()
    return tuple(json.loads(line) for line in text.splitlines() if line.strip())


def _drawn(source: ModelSource, results: list[Result], count: int,
           info: ModelInfo, limit: int) -> tuple[ModelInfo, tuple[Any, ...]]:
    """The padding check and the gallery, on the split and data the analysis used."""
    analysis = next((r for r in results if isinstance(r, Analysis)), None)
    split = "test"
    if analysis is not None:
        split = str((analysis.summary.get("config") or {}).get("split", "test"))
    if analysis is not None and analysis.rows:
        limit = max(limit, 1 + max(int(r[0]) for r in analysis.rows))
    loaded = load_source(source, split=split, limit=limit)
    pad = padding_check(loaded.model, loaded.data)
    info = replace(info, padding=pad.mode, padding_reason=pad.reason)
    return info, tuple(gallery(loaded.model, loaded.data, analysis=analysis, count=count))


def run_entry(run: Path, *, count: int = 3, label: str | None = None) -> Entry:
    """A run folder as an :class:`Entry` (its gallery drawn on the loaded model).

    Raises:
        ValueError: if ``run`` is not a seqrobust run folder.
    """
    notes: list[str] = []
    cfg = TrainConfig.load(run / "config.json")
    meta = (read_json(run, "model.json", notes) or {}).get("meta", {})
    results = folder_results(run, notes)
    finished = "test_accuracy" in meta
    reg = regulariser_name(cfg.reg) + (f" ({cfg.estimator} estimator, λ = {cfg.lam:g})"
                                       if cfg.reg == "hessian" else
                                       f" (λ = {cfg.lam:g})" if cfg.reg != "none" else "")
    epochs = f"{cfg.epochs} epoch{'s' if cfg.epochs != 1 else ''}"
    info = ModelInfo(
        regulariser=cfg.reg, lam=cfg.lam if cfg.reg != "none" else None,
        train_seconds=meta.get("elapsed"),
        train_detail=f", {epochs} ({meta.get('step')} steps)",
        clean=meta.get("test_accuracy"), clean_n=cfg.test_limit,
        clean_where="test inputs" if cfg.test_limit else "inputs: the run's full test set",
        description=f"Run folder {run}: {cfg.layers}-layer {cfg.cell.upper()}, hidden "
                    f"{cfg.hidden}, on {cfg.dataset}; regulariser: {reg}.",
    )
    drawn: tuple[Any, ...] = ()
    if finished:
        info, drawn = _drawn(as_source(run), results, count, info, max(4 * count, PADDING_CHECKED))
    else:
        notes.append(f"The run has not finished: resume it with seqrobust train --out {run} "
                     "--resume.")
    source = as_source(run)
    found = hints(source, run)
    if finished and count > 0 and not drawn:
        found["gallery"] = (f"seqrobust analyze {run} --n 100 (no correctly classified input "
                            "with an adversarial among those loaded)")
    return Entry(label or run.name, tuple(results), info, drawn, _metrics(run, notes),
                 figures(run, notes), chips=cfg.to_json(), hints=found, notes=tuple(notes))


def foreign_entry(source: ModelSource, folder: Path, *, count: int = 3) -> Entry:
    """A foreign model whose results lie in ``folder`` (laid out like a run folder).

    Raises:
        ValueError: on a bad foreign model or data.
    """
    notes: list[str] = []
    results = folder_results(folder, notes)
    loaded = load_source(source)
    data = loaded.data
    info = ModelInfo(clean=accuracy(loaded.model, data), clean_n=len(data),
                     clean_where=f"inputs of {data.name}",
                     description=f"Model {source.name}, trained outside seqrobust, on "
                                 f"{data.name}; results read from {folder}.")
    pad = padding_check(loaded.model, data)
    info = replace(info, padding=pad.mode, padding_reason=pad.reason)
    analysis = next((r for r in results if isinstance(r, Analysis)), None)
    drawn = tuple(gallery(loaded.model, data, analysis=analysis, count=count))
    return Entry(source.label, tuple(results), info, drawn, (), figures(folder, notes),
                 provenance=loaded.provenance, hints=hints(source, folder), notes=tuple(notes))


def _entries(run: Path | ModelSource, out: Path, count: int) -> list[Entry]:
    from seqrobust.runs.report_studies import study_entries

    if isinstance(run, ModelSource):
        if run.run is None:
            return [foreign_entry(run, out.parent, count=count)]
        folder = run.run
    else:
        folder = Path(run)
    study = study_entries(folder)
    return study if study is not None else [run_entry(folder, count=count)]


def build_report(
    runs: Sequence[Path | ModelSource], out: Path, *, gallery: int = 3
) -> Path:
    """Write the report for ``runs`` (run folders, study folders or foreign models) to
    ``out`` and return its path. A foreign model's results are read from the folder of
    ``out``, laid out like a run folder (``analyze/``, ``attacks/ATTACK/``, ``noise/``,
    ``figures/``).

    Raises:
        ValueError: if a folder is neither a run nor a study, on a bad foreign model or data,
            or if ``out`` is a symlink.
    """
    if not runs:
        raise ValueError("give at least one run folder or --model")
    entries = [e for run in runs for e in _entries(run, out, gallery)]
    seen: dict[str, int] = {}
    for k, e in enumerate(entries):  # every model's name once
        seen[e.label] = seen.get(e.label, 0) + 1
        if seen[e.label] > 1:
            entries[k] = replace(e, label=f"{e.label} ({seen[e.label]})")
    title = "seqrobust report: " + ", ".join(as_source(r).label for r in runs)
    return write_report(entries, out, title=title)


__all__ = ["build_report", "folder_results", "foreign_entry", "load_analysis", "load_curves",
           "load_noise", "read_csv", "read_json", "run_entry"]
