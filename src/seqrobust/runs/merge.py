"""``seqrobust merge KIND FOLDER``: combine the ``--shard i/n`` jobs of ``analyze``, ``noise`` or
``attack`` into the outputs a single process writes.

Each merge reads the shard records (:func:`~seqrobust.runs.shards.read_shards`: all
there, one config, every input once), puts the per-input results back in global-index order
and then runs the very code the unsharded command runs on them (summary, tables, plots), so the
merged per-input table is the single-process one. Shards computed from other weights or data
(their provenance) are refused like any other difference of config; a file named in a shard
record is read only inside the folder (no absolute path, no ``..``, no symlink), and every
output is written inside it (:mod:`seqrobust.runs.outputs`).
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from seqrobust._safeio import inside, read_text
from seqrobust.runs.outputs import check_targets, write_csv
from seqrobust.runs.shards import Shard, interleave, read_shards, shard_file, write_shard

if TYPE_CHECKING:
    from seqrobust.measure.robustness import RobustnessCurve

KINDS: tuple[str, ...] = ("analyze", "noise", "attack")


def _read_csv(folder: Path, name: Any, where: str) -> tuple[list[str], list[list[str]]]:
    """The CSV a shard record names (``where``: the record and field), read only inside
    ``folder``."""
    if not isinstance(name, str):
        raise ValueError(f"{where} names no CSV file; rerun that shard")
    try:
        path = inside(folder, name)
    except ValueError:
        raise ValueError(f"{where} {name!r} is not a file inside {folder} (an absolute path, "
                         "'..' or a symlink out); refusing to read it") from None
    if not path.exists():
        raise ValueError(f"{path} is missing; rerun that shard")
    reader = csv.reader(io.StringIO(read_text(folder, name)))
    header = next(reader, None)
    return (header or []), list(reader)


def _by_index(name: str, rows: list[list[str]]) -> dict[int, list[str]]:
    try:
        return {int(r[0]): r for r in rows}
    except (IndexError, ValueError):
        raise ValueError(f"{name}: a row without an integer index; rerun that shard") from None


def merge_analyze(folder: str | Path, *, plots: bool = True) -> dict[str, Any]:
    """Merge ``analyze`` shards in ``folder`` into ``rows.csv``, ``profile.csv``,
    ``summary.json`` (and plots).

    Returns:
        The summary.

    Raises:
        ValueError: on missing, mixed or incomplete shards.
    """
    from seqrobust.runs.analyze import (
        PROFILE,
        ROWS,
        SETTINGS,
        settings_of,
        summarize_folder,
        write_settings,
        write_summary,
    )

    folder = Path(folder)
    shards = read_shards(folder, "analyze")
    tables: dict[str, tuple[list[str], list[list[list[str]]]]] = {}
    for name in ("rows", "profile"):
        header: list[str] = []
        parts: list[list[list[str]]] = []
        for shard, (indices, payload) in enumerate(zip(shards.indices, shards.payloads,
                                                       strict=True)):
            if not indices:  # an empty shard writes no CSV
                parts.append([])
                continue
            record = shard_file(folder, "analyze", Shard(shard, shards.count))
            head, rows = _read_csv(folder, payload.get(name), f"{record}: payload.{name}")
            header = header or head
            if head != header:
                raise ValueError(f"{payload[name]} has other columns than the first shard")
            by_index = _by_index(payload[name], rows)
            if sorted(by_index) != indices:
                raise ValueError(f"{payload[name]} does not hold that shard's inputs; rerun it")
            parts.append([by_index[i] for i in indices])
        tables[name] = (header, parts)
    check_targets(folder, ROWS, PROFILE, SETTINGS, "summary.json")
    config = dict(shards.config)
    provenance = config.pop("provenance", None)
    for name, target in (("rows", ROWS), ("profile", PROFILE)):
        header, parts = tables[name]
        write_csv(folder, target, header, interleave(shards.indices, parts))
    write_settings(folder, SETTINGS, settings_of(config), provenance or {"n": config["n"]})
    first = shards.payloads[0]
    summary = summarize_folder(folder, int(config["n"]))
    summary["config"] = {k: v for k, v in config.items() if k not in ("total", "block")}
    summary["dataset"], summary["unit"] = first["dataset"], first["unit"]
    if provenance is not None:
        summary["provenance"] = provenance
    summary["seconds_this_call"] = sum(float(p["seconds"]) for p in shards.payloads)
    summary["shards"] = shards.count
    write_summary(folder, summary, plots=plots)
    return summary


def merge_noise(folder: str | Path, *, plots: bool = True) -> dict[str, Any]:
    """Merge ``noise`` shards in ``folder`` into ``noise.json``, ``noise.csv`` and
    ``noise.png`` (``plots`` is accepted for symmetry; the figure is always written).

    Returns:
        The summary.

    Raises:
        ValueError: on missing, mixed or incomplete shards.
    """
    from seqrobust.measure.noise import InputRecord, NoiseConfig
    from seqrobust.runs.noise import summarise, write_noise

    del plots
    folder = Path(folder)
    shards = read_shards(folder, "noise")
    config = dict(shards.config)
    run = str(config.pop("run"))
    extra = {"provenance": config.pop("provenance")} if "provenance" in config else {}
    for key in ("total", "block", "split", "dataset"):
        config.pop(key, None)
    config["rho"] = tuple(config["rho"])
    if config.get("bounds") is not None:
        config["bounds"] = tuple(config["bounds"])
    cfg = NoiseConfig(**config)
    merged = interleave(shards.indices, [p["records"] for p in shards.payloads])
    records = [InputRecord(**r) for r in merged]
    summary = summarise(records, cfg, run=run)
    write_noise(records, summary, cfg, folder, extra=extra)
    return summary


def write_attack_shard(
    folder: str | Path,
    shard: Shard,
    curve: RobustnessCurve,
    *,
    indices: torch.Tensor,
    total: int,
    run: str | Path,
    dataset: str,
    batch_size: int,
    plain: bool | None,
    provenance: dict[str, Any] | None = None,
) -> Path:
    """Record one ``seqrobust attack --shard`` job: the curve's settings and radii and the
    ``provenance`` (weights and data SHA-256; all must agree between shards) and its per-input
    ``first_fooled`` (``indices`` among ``total`` inputs), for :func:`merge_attack`.

    Returns:
        The shard file.
    """
    config = {
        "run": str(run), "dataset": dataset, "label": curve.label,
        "settings": asdict(curve.settings), "eps": list(curve.eps), "unit": curve.unit,
        "plain": plain, "total": total, "block": batch_size,
        **({} if provenance is None else {"provenance": provenance}),
    }
    return write_shard(
        folder, "attack", shard, config=config, indices=indices,
        payload={"first_fooled": list(curve.first_fooled), "seconds": curve.seconds},
    )


def merge_attack(folder: str | Path, *, plots: bool = True) -> dict[str, Any]:
    """Merge ``attack`` shards in ``folder`` into ``curve.csv``, ``curve.json`` (with the
    sanity checks) and ``curve.png``.

    Returns:
        ``{"curve": ..., "checks": [...], "written": [...]}``.

    Raises:
        ValueError: on missing, mixed or incomplete shards.
    """
    from seqrobust.measure.checks import sanity_checks
    from seqrobust.measure.robustness import AttackSettings, curve_from_first_fooled
    from seqrobust.runs.attack import write_curve

    folder = Path(folder)
    shards = read_shards(folder, "attack")
    config = shards.config
    first = interleave(shards.indices, [p["first_fooled"] for p in shards.payloads])
    curve = curve_from_first_fooled(
        torch.tensor(first, dtype=torch.long),
        label=str(config["label"]),
        settings=AttackSettings(**config["settings"]),
        eps=tuple(float(e) for e in config["eps"]),
        seconds=sum(float(p["seconds"]) for p in shards.payloads),
        unit=str(config["unit"]),
    )
    checks = sanity_checks(curve, plain=config.get("plain"))
    extra = {"provenance": config["provenance"]} if "provenance" in config else None
    written = write_curve(curve, folder, checks=checks, plot=plots, extra=extra)
    return {"curve": curve, "checks": checks, "written": written}


def merge(kind: str, folder: str | Path, *, plots: bool = True) -> dict[str, Any]:
    """Dispatch to :func:`merge_analyze`, :func:`merge_noise` or :func:`merge_attack`.

    Raises:
        ValueError: on an unknown ``kind`` or bad shards.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; choose {', '.join(KINDS)}")
    if kind == "analyze":
        return merge_analyze(folder, plots=plots)
    if kind == "noise":
        return merge_noise(folder, plots=plots)
    return merge_attack(folder, plots=plots)


__all__ = ["KINDS", "merge", "merge_analyze", "merge_attack", "merge_noise"]
