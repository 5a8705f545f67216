"""Training runs on disk: ``config.json``, ``metrics.jsonl``, ``ckpt/last.*`` and the final
``model.*``; a killed run resumes from its last checkpoint to the same final weights."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from seqrobust.data.dataset import SequenceData
from seqrobust.data.registry import MNIST_DATASETS, load_dataset
from seqrobust.data.timeseries import standardization
from seqrobust.models.recurrent import RecurrentClassifier
from seqrobust.training.checkpoint import load_checkpoint, save_checkpoint
from seqrobust.training.config import TrainConfig
from seqrobust.training.distributed import Distributed, setup, teardown
from seqrobust.training.loop import (
    Penalty,
    StepLoss,
    batch_indices,
    cosine_lr,
    predict,
    train_step,
)

CONFIG, METRICS, LAST, FINAL = "config.json", "metrics.jsonl", "ckpt/last", "model"


@dataclass(frozen=True)
class TrainResult:
    """Summary of a finished run."""

    run_dir: Path
    test_accuracy: float
    train_seconds: float
    steps: int
    completed: bool


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


def build_model(cfg: TrainConfig, data: SequenceData) -> RecurrentClassifier:
    """The classifier ``cfg`` describes, sized for ``data``."""
    return RecurrentClassifier(
        input_size=data.num_features,
        num_classes=data.num_classes,
        cell=cfg.cell,  # type: ignore[arg-type]
        hidden_size=cfg.hidden,
        num_layers=cfg.layers,
        dropout=cfg.dropout,
    )


def _penalty(cfg: TrainConfig, data: SequenceData) -> Penalty | None:
    if cfg.reg == "none":
        return None
    from seqrobust.regularizers import make_regularizer

    reg = make_regularizer(
        cfg.reg,
        estimator=cfg.estimator,
        probes=cfg.probes,
        fd_step=cfg.fd_step,
        at_eps=cfg.at_eps * data.eps_scale,
        at_steps=cfg.at_steps,
        at_alpha=cfg.at_alpha * data.eps_scale,
    )
    return lambda m, x, y, gen: reg(m, x, y, generator=gen)


def _data_card(cfg: TrainConfig, data: SequenceData) -> dict[str, Any]:
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
    if cfg.dataset not in MNIST_DATASETS:
        card["standardization"] = standardization(cfg.dataset)
    return card


def _sharded_accuracy(
    model: nn.Module, data: SequenceData, ddp: Distributed, device: torch.device
) -> float:
    """Test accuracy with the inputs split over the ranks and the counts summed."""
    was_training = model.training
    model.eval()
    part = data.subset(ddp.shard(torch.arange(len(data))))
    lengths = None if part.lengths is None else part.lengths.to(device)
    pred = predict(model, part.inputs.to(device), lengths=lengths)
    correct = float((pred == part.labels.to(device)).sum())
    model.train(was_training)
    total = ddp.all_sum([correct, float(len(part))], device)
    return total[0] / max(total[1], 1.0)


def _append_metrics(run_dir: Path, record: dict[str, Any]) -> None:
    with open(run_dir / METRICS, "a") as fh:
        fh.write(json.dumps(record) + "\n")


def _truncate_metrics(run_dir: Path, step: int) -> None:
    path = run_dir / METRICS
    if path.exists():
        keep = [ln for ln in path.read_text().splitlines() if json.loads(ln).get("step", 0) <= step]
        path.write_text("".join(ln + "\n" for ln in keep))


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
        resume: continue from ``ckpt/last`` with the saved config.
        progress: show a progress bar.
        stop_after_steps: stop (as if killed) after this many global steps; for tests.

    Returns:
        The final test accuracy and timing.

    Raises:
        ValueError: on a folder that already holds a run (without ``resume``), a resume of
            a folder without one, or a config that differs from the saved one.
    """
    run_dir = Path(run_dir)
    ddp, device = setup(resolve_device(cfg.device))
    if cfg.batch_size < ddp.world:
        raise ValueError(f"batch size {cfg.batch_size} is smaller than the {ddp.world} ranks")
    if resume:
        saved = TrainConfig.load(run_dir / CONFIG)
        if saved != cfg:
            diff = [k for k, v in cfg.to_json().items() if saved.to_json()[k] != v]
            raise ValueError(f"--resume with a different config ({', '.join(diff)}); omit them")
    elif (run_dir / CONFIG).exists():
        raise ValueError(f"{run_dir} already holds a run; pass --resume or choose another --out")
    train_data = load_dataset(cfg.dataset, split="train", root=cfg.data_root, limit=cfg.train_limit)
    test_data = load_dataset(cfg.dataset, split="test", root=cfg.data_root, limit=cfg.test_limit)
    torch.manual_seed(cfg.seed)
    model = build_model(cfg, train_data).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps_per_epoch = -(-len(train_data) // cfg.batch_size)
    total_steps = steps_per_epoch * cfg.epochs
    penalty = _penalty(cfg, train_data)
    local_batch = -(-cfg.batch_size // ddp.world)
    objective: nn.Module = StepLoss(
        model,
        penalty=penalty,
        lam=cfg.lam,
        penalty_inputs=max(1, round(local_batch * cfg.reg_fraction)),
    )
    if ddp.world > 1:
        objective = DistributedDataParallel(objective)

    step, elapsed = 0, 0.0
    if resume and (run_dir / (LAST + ".json")).exists():
        meta = load_checkpoint(run_dir / LAST, model=model, optimizer=optimizer, restore_rng=True)
        step, elapsed = int(meta["step"]), float(meta["elapsed"])
        if ddp.main:
            _truncate_metrics(run_dir, step)
    elif ddp.main:
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / CONFIG).write_text(json.dumps(cfg.to_json(), indent=1) + "\n")
        (run_dir / METRICS).write_text("")
    ddp.barrier()
    log = ddp.main

    x_all, y_all = train_data.inputs.to(device), train_data.labels.to(device)
    len_all = None if train_data.lengths is None else train_data.lengths.to(device)
    bar = tqdm(
        total=total_steps,
        initial=step,
        disable=not (progress and log),
        desc=run_dir.name,
        unit="step",
    )
    window: list[tuple[float, float, int, int]] = []
    test_acc = float("nan")
    stopped = False
    while step < total_steps and not stopped:
        epoch, offset = divmod(step, steps_per_epoch)
        order = batch_indices(
            len(train_data),
            cfg.batch_size,
            generator=torch.Generator().manual_seed(cfg.seed * 100_003 + epoch),
        )
        model.train()
        started = time.perf_counter()
        for idx in order[offset:]:
            for group in optimizer.param_groups:
                group["lr"] = cosine_lr(cfg.lr, step, total_steps)
            seed = cfg.seed * 1_000_003 + step + 7919 * ddp.rank
            gen = torch.Generator(device=device).manual_seed(seed)
            local = ddp.shard(idx).to(device)
            stats = train_step(
                model,
                x_all[local],
                y_all[local],
                optimizer,
                generator=gen,
                clip=cfg.clip,
                lengths=None if len_all is None else len_all[local],
                objective=objective,
                loss_scale=len(local) * ddp.world / len(idx),
            )
            step += 1
            window.append(
                (stats.loss * stats.count, stats.penalty * stats.count, stats.correct, stats.count)
            )
            bar.update(1)
            if step % cfg.log_every == 0 or step % steps_per_epoch == 0:
                sums = ddp.all_sum([sum(w[i] for w in window) for i in range(4)], device)
                loss, reg, acc = sums[0] / sums[3], sums[1] / sums[3], sums[2] / sums[3]
                record = {
                    "step": step,
                    "epoch": epoch,
                    "loss": loss,
                    "train_acc": acc,
                    "lr": optimizer.param_groups[0]["lr"],
                }
                if penalty is not None:
                    record["reg"] = reg
                if log:
                    _append_metrics(run_dir, record)
                bar.set_postfix(
                    {
                        "loss": f"{loss:.3f}",
                        "acc": f"{acc:.3f}",
                        **({"reg": f"{reg:.3g}"} if penalty is not None else {}),
                    }
                )
                window.clear()
            end_of_epoch = step % steps_per_epoch == 0
            if end_of_epoch:
                elapsed += time.perf_counter() - started
                test_acc = _sharded_accuracy(model, test_data, ddp, device)
                if log:
                    _append_metrics(
                        run_dir,
                        {
                            "step": step,
                            "epoch": epoch + 1,
                            "test_acc": test_acc,
                            "elapsed_s": elapsed,
                        },
                    )
                if progress and log:
                    bar.write(
                        f"epoch {epoch + 1}/{cfg.epochs}: test accuracy {100 * test_acc:.2f} %"
                    )
            checkpoint = cfg.checkpoint_every and step % cfg.checkpoint_every == 0
            if log and (end_of_epoch or checkpoint):
                run_time = elapsed if end_of_epoch else elapsed + time.perf_counter() - started
                save_checkpoint(
                    run_dir / LAST,
                    model=model,
                    optimizer=optimizer,
                    meta={"step": step, "elapsed": run_time, "model": model.config()},
                )
            if stop_after_steps is not None and step >= stop_after_steps:
                stopped = True
                break
    bar.close()
    completed = step >= total_steps
    if completed and log:
        save_checkpoint(
            run_dir / FINAL,
            model=model,
            meta={
                "step": step,
                "elapsed": elapsed,
                "test_accuracy": test_acc,
                "model": model.config(),
                "data": _data_card(cfg, train_data),
                "world_size": ddp.world,
            },
        )
    teardown(ddp)
    return TrainResult(run_dir, test_acc, elapsed, step, completed)


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
        if saved.device != cfg.device:
            saved_path.write_text(json.dumps(cfg.to_json(), indent=1) + "\n")
    if (run_dir / "model.json").exists():
        return
    train(cfg, run_dir, resume=saved_path.exists(), progress=progress)


def load_model(
    run_dir: str | Path, *, device: str | torch.device = "cpu"
) -> tuple[RecurrentClassifier, TrainConfig]:
    """The trained classifier of ``run_dir`` (final weights, else the last checkpoint), in eval
    mode, with its config.

    Raises:
        ValueError: if the folder holds no run or no checkpoint.
    """
    run_dir = Path(run_dir)
    cfg = TrainConfig.load(run_dir / CONFIG)
    name = FINAL if (run_dir / (FINAL + ".json")).exists() else LAST
    if not (run_dir / (name + ".json")).exists():
        raise ValueError(f"{run_dir}: no checkpoint yet (train it first)")
    record = json.loads((run_dir / (name + ".json")).read_text())
    arch = record.get("meta", {}).get("model")
    if isinstance(arch, dict):  # saved with the weights: no need to read the data
        model = RecurrentClassifier(**arch)
    else:
        model = build_model(
            cfg, load_dataset(cfg.dataset, split="test", root=cfg.data_root, limit=1)
        )
    load_checkpoint(run_dir / name, model=model)
    return model.to(device).eval(), cfg
