"""The files of a training run and the services that read and write them.

A run folder holds ``config.json`` (:class:`~seqrobust.training.config.TrainConfig`),
``metrics.jsonl`` (one JSON object per line), ``ckpt/`` (crash-consistent snapshots, see
:mod:`~seqrobust.training.snapshot`), ``.lock`` while a process writes it, and, once finished,
``model.safetensors`` + ``model.json``. Every write goes through :mod:`seqrobust._safeio`.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

from seqrobust._safeio import append_text, read_text, write_text_atomic
from seqrobust.data.dataset import SequenceData
from seqrobust.data.registry import MNIST_DATASETS
from seqrobust.data.timeseries import standardization
from seqrobust.training.checkpoint import read_pair, save_checkpoint
from seqrobust.training.config import TrainConfig
from seqrobust.training.engine import EpochSummary, Position
from seqrobust.training.records import CHECKPOINT_META, FINAL_META, check_meta, parse_metrics
from seqrobust.training.snapshot import load_snapshot, save_snapshot

CONFIG, METRICS, CKPT, FINAL = "config.json", "metrics.jsonl", "ckpt", "model"


def check_new(run_dir: Path) -> None:
    """Refuse a folder that already holds a run.

    Raises:
        ValueError: if ``run_dir/config.json`` exists.
    """
    if (run_dir / CONFIG).exists():
        raise ValueError(f"{run_dir} already holds a run; pass --resume or choose another --out")


def check_resume(run_dir: Path, cfg: TrainConfig) -> TrainConfig:
    """The saved config of ``run_dir``, which must equal ``cfg`` except for the device.

    Raises:
        ValueError: if it is missing or malformed, or listing the flags that differ.
    """
    saved = TrainConfig.load(run_dir / CONFIG)
    old, new = saved.to_json(), cfg.to_json()
    diff = [k for k in new if k != "device" and old[k] != new[k]]
    if diff:
        flags = ", ".join(f"--{k.replace('_', '-')} {new[k]} (saved: {old[k]})" for k in diff)
        raise ValueError(f"--resume with a different config: {flags}; omit them")
    return saved


def write_config(run_dir: Path, cfg: TrainConfig) -> None:
    """Write ``config.json`` atomically."""
    write_text_atomic(run_dir, CONFIG, cfg.dumps())


def start(run_dir: Path, cfg: TrainConfig) -> None:
    """Begin a run: ``config.json`` and an empty ``metrics.jsonl``."""
    run_dir.mkdir(parents=True, exist_ok=True)
    write_config(run_dir, cfg)
    write_text_atomic(run_dir, METRICS, "")


def append_metrics(run_dir: Path, record: dict[str, Any]) -> None:
    """Append one line to ``metrics.jsonl`` (strict JSON)."""
    append_text(run_dir, METRICS, json.dumps(record, allow_nan=False) + "\n")


def read_metrics(run_dir: Path) -> list[dict[str, Any]]:
    """The records of ``metrics.jsonl`` (a partial last line left out).

    Raises:
        ValueError: naming the file and line of a malformed line.
    """
    try:
        text = read_text(run_dir, METRICS)
    except FileNotFoundError:
        return []
    lines, _ = parse_metrics(str(run_dir / METRICS), text)
    return [json.loads(line) for _, line in lines]


def truncate_metrics(run_dir: Path, step: int) -> None:
    """Keep the lines of ``metrics.jsonl`` up to ``step`` (a resumed run rewrites the rest);
    a partial last line is dropped with a warning.

    Raises:
        ValueError: naming the file and line of a malformed line.
    """
    path = run_dir / METRICS
    try:
        text = read_text(run_dir, METRICS)
    except FileNotFoundError:
        text = ""
    lines, partial = parse_metrics(str(path), text)
    if partial:
        warnings.warn(f"{path}: dropped a partial last line ({len(partial)} characters; was "
                      "the disk full?)", stacklevel=2)
    write_text_atomic(run_dir, METRICS, "".join(ln + "\n" for s, ln in lines if s <= step))


def save_state(run_dir: Path, position: Position, *, model: nn.Module,
               optimizer: torch.optim.Optimizer, arch: dict[str, Any]) -> None:
    """Snapshot the model, optimizer and RNG after ``position.step`` steps into ``ckpt/``."""
    meta = {"step": position.step, "elapsed": position.elapsed, "model": arch,
            "window": [list(w) for w in position.window]}
    save_snapshot(run_dir / CKPT, step=position.step, model=model, optimizer=optimizer,
                  meta=meta)


def restore_state(run_dir: Path, *, model: nn.Module,
                  optimizer: torch.optim.Optimizer) -> Position | None:
    """Load the last snapshot of ``run_dir`` (with the RNG state); ``None`` if there is none.

    Raises:
        ValueError: one line naming the file and field of a bad checkpoint.
    """
    meta = load_snapshot(run_dir / CKPT, model=model, optimizer=optimizer, restore_rng=True)
    if meta is None:
        return None
    check_meta(str(run_dir / CKPT / "last.json"), meta, CHECKPOINT_META)
    window = [(w[0], w[1], w[2], w[3]) for w in meta.get("window", [])]
    return Position(int(meta["step"]), float(meta["elapsed"]), window)


def save_final(run_dir: Path, model: nn.Module, meta: dict[str, Any]) -> None:
    """Write the finished run's ``model.safetensors`` + ``model.json``."""
    save_checkpoint(run_dir / FINAL, model=model, meta=meta)


