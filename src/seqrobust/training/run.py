"""Training runs on disk: a :class:`~seqrobust.training.config.TrainConfig` trained into a run
folder (:mod:`~seqrobust.training.runfolder`); a killed run resumes from its last checkpoint to
the same final weights."""

from __future__ import annotations

import math
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch
from torch import nn

from seqrobust.data.dataset import SequenceData
from seqrobust.data.registry import load_dataset
from seqrobust.data.splits import split_validation
from seqrobust.models.classifier import Classifier
from seqrobust.models.factory import classifier_from_config
from seqrobust.training import runfolder as rf
from seqrobust.training.build import build_model, model_config
from seqrobust.training.checkpoint import read_pair, unpack_state
from seqrobust.training.config import VAL_SPLIT_SEED, TrainConfig
from seqrobust.training.distributed import Distributed, setup, teardown
from seqrobust.training.engine import (
    Position,
    Schedule,
    Task,
    prepare_task,
    run_epochs,
    sharded_accuracy,
)
from seqrobust.training.lock import run_lock
from seqrobust.training.loop import NonFiniteLoss, Penalty
from seqrobust.training.records import CHECKPOINT_META, FINAL_META, check_arch, check_meta
from seqrobust.training.snapshot import read_snapshot

CONFIG, METRICS, LAST, FINAL = rf.CONFIG, rf.METRICS, "ckpt/last", rf.FINAL


@dataclass(frozen=True)
class TrainResult:
    """Summary of a run (``already_finished``: ``--resume`` found final weights and kept
    them; ``val_accuracy``: on the ``val_fraction`` hold-out, ``None`` without one)."""

    run_dir: Path
    test_accuracy: float
    train_seconds: float
    steps: int
    completed: bool
    already_finished: bool = False
    val_accuracy: float | None = None


