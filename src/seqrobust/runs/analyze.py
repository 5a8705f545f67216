"""``seqrobust analyze`` on a run folder: the per-input table of
:mod:`seqrobust.measure.analyze` appended to ``rows.csv`` chunk by chunk (a killed run
resumes), ``profile.csv`` (per-time-step sensitivity), ``summary.json`` and plots; ``--shard``
records for :mod:`seqrobust.runs.merge`.

Before the first chunk, ``analyze.json`` records the settings and the provenance (weights and
data SHA-256) the rows are computed with; a rerun into the same folder resumes only with the
same ones (a larger ``--n`` extends the table) and refuses otherwise, naming what differs.
Every file is written inside the output folder, never through a symlink
(:mod:`seqrobust.runs.outputs`).
"""

from __future__ import annotations

import csv
import io
import json
import time
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from tqdm import tqdm

from seqrobust._safeio import read_text
from seqrobust.measure.analyze import analyze_chunk, profile_header
from seqrobust.measure.analyze_summary import parse_table, summarize_tables
from seqrobust.measure.bounds_table import COLUMNS, AnalyzeOptions, Competitors
from seqrobust.models.classifier import as_classifier
from seqrobust.runs.load import (
    Loaded,
    ModelSource,
    as_source,
    distance_unit,
    load_source,
    require_inputs,
)
from seqrobust.runs.outputs import (
    append_csv,
    check_targets,
    data_hash,
    describe,
    differences,
    save_figures,
    write_json,
)
from seqrobust.runs.shards import WHOLE, Shard, shard_indices, write_shard
from seqrobust.training.run import resolve_device

ROWS, PROFILE, SETTINGS = "rows.csv", "profile.csv", "analyze.json"
PLOTS = ("bounds_vs_measured.png", "curvature_hist.png", "time_steps.png")
DEFAULT_N = 1000
"""Inputs analysed when ``n`` is not given (all of them if the data has fewer)."""
IDENTITY = ("model", "model_kwargs", "takes_lengths", "weights_sha256", "dataset", "split",
            "data_sha256")
"""The provenance fields a resume must share (paths may differ; the data is compared by the
hash of the inputs already analysed)."""


@dataclass(frozen=True)
class AnalyzeConfig:
    """Options of :func:`run_analyze`."""

    n: int | None = None
    """Number of inputs (the first ``n``); more than the data holds is an error. ``None``:
    the first :data:`DEFAULT_N`, or all if the data has fewer."""
    batch_size: int = 100
    """Inputs per chunk (one chunk is appended to the CSV at a time)."""
    lanczos_iters: int = 30
    """Lanczos steps per input and competitor."""
    competitors: Competitors = "all"
    """``all`` (valid multi-class bounds) or ``runner-up`` (faster; lower bound not valid)."""
    fmn_steps: int = 100
    """Steps of each FMN run (one warm-started from DeepFool, one from the clean input)."""
    profile_n: int = 200
    """Inputs (the first ones) that also get the per-time-step block curvature."""
    split: str = "test"
    dataset: str | None = None
    """Dataset to evaluate a run folder on (``None``: the run's own); same features and classes
    needed. A :class:`~seqrobust.runs.load.ModelSource` names its data itself."""
    seed: int = 0
    device: str = "auto"

    @property
    def options(self) -> AnalyzeOptions:
        """The per-input options (validated)."""
        return AnalyzeOptions(lanczos_iters=self.lanczos_iters, competitors=self.competitors,
                              fmn_steps=self.fmn_steps, profile_n=self.profile_n,
                              seed=self.seed)

    def __post_init__(self) -> None:
        for name in ("n", "batch_size", "lanczos_iters", "fmn_steps"):
            value = getattr(self, name)
            if name == "n" and value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.profile_n < 0:
            raise ValueError(f"profile_n must be >= 0, got {self.profile_n}")
        if self.competitors not in ("all", "runner-up"):
            raise ValueError(f"unknown competitors {self.competitors!r}; choose all or runner-up")
        if self.split not in ("test", "train"):
            raise ValueError(f"unknown split {self.split!r}; choose test or train")