def is_finished(run_dir: Path) -> bool:
    """Whether ``run_dir`` holds final weights."""
    return (run_dir / (FINAL + ".json")).exists()


def final_meta(run_dir: Path) -> dict[str, Any]:
    """The checked ``meta`` of ``model.json``.

    Raises:
        ValueError: one line naming the file and field.
    """
    _, record = read_pair(run_dir / FINAL)
    return check_meta(str(run_dir / (FINAL + ".json")), record.get("meta", {}), FINAL_META)


def data_card(cfg: TrainConfig, data: SequenceData) -> dict[str, Any]:
    """What a user of the weights must know about the inputs (saved with the model)."""
    card: dict[str, Any] = {
        "dataset": cfg.dataset,
        "steps": data.seq_len,
        "features": data.num_features,
        "classes": data.num_classes,
        "variable_length": data.lengths is not None,
        "bounds": data.bounds,
        "eps_unit": data.eps_unit,
        "eps_scale": data.eps_scale,
    }
    if cfg.units == "raw":  # aeon's values as shipped: nothing to undo
        card["units"] = "raw"
    elif cfg.dataset not in MNIST_DATASETS:
        card["standardization"] = standardization(cfg.dataset)
    return card


class FolderListener:
    """The loop's listener for a run folder: metrics lines and snapshots.

    Args:
        run_dir: the run folder.
        model: the user's module (its ``state_dict`` is saved); optimizer: its optimizer.
        arch: the architecture saved with each snapshot.
        saved_step: the step of the snapshot the run resumed from (``None``: none yet).
    """

    def __init__(self, run_dir: Path, *, model: nn.Module, optimizer: torch.optim.Optimizer,
                 arch: dict[str, Any], saved_step: int | None) -> None:
        self.run_dir, self.model, self.optimizer, self.arch = run_dir, model, optimizer, arch
        self.saved_step = saved_step

    def log(self, record: dict[str, Any]) -> None:
        """Append a window record."""
        append_metrics(self.run_dir, record)

    def epoch_end(self, summary: EpochSummary) -> None:
        """Append the epoch's test accuracy and training time."""
        append_metrics(self.run_dir, {"step": summary.step, "epoch": summary.epoch,
                                      "test_acc": summary.test_acc,
                                      "elapsed_s": summary.elapsed})

    def checkpoint(self, position: Position) -> None:
        """Snapshot the state."""
        save_state(self.run_dir, position, model=self.model, optimizer=self.optimizer,
                   arch=self.arch)
        self.saved_step = position.step
