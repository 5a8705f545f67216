"""``seqrobust analyze`` on a run folder: the per-input table of
:mod:`seqrobust.measure.analyze` appended to ``rows.csv`` chunk by chunk (a killed run
resumes), ``profile.csv`` (per-time-step sensitivity), ``summary.json`` and plots; ``--shard``
records for :mod:`seqrobust.runs.merge`.
"""

from __future__ import annotations

import csv
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from seqrobust.measure.analyze import analyze_chunk, profile_header
from seqrobust.measure.analyze_summary import read_table, summarize
from seqrobust.measure.bounds_table import COLUMNS, AnalyzeOptions, Competitors
from seqrobust.models.classifier import as_classifier
from seqrobust.runs.load import ModelSource, as_source, distance_unit, load_source
from seqrobust.runs.shards import WHOLE, Shard, shard_indices, write_shard
from seqrobust.training.run import resolve_device

ROWS, PROFILE = "rows.csv", "profile.csv"


@dataclass(frozen=True)
class AnalyzeConfig:
    """Options of :func:`run_analyze`."""

    n: int = 1000
    """Number of test inputs (the first ``n``)."""
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
    (out / "summary.json").write_text(json.dumps(summary, indent=1, allow_nan=False, default=str))
    if plots and summary.get("inputs"):
        from seqrobust.reporting.plots_analyze import plot_analysis

        plot_analysis(read_table(out / "rows.csv"), read_table(out / "profile.csv"), out)


def _done_indices(path: Path) -> set[int]:
    if not path.exists():
        return set()
    with open(path, newline="") as fh:
        return {int(row["index"]) for row in csv.DictReader(fh)}


def _append(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    new = not path.exists()
    with open(path, "a", newline="") as fh:
        writer = csv.writer(fh)
        if new:
            writer.writerow(header)
        writer.writerows(rows)


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
    figures to ``out``. A foreign model's or data file's provenance goes into the summary.

    Resumable: inputs already in ``out/rows.csv`` are skipped (chunks are appended whole).
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
        ValueError: on a missing or corrupt run or model, bad data, or bad options.
    """
    source = as_source(run, dataset=cfg.dataset)
    out = Path(out)
    device = resolve_device(cfg.device)
    loaded = load_source(source, split=cfg.split, limit=cfg.n, device=device)
    out.mkdir(parents=True, exist_ok=True)
    clf, data = as_classifier(loaded.model), loaded.data
    rows_path, prof_path = out / ROWS, out / PROFILE
    if not shard.whole:
        rows_path, prof_path = (out / f"{s}.{shard.tag()}.csv" for s in ("rows", "profile"))
    done = _done_indices(rows_path)
    prof_header = profile_header(data.seq_len)
    started = time.perf_counter()
    starts = range(shard.index * cfg.batch_size, len(data), shard.count * cfg.batch_size)
    for start in tqdm(starts, desc="analyze", unit="chunk", disable=not progress):
        idx = [i for i in range(start, min(start + cfg.batch_size, len(data))) if i not in done]
        if not idx:
            continue
        rows, prof_rows = analyze_chunk(clf, data, idx, options=cfg.options, device=device)
        _append(rows_path, list(COLUMNS), rows)
        _append(prof_path, prof_header, prof_rows)
    if not shard.whole:
        chosen = shard_indices(len(data), shard, block=cfg.batch_size)
        config = {"run": source.name, **asdict(cfg), "total": len(data),
                  "block": cfg.batch_size, **loaded.record}
        payload = {
            "rows": rows_path.name, "profile": prof_path.name, "dataset": data.name,
            "unit": distance_unit(data), "seconds": time.perf_counter() - started,
        }
        path = write_shard(out, "analyze", shard, config=config, indices=chosen, payload=payload)
        return {"shard": str(shard), "inputs": len(chosen), "file": str(path)}
    summary = summarize(out / ROWS, out / PROFILE, n=cfg.n)
    summary["config"] = {"run": source.name, **asdict(cfg)}
    summary["dataset"], summary["unit"] = data.name, distance_unit(data)
    summary.update(loaded.record)
    summary["seconds_this_call"] = time.perf_counter() - started
    write_summary(out, summary, plots=plots)
    return summary