def resolve_device(name: str) -> torch.device:
    """``"auto"`` means CUDA when available, else CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ValueError(f"unknown device {name!r}") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device cuda requested but CUDA is not available")
    return device


def _penalty(cfg: TrainConfig, data: SequenceData) -> Penalty | None:
    if cfg.reg == "none":
        return None
    from seqrobust.regularizers import make_regularizer

    return make_regularizer(  # TrainConfig's step sizes are in user (pixel) units
        cfg.reg,
        estimator=cfg.estimator,
        probes=cfg.probes,
        fd_step=cfg.fd_step,
        at_eps=cfg.at_eps * data.eps_scale,
        at_steps=cfg.at_steps,
        at_alpha=cfg.at_alpha * data.eps_scale,
    )


def _finished(run_dir: Path) -> TrainResult:
    meta = rf.final_meta(run_dir)
    acc, val = meta.get("test_accuracy"), meta.get("val_accuracy")
    return TrainResult(run_dir, math.nan if acc is None else float(acc),
                       float(meta.get("elapsed", 0.0)), int(meta["step"]), True, True,
                       None if val is None else float(val))


@dataclass
class _Session:
    """A run being trained: its data (``train_data`` without the ``val_data`` hold-out),
    model, loop task, position and listener."""

    cfg: TrainConfig
    run_dir: Path
    train_data: SequenceData
    val_data: SequenceData | None
    test_data: SequenceData
    model: nn.Module
    task: Task
    position: Position
    listener: rf.FolderListener


def load_train_data(cfg: TrainConfig) -> tuple[SequenceData, SequenceData | None]:
    """The data ``cfg`` trains on and its validation hold-out (``None`` when ``val_fraction``
    is 0), in ``cfg.units``."""
    data = load_dataset(cfg.dataset, split="train", root=cfg.data_root, limit=cfg.train_limit,
                        units=cfg.units)  # type: ignore[arg-type]  # checked by TrainConfig
    if cfg.val_fraction == 0:
        return data, None
    return split_validation(data, cfg.val_fraction, seed=VAL_SPLIT_SEED)


def _open(cfg: TrainConfig, run_dir: Path, *, resume: bool, saved: TrainConfig | None,
          ddp: Distributed, device: torch.device) -> _Session:
    """Build the model (seeded as always), restore the last checkpoint or start the folder."""
    train_data, val_data = load_train_data(cfg)
    test_data = load_dataset(cfg.dataset, split="test", root=cfg.data_root, limit=cfg.test_limit,
                             units=cfg.units)  # type: ignore[arg-type]
    torch.manual_seed(cfg.seed)
    model = build_model(cfg, train_data, device=device).to(device)
    classifier = Classifier(model, takes_lengths=train_data.lengths is not None)
    task = prepare_task(classifier, train_data, test_data, penalty=_penalty(cfg, train_data),
                        lam=cfg.lam, reg_fraction=cfg.reg_fraction, lr=cfg.lr,
                        weight_decay=cfg.weight_decay, batch_size=cfg.batch_size, ddp=ddp,
                        device=device)
    position = rf.restore_state(run_dir, model=model, optimizer=task.optimizer) if resume else None
    if position is not None and ddp.world > 1:
        position.window.clear()  # rank 0's window only: each rank restarts its own
    if ddp.main:
        if position is None:
            rf.start(run_dir, cfg)
        else:
            rf.truncate_metrics(run_dir, position.step)
            if saved is not None and saved.device != cfg.device:
                rf.write_config(run_dir, cfg)
    listener = rf.FolderListener(run_dir, model=model, optimizer=task.optimizer,
                                 arch=model_config(model),
                                 saved_step=None if position is None else position.step)
    return _Session(cfg, run_dir, train_data, val_data, test_data, model, task,
                    position or Position(), listener)


def _run(session: _Session, *, ddp: Distributed, progress: bool,
         stop_after_steps: int | None) -> float | None:
    """The loop over the session's schedule; a non-finite loss names the kept checkpoint."""
    cfg = session.cfg
    schedule = Schedule(epochs=cfg.epochs, batch_size=cfg.batch_size, lr=cfg.lr, clip=cfg.clip,
                        seed=cfg.seed, log_every=cfg.log_every,
                        checkpoint_every=cfg.checkpoint_every)
    try:
        return run_epochs(session.task, schedule, session.position, session.listener, ddp=ddp,
                          progress=progress, desc=session.run_dir.name,
                          stop_after_steps=stop_after_steps)
    except NonFiniteLoss as exc:
        saved = session.listener.saved_step
        kept = ("no checkpoint was written" if saved is None else
                f"the last good checkpoint (step {saved}) is kept")
        raise NonFiniteLoss(f"{session.run_dir}: training stopped at {exc}; {kept}") from None


