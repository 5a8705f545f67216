"""A model-agnostic training loop: any classifier ``(B, T, F) -> (B, L)``, any sequence data."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from seqrobust.data.dataset import SequenceData

Penalty = Callable[[Tensor, Tensor, torch.Generator], Tensor]
"""``penalty(x, y, generator) -> scalar``; added to the loss as ``lam * penalty``."""


@dataclass(frozen=True)
class StepStats:
    """What one optimisation step measured."""

    loss: float
    penalty: float
    correct: int
    count: int


def cosine_lr(base: float, step: int, total: int) -> float:
    """Cosine decay from ``base`` at step 0 to 0 at step ``total``."""
    return 0.5 * base * (1.0 + math.cos(math.pi * min(step, total) / max(total, 1)))


def batch_indices(n: int, batch_size: int, *, generator: torch.Generator) -> list[Tensor]:
    """A random partition of ``range(n)`` into batches (the last may be smaller)."""
    order = torch.randperm(n, generator=generator)
    return list(order.split(batch_size))


def train_step(
    model: nn.Module,
    x: Tensor,
    y: Tensor,
    optimizer: torch.optim.Optimizer,
    *,
    penalty: Penalty | None = None,
    lam: float = 0.0,
    penalty_inputs: int | None = None,
    generator: torch.Generator | None = None,
    clip: float = 0.0,
) -> StepStats:
    """One step of ``cross_entropy(model(x), y) + lam * penalty(x[:k], y[:k], generator)``.

    Args:
        model: the classifier, in train mode.
        x: inputs ``(B, T, F)``; y: labels ``(B,)``.
        optimizer: steps the model's parameters.
        penalty: optional regulariser; sees the first ``penalty_inputs`` examples of the
            (already shuffled) batch, an unbiased subset.
        lam: its weight.
        generator: randomness for the penalty (probes, random starts).
        clip: maximum gradient norm (0 disables clipping).
    """
    optimizer.zero_grad(set_to_none=True)
    logits = model(x)
    loss = F.cross_entropy(logits, y)
    value = torch.zeros((), device=x.device)
    if penalty is not None and lam > 0:
        k = x.shape[0] if penalty_inputs is None else max(1, min(penalty_inputs, x.shape[0]))
        gen = generator if generator is not None else torch.Generator(device=x.device)
        value = penalty(x[:k], y[:k], gen)
        total = loss + lam * value
    else:
        total = loss
    total.backward()
    if clip > 0:
        nn.utils.clip_grad_norm_(model.parameters(), clip)
    optimizer.step()
    correct = int((logits.detach().argmax(-1) == y).sum())
    return StepStats(float(loss.detach()), float(value.detach()), correct, int(y.shape[0]))


def iterate(data: SequenceData, batch_size: int) -> Iterator[tuple[Tensor, Tensor]]:
    """Consecutive ``(inputs, labels)`` batches of ``data``."""
    for start in range(0, len(data), batch_size):
        yield data.inputs[start : start + batch_size], data.labels[start : start + batch_size]


@torch.no_grad()
def predict(model: Callable[[Tensor], Tensor], inputs: Tensor, *, batch_size: int = 1000) -> Tensor:
    """Predicted classes ``(N,)`` for inputs ``(N, T, F)``, computed in batches on the inputs'
    device (move inputs first to use an accelerator)."""
    out = [model(inputs[i : i + batch_size]).argmax(-1) for i in range(0, len(inputs), batch_size)]
    return torch.cat(out) if out else torch.empty(0, dtype=torch.long, device=inputs.device)


def accuracy(
    model: nn.Module,
    data: SequenceData,
    *,
    batch_size: int = 1000,
    device: torch.device | None = None,
) -> float:
    """Fraction of ``data`` that ``model`` classifies correctly (model put in eval mode)."""
    was_training = model.training
    model.eval()
    device = device or next(model.parameters()).device
    correct = 0
    for x, y in iterate(data, batch_size):
        correct += int((predict(model, x.to(device)) == y.to(device)).sum())
    model.train(was_training)
    return correct / max(len(data), 1)
