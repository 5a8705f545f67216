"""The epoch/step loop shared by :func:`~seqrobust.training.fit` (a user's module, in memory)
and :func:`~seqrobust.training.train` (a configured run folder).

The loop owns the schedule (cosine learning rate, the seeded batch order and per-step
generators, logging windows, end-of-epoch evaluation) and tells a :class:`Listener` what
happened; the listener decides what to keep (a history in memory, or ``metrics.jsonl`` and
checkpoints on disk). Resuming at :attr:`Position.step` replays the same batches and seeds.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import torch
from torch import nn
from tqdm import tqdm

from seqrobust.data.dataset import SequenceData
from seqrobust.models.classifier import Classifier
from seqrobust.training.distributed import Distributed
from seqrobust.training.loop import (
    NonFiniteLoss,
    Penalty,
    StepLoss,
    batch_indices,
    cosine_lr,
    optimizer_step,
    predict,
)


@dataclass(frozen=True)
class Schedule:
    """How the loop runs (all but the data and the model).

    Attributes:
        epochs: passes over the training data.
        batch_size: global batch size (split over data-parallel ranks).
        lr: peak learning rate (cosine decay to 0 over all steps).
        clip: maximum gradient norm (0: off).
        seed: seeds the batch order and the penalty's per-step generators.
        log_every: emit a log record every this many steps (and at each epoch's end).
        checkpoint_every: also ask for a checkpoint every this many steps (0: epoch ends only).
    """

    epochs: int
    batch_size: int
    lr: float
    clip: float
    seed: int
    log_every: int = 50
    checkpoint_every: int = 0


Window = list[tuple[float, float, int, int]]
"""Per-step ``(loss * n, penalty * n, correct, n)`` since the last log record."""


@dataclass
class Position:
    """Where the loop stands: global steps done, training seconds so far, and the steps of the
    log window not yet written (so a resumed run writes the same log records)."""

    step: int = 0
    elapsed: float = 0.0
    window: Window = field(default_factory=list)


@dataclass(frozen=True)
class EpochSummary:
    """One finished epoch (means over the steps this process ran in it).

    Attributes:
        epoch: 1-based epoch number.
        step: global steps done.
        loss: mean cross-entropy; train_acc: fraction of training inputs classified right.
        reg: mean penalty (``None`` without one).
        test_acc: test accuracy (``None`` without test data).
        elapsed: training seconds so far.
    """

    epoch: int
    step: int
    loss: float
    train_acc: float
    reg: float | None
    test_acc: float | None
    elapsed: float


class Listener(Protocol):
    """What the loop reports (called on the main rank only)."""

    def log(self, record: dict[str, Any]) -> None:
        """A windowed log record ``{step, epoch, loss, train_acc, lr[, reg]}``."""

    def epoch_end(self, summary: EpochSummary) -> None:
        """An epoch finished (after the test evaluation)."""

    def checkpoint(self, position: Position) -> None:
        """A point to save the state at (after ``position.step`` steps)."""


@dataclass(frozen=True)
class Task:
    """What the loop trains.

    Attributes:
        model: the module whose parameters are stepped (train/eval mode set by the loop).
        objective: the loss module (a :class:`~seqrobust.training.loop.StepLoss`, possibly
            DDP-wrapped).
        optimizer: steps ``model``'s parameters.
        train: training data; test: evaluated after each epoch (``None``: skipped).
        penalised: whether the objective has a penalty (log records then carry ``reg``).
        device: where the batches go.
    """

    model: nn.Module
    objective: nn.Module
    optimizer: torch.optim.Optimizer
    train: SequenceData
    test: SequenceData | None
    penalised: bool
    device: torch.device


def prepare_task(
    classifier: Classifier,
    train: SequenceData,
    test: SequenceData | None,
    *,
    penalty: Penalty | None,
    lam: float,
    reg_fraction: float,
    lr: float,
    weight_decay: float,
    batch_size: int,
    ddp: Distributed,
    device: torch.device,
) -> Task:
    """Adam on ``classifier``'s parameters and the objective: cross-entropy plus ``lam`` times
    ``penalty`` on ``reg_fraction`` of each rank's batch, DDP-wrapped on several ranks."""
    optimizer = torch.optim.Adam(classifier.parameters(), lr=lr, weight_decay=weight_decay)
    local_batch = -(-batch_size // ddp.world)
    objective: nn.Module = StepLoss(classifier, penalty=penalty, lam=lam,
                                    penalty_inputs=max(1, round(local_batch * reg_fraction)))
    if ddp.world > 1:
        objective = torch.nn.parallel.DistributedDataParallel(objective)
    return Task(classifier, objective, optimizer, train, test, penalty is not None, device)


def sharded_accuracy(model: nn.Module, data: SequenceData, ddp: Distributed,
                     device: torch.device) -> float:
    """Accuracy on ``data`` with the inputs split over the ranks and the counts summed."""
    was_training = model.training
    model.eval()
    part = data.subset(ddp.shard(torch.arange(len(data))))
    lengths = None if part.lengths is None else part.lengths.to(device)
    pred = predict(model, part.inputs.to(device), lengths=lengths)
    correct = float((pred == part.labels.to(device)).sum())
    model.train(was_training)
    total = ddp.all_sum([correct, float(len(part))], device)
    return total[0] / max(total[1], 1.0)


def run_epochs(
    task: Task,
    schedule: Schedule,
    position: Position,
    listener: Listener,
    *,
    ddp: Distributed,
    progress: bool = True,
    desc: str = "train",
    stop_after_steps: int | None = None,
) -> float | None:
    """Train from ``position`` to the end of the schedule (or ``stop_after_steps``), updating
    ``position`` in place.

    Returns:
        The last epoch's test accuracy (``None`` if no epoch ended or no test data).

    Raises:
        NonFiniteLoss: naming the step, when the loss, the penalty or the gradient norm is
            not finite (the parameters are left as they were before that step).
    """
    data, device, optimizer = task.train, task.device, task.optimizer
    steps_per_epoch = -(-len(data) // schedule.batch_size)
    total_steps = steps_per_epoch * schedule.epochs
    x_all, y_all = data.inputs.to(device), data.labels.to(device)
    len_all = None if data.lengths is None else data.lengths.to(device)
    main = ddp.main
    bar = tqdm(total=total_steps, initial=position.step, disable=not (progress and main),
               desc=desc, unit="step")
    window = position.window
    test_acc: float | None = None
    step = position.step
    while step < total_steps:
        epoch, offset = divmod(step, steps_per_epoch)
        order = batch_indices(len(data), schedule.batch_size, generator=torch.Generator()
                              .manual_seed(schedule.seed * 100_003 + epoch))
        task.model.train()
        started = time.perf_counter()
        epoch_sums = [0.0, 0.0, 0.0, 0.0]
        for idx in order[offset:]:
            for group in optimizer.param_groups:
                group["lr"] = cosine_lr(schedule.lr, step, total_steps)
            seed = schedule.seed * 1_000_003 + step + 7919 * ddp.rank
            gen = torch.Generator(device=device).manual_seed(seed)
            local = ddp.shard(idx).to(device)
            try:
                stats = optimizer_step(
                    task.objective, task.model, x_all[local], y_all[local], optimizer,
                    generator=gen, clip=schedule.clip,
                    lengths=None if len_all is None else len_all[local],
                    loss_scale=len(local) * ddp.world / len(idx))
            except NonFiniteLoss as exc:
                bar.close()
                raise NonFiniteLoss(f"step {step + 1} (epoch {epoch + 1}): {exc}") from None
            step += 1
            position.step = step
            sums = (stats.loss * stats.count, stats.penalty * stats.count, stats.correct,
                    stats.count)
            window.append(sums)
            epoch_sums = [a + b for a, b in zip(epoch_sums, sums, strict=True)]
            bar.update(1)
            end_of_epoch = step % steps_per_epoch == 0
            if step % schedule.log_every == 0 or end_of_epoch:
                _log(window, epoch, step, task, listener, bar, ddp)
                window.clear()
            if end_of_epoch:
                position.elapsed += time.perf_counter() - started
                test_acc = _end_epoch(task, epoch, step, epoch_sums, position, listener,
                                      ddp, bar, progress, schedule.epochs)
            every = schedule.checkpoint_every
            if main and (end_of_epoch or (every and step % every == 0)):
                run_time = position.elapsed if end_of_epoch else (
                    position.elapsed + time.perf_counter() - started)
                listener.checkpoint(Position(step, run_time, list(window)))
            if stop_after_steps is not None and step >= stop_after_steps:
                if not end_of_epoch:
                    position.elapsed += time.perf_counter() - started
                bar.close()
                return test_acc
    bar.close()
    return test_acc


def _log(window: Window, epoch: int, step: int, task: Task,
         listener: Listener, bar: Any, ddp: Distributed) -> None:
    sums = ddp.all_sum([sum(w[i] for w in window) for i in range(4)], task.device)
    loss, reg, acc = sums[0] / sums[3], sums[1] / sums[3], sums[2] / sums[3]
    record: dict[str, Any] = {"step": step, "epoch": epoch, "loss": loss, "train_acc": acc,
                              "lr": task.optimizer.param_groups[0]["lr"]}
    if task.penalised:
        record["reg"] = reg
    if ddp.main:
        listener.log(record)
    bar.set_postfix({"loss": f"{loss:.3f}", "acc": f"{acc:.3f}",
                     **({"reg": f"{reg:.3g}"} if task.penalised else {})})


def _end_epoch(task: Task, epoch: int, step: int, epoch_sums: list[float], position: Position,
               listener: Listener, ddp: Distributed, bar: Any, progress: bool,
               epochs: int) -> float | None:
    test_acc = (None if task.test is None
                else sharded_accuracy(task.model, task.test, ddp, task.device))
    sums = ddp.all_sum(epoch_sums, task.device)
    count = max(sums[3], 1.0)
    summary = EpochSummary(epoch + 1, step, sums[0] / count, sums[2] / count,
                           sums[1] / count if task.penalised else None, test_acc,
                           position.elapsed)
    if ddp.main:
        listener.epoch_end(summary)
        if progress:
            what = (f"test accuracy {100 * test_acc:.2f} %" if test_acc is not None else
                    f"train loss {summary.loss:.4f}, accuracy {100 * summary.train_acc:.2f} %")
            bar.write(f"epoch {epoch + 1}/{epochs}: {what}")
    return test_acc