def write_summary(out: Path, summary: dict[str, Any], *, plots: bool = True) -> None:
    """Write ``summary.json`` and, if ``plots``, the three figures into ``out``."""
    write_json(out, "summary.json", summary, allow_nan=False, default=str)
    if plots and summary.get("inputs"):
        from seqrobust.reporting.plots_analyze import plot_analysis

        rows, prof = (parse_table(read_text(out, name)) for name in (ROWS, PROFILE))
        save_figures(out, lambda tmp: plot_analysis(rows, prof, tmp))


def summarize_folder(out: Path, n: int) -> dict[str, Any]:
    """The summary of ``rows.csv`` and ``profile.csv`` of ``out`` (read inside ``out``)."""
    prof = parse_table(read_text(out, PROFILE)) if (out / PROFILE).exists() else None
    return summarize_tables(parse_table(read_text(out, ROWS)), prof, n=n)


def settings_of(config: dict[str, Any]) -> dict[str, Any]:
    """The fields of an :class:`AnalyzeConfig` record that rows computed together must share
    (all but ``n`` and ``device``)."""
    return {f.name: config.get(f.name) for f in fields(AnalyzeConfig)
            if f.name not in ("n", "device")}


def write_settings(out: Path, name: str, settings: dict[str, Any],
                   provenance: dict[str, Any]) -> None:
    """Record the settings and provenance of the rows of ``out`` (``analyze.json``)."""
    write_json(out, name, {"settings": settings, "provenance": provenance})


def _read_settings(out: Path, name: str, rows: str) -> dict[str, Any] | None:
    """The record ``name`` of ``out`` guarding ``rows``; ``None`` when ``rows`` is not there."""
    if not (out / rows).exists() and not (out / rows).is_symlink():
        return None
    if not (out / name).exists():
        raise ValueError(f"{out / rows}: has no {name} (its settings and provenance were not "
                         "recorded); move it away or use another --out")
    try:
        record = json.loads(read_text(out, name))
        _ = record["settings"], int(record["provenance"]["n"])
    except (ValueError, KeyError, TypeError):
        raise ValueError(f"{out / name}: not a settings record of analyze; move {rows} and "
                         "it away or use another --out") from None
    return dict(record)


def _check_resume(out: Path, name: str, rows: str, old: dict[str, Any],
                  settings: dict[str, Any], loaded: Loaded) -> None:
    """Refuse to extend ``rows`` computed with other settings, model or data."""
    diff = differences(settings, old["settings"], prefix="settings.") + differences(
        {k: loaded.provenance.get(k) for k in IDENTITY},
        {k: old["provenance"].get(k) for k in IDENTITY}, prefix="provenance.")
    n_old = int(old["provenance"]["n"])
    if not diff and n_old <= len(loaded.data):
        prefix = (loaded.provenance["data_tensors_sha256"] if n_old == len(loaded.data)
                  else data_hash(loaded.data.take(n_old)))
        if prefix != old["provenance"].get("data_tensors_sha256"):
            diff = [(f"data_tensors_sha256 of the first {n_old} inputs", prefix,
                     old["provenance"].get("data_tensors_sha256"))]
    elif not diff:
        diff = [("inputs", len(loaded.data), n_old)]
    if diff:
        raise ValueError(f"{out / name}: {rows} was computed with other settings or another "
                         f"model or data ({describe(diff)}); use those or another --out")


def _done_indices(out: Path, name: str) -> set[int]:
    if not (out / name).exists() and not (out / name).is_symlink():
        return set()
    try:
        return {int(row["index"]) for row in csv.DictReader(io.StringIO(read_text(out, name)))}
    except (KeyError, TypeError, ValueError):
        raise ValueError(f"{out / name}: not a table of analyze (a row without an integer "
                         "index); move it away or use another --out") from None