def _finish(session: _Session, test_acc: float | None, *, ddp: Distributed) -> TrainResult:
    """Write the final weights of a completed run (evaluating them if the loop did not)."""
    cfg, position = session.cfg, session.position
    total_steps = -(-len(session.train_data) // cfg.batch_size) * cfg.epochs
    completed = position.step >= total_steps
    if completed and test_acc is None:  # resumed after the last checkpoint
        test_acc = sharded_accuracy(session.task.model, session.test_data, ddp,
                                    session.task.device)
    val_acc = None
    if completed and session.val_data is not None:
        val_acc = sharded_accuracy(session.task.model, session.val_data, ddp,
                                   session.task.device)
    if completed and ddp.main:
        meta: dict[str, Any] = {"step": position.step, "elapsed": position.elapsed,
                                "test_accuracy": test_acc}
        if val_acc is not None:  # absent without a hold-out, as in runs written before it
            meta["val_accuracy"] = val_acc
        rf.save_final(session.run_dir, session.model, {
            **meta,
            "model": model_config(session.model),
            "data": rf.data_card(cfg, session.train_data),
            "world_size": ddp.world,
        })
    acc = math.nan if test_acc is None else test_acc
    return TrainResult(session.run_dir, acc, position.elapsed, position.step, completed,
                       val_accuracy=val_acc)


def train(
    cfg: TrainConfig,
    run_dir: str | Path,
    *,
    resume: bool = False,
    progress: bool = True,
    stop_after_steps: int | None = None,
) -> TrainResult:
    """Train ``cfg`` into ``run_dir``.

    Args:
        cfg: the configuration (written to ``config.json``).
        run_dir: output folder; must not already hold a run unless ``resume``.
        resume: continue from the last checkpoint with the saved config (the device may
            differ); a finished run is reported and left as it is.
        progress: show a progress bar.
        stop_after_steps: stop (as if killed) after this many global steps; for tests.

    Returns:
        The final test accuracy and timing.

    Raises:
        ValueError: on a folder that already holds a run (without ``resume``), a resume of
            a folder without one, a config that differs from the saved one, a folder another
            process is writing, bad files in it, or a loss that becomes non-finite.
    """
    run_dir = Path(run_dir)
    ddp, device = setup(resolve_device(cfg.device))
    if cfg.batch_size < ddp.world:
        raise ValueError(f"batch size {cfg.batch_size} is smaller than the {ddp.world} ranks")
    if resume and not run_dir.is_dir():
        raise ValueError(f"{run_dir / CONFIG}: not found (is this a seqrobust run folder?)")
    if ddp.main:
        run_dir.mkdir(parents=True, exist_ok=True)
    lock: AbstractContextManager[None] = run_lock(run_dir) if ddp.main else nullcontext()
    with lock:
        saved = rf.check_resume(run_dir, cfg) if resume else None
        if resume and rf.is_finished(run_dir):
            teardown(ddp)
            return _finished(run_dir)
        if not resume:
            rf.check_new(run_dir)
        ddp.barrier()
        session = _open(cfg, run_dir, resume=resume, saved=saved, ddp=ddp, device=device)
        ddp.barrier()
        test_acc = _run(session, ddp=ddp, progress=progress, stop_after_steps=stop_after_steps)
        result = _finish(session, test_acc, ddp=ddp)
    teardown(ddp)
    return result


def ensure_trained(cfg: TrainConfig, run_dir: str | Path, *, progress: bool = False) -> None:
    """Train ``cfg`` into ``run_dir`` unless it is finished there; resume a killed run.

    What experiments that cache many models (Figure 7, the frontier study, the dataset grid)
    call per model. The device is not part of a run's identity: a run started on the CPU
    resumes on a GPU.

    Raises:
        ValueError: if ``run_dir`` holds a run of another configuration.
    """
    run_dir = Path(run_dir)
    saved_path = run_dir / CONFIG
    if saved_path.exists():
        saved = TrainConfig.load(saved_path)
        if replace(saved, device=cfg.device) != cfg:
            raise ValueError(f"{run_dir} holds a run with another config; use another --out")
    if rf.is_finished(run_dir):
        return
    train(cfg, run_dir, resume=saved_path.exists(), progress=progress)


def load_model(
    run_dir: str | Path, *, device: str | torch.device = "cpu"
) -> tuple[nn.Module, TrainConfig]:
    """The trained classifier of ``run_dir`` (final weights, else the last checkpoint), in eval
    mode, with its config.

    Raises:
        ValueError: if the folder holds no run or no checkpoint, or one line naming the file
            and field of a bad record or weights.
    """
    run_dir = Path(run_dir)
    cfg = TrainConfig.load(run_dir / CONFIG)
    if rf.is_finished(run_dir):
        source = str(run_dir / (FINAL + ".json"))
        tensors, record = read_pair(run_dir / FINAL)
        meta = check_meta(source, record.get("meta", {}), FINAL_META)
    else:
        found = read_snapshot(run_dir / rf.CKPT)
        if found is None:
            raise ValueError(f"{run_dir}: no checkpoint yet (train it first)")
        source, tensors, record = found
        meta = check_meta(source, record.get("meta", {}), CHECKPOINT_META)
    arch = meta.get("model")
    model: nn.Module
    if arch is not None:  # saved with the weights: no need to read the data
        model = classifier_from_config(check_arch(source, arch))
    else:
        model = build_model(
            cfg, load_dataset(cfg.dataset, split="test", root=cfg.data_root, limit=1,
                              units=cfg.units)  # type: ignore[arg-type]
        )
    unpack_state(source, tensors, record, model=model)
    return model.to(device).eval(), cfg