def run_analyze(
    run: str | Path | ModelSource,
    out: str | Path,
    cfg: AnalyzeConfig,
    *,
    progress: bool = True,
    plots: bool = True,
    shard: Shard = WHOLE,
) -> dict[str, Any]:
    """Analyse ``cfg.n`` inputs of the run in ``run`` (or of a foreign model: a
    :class:`~seqrobust.runs.load.ModelSource`); write CSVs, summary and (if ``plots``) the
    figures to ``out``; the provenance (weights and data SHA-256) goes into the summary.

    Resumable: inputs already in ``out/rows.csv`` are skipped (chunks are appended whole),
    provided ``out/analyze.json`` shows the same settings, model and data (module docstring).
    Input ``i`` draws its start vectors from its own seed ``cfg.seed · 1_000_003 + i``.

    With a ``shard`` other than the whole job, only the chunks (of ``batch_size`` inputs)
    numbered ``≡ shard.index (mod shard.count)`` are analysed, into
    ``rows.shard-I-of-N.csv``/``profile.shard-I-of-N.csv`` plus the record
    ``analyze.shard-I-of-N.json``; ``seqrobust merge analyze OUT`` then writes what one process
    would have (:mod:`seqrobust.runs.merge`).

    Returns:
        The summary (also written to ``out/summary.json``); for a shard,
        ``{"shard", "inputs", "file"}``.

    Raises:
        ValueError: one line, on a missing or corrupt run or model, bad data, bad options,
            ``n`` beyond the data, a symlink or foreign file at an output name, or rows of
            other settings, model or data in ``out``.
    """
    source = as_source(run, dataset=cfg.dataset)
    out = Path(out)
    device = resolve_device(cfg.device)
    rows_name, prof_name, settings_name = ROWS, PROFILE, SETTINGS
    if not shard.whole:
        rows_name, prof_name = (f"{s}.{shard.tag()}.csv" for s in ("rows", "profile"))
        settings_name = f"analyze.{shard.tag()}.settings.json"
    outputs = [] if not shard.whole else ["summary.json", *(PLOTS if plots else ())]
    check_targets(out, rows_name, prof_name, settings_name, *outputs)
    old = _read_settings(out, settings_name, rows_name)
    n_old = 0 if old is None else int(old["provenance"]["n"])
    limit = max(DEFAULT_N if cfg.n is None else cfg.n, n_old)
    loaded = load_source(source, split=cfg.split, limit=limit, device=device)
    n = min(DEFAULT_N, len(loaded.data)) if cfg.n is None else cfg.n
    require_inputs(loaded.data, n)
    cfg = replace(cfg, n=n)
    settings = settings_of(asdict(cfg))
    if old is not None:
        _check_resume(out, settings_name, rows_name, old, settings, loaded)
    loaded = loaded if len(loaded.data) == n else loaded.take(n)
    out.mkdir(parents=True, exist_ok=True)
    if n > n_old:
        write_settings(out, settings_name, settings, loaded.provenance)
    clf, data = as_classifier(loaded.model), loaded.data
    done = _done_indices(out, rows_name)
    prof_header = profile_header(data.seq_len)
    started = time.perf_counter()
    starts = range(shard.index * cfg.batch_size, len(data), shard.count * cfg.batch_size)
    for start in tqdm(starts, desc="analyze", unit="chunk", disable=not progress):
        idx = [i for i in range(start, min(start + cfg.batch_size, len(data))) if i not in done]
        if not idx:
            continue
        rows, prof_rows = analyze_chunk(clf, data, idx, options=cfg.options, device=device)
        append_csv(out, rows_name, list(COLUMNS), rows)
        append_csv(out, prof_name, prof_header, prof_rows)
    if not shard.whole:
        chosen = shard_indices(len(data), shard, block=cfg.batch_size)
        config = {"run": source.name, **asdict(cfg), "total": len(data),
                  "block": cfg.batch_size, **loaded.record}
        payload = {
            "rows": rows_name, "profile": prof_name, "dataset": data.name,
            "unit": distance_unit(data), "seconds": time.perf_counter() - started,
        }
        path = write_shard(out, "analyze", shard, config=config, indices=chosen, payload=payload)
        return {"shard": str(shard), "inputs": len(chosen), "file": str(path)}
    summary = summarize_folder(out, n)
    summary["config"] = {"run": source.name, **asdict(cfg)}
    summary["dataset"], summary["unit"] = data.name, distance_unit(data)
    summary.update(loaded.record)
    summary["seconds_this_call"] = time.perf_counter() - started
    write_summary(out, summary, plots=plots)
    return summary
