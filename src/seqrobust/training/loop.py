"""A model-agnostic training loop: any classifier ``(B, T, F) -> (B, L)``, any sequence data."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from seqrobust.data.dataset import SequenceData
from seqrobust.models.classifier import Classifier, as_classifier

Penalty = Callable[..., Tensor]
"""``penalty(forward, x, y, generator=g) -> scalar``; added to the loss as ``lam * penalty``.

``forward`` maps ``x`` alone to logits (:meth:`~seqrobust.models.classifier.Classifier.bind`:
for padded batches the lengths of these rows are bound); any
:class:`~seqrobust.regularizers.Regularizer` is one."""


class NonFiniteLoss(ValueError):
    """The loss, the penalty or the gradient norm of a step is NaN or infinite."""


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


class StepLoss(nn.Module):
    """The training objective ``cross_entropy(model(x), y) + lam * penalty(...)`` as a module.

    Wrapping it (not the classifier) in ``DistributedDataParallel`` gives DDP exactly one
    forward per backward even though the penalty runs the classifier again and differentiates
    through its input gradients.

    Args:
        classifier: the model with its call signature declared
            (:func:`~seqrobust.models.classifier.as_classifier`).
        penalty: optional regulariser (see :data:`Penalty`).
        lam: its weight.
        penalty_inputs: the penalty sees the first this many inputs of each batch (all when
            ``None``).
    """

    def __init__(
        self,
        classifier: Classifier,
        *,
        penalty: Penalty | None = None,
        lam: float = 0.0,
        penalty_inputs: int | None = None,
    ) -> None:
        super().__init__()
        if not isinstance(classifier, Classifier):
            raise ValueError("StepLoss needs a Classifier; wrap the module with as_classifier")
        self.classifier, self.penalty, self.lam, self.penalty_inputs = (
            classifier,
            penalty,
            lam,
            penalty_inputs,
        )

    def forward(
        self, x: Tensor, y: Tensor, lengths: Tensor | None, generator: torch.Generator | None
    ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """Returns ``(total, cross_entropy, penalty value, logits)`` for inputs ``x``
        ``(B, T, F)``, labels ``y`` ``(B,)`` and optional ``lengths`` ``(B,)``."""
        logits = self.classifier.forward_fast(x, lengths)
        loss = F.cross_entropy(logits, y)
        if self.penalty is None or self.lam <= 0:
            return loss, loss, torch.zeros((), device=x.device), logits
        k = x.shape[0] if self.penalty_inputs is None else self.penalty_inputs
        k = max(1, min(k, x.shape[0]))
        gen = generator if generator is not None else torch.Generator(device=x.device)
        forward = self.classifier.bind(None if lengths is None else lengths[:k])
        value = self.penalty(forward, x[:k], y[:k], generator=gen)
        return loss + self.lam * value, loss, value, logits


def optimizer_step(
    objective: nn.Module,
    model: nn.Module,
    x: Tensor,
    y: Tensor,
    optimizer: torch.optim.Optimizer,
    *,
    generator: torch.Generator | None = None,
    clip: float = 0.0,
    lengths: Tensor | None = None,
    loss_scale: float = 1.0,
) -> StepStats:
    """One step of a prepared objective (a :class:`StepLoss`, possibly DDP-wrapped).

    Args:
        objective: returns ``(total, cross_entropy, penalty, logits)`` of
            ``(x, y, lengths, generator)``.
        model: the module whose parameters ``clip`` applies to.
        x: inputs ``(B, T, F)``; y: labels ``(B,)``; lengths: ``(B,)`` real steps or ``None``.
        optimizer: steps the model's parameters.
        generator: randomness for the penalty (probes, random starts).
        clip: maximum gradient norm (0 disables clipping).
        loss_scale: multiplies the loss before backward (data-parallel ranks use
            ``local batch * world size / global batch`` so averaged gradients are exact).

    Raises:
        NonFiniteLoss: if the loss, the penalty or (with ``clip``) the gradient norm is not
            finite; the parameters are not changed then.
    """
    optimizer.zero_grad(set_to_none=True)
    total, loss, value, logits = objective(x, y, lengths, generator)
    loss_f, value_f, total_f = float(loss.detach()), float(value.detach()), float(total.detach())
    if not (math.isfinite(loss_f) and math.isfinite(value_f) and math.isfinite(total_f)):
        raise NonFiniteLoss(f"the loss became {loss_f:g} (penalty {value_f:g}); lower the "
                            "learning rate or lam")
    (total * loss_scale).backward()
    if clip > 0:
        norm = float(nn.utils.clip_grad_norm_(model.parameters(), clip))
        if not math.isfinite(norm):
            optimizer.zero_grad(set_to_none=True)
            raise NonFiniteLoss(f"the gradient norm became {norm:g}; lower the learning rate "
                                "or lam")
    optimizer.step()
    correct = int((logits.detach().argmax(-1) == y).sum())
    return StepStats(loss_f, value_f, correct, int(y.shape[0]))


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
    lengths: Tensor | None = None,
    loss_scale: float = 1.0,
) -> StepStats:
    """One step of ``cross_entropy(model(x), y) + lam * penalty(forward, x[:k], y[:k],
    generator=generator)``: :class:`StepLoss` built from the arguments, then
    :func:`optimizer_step`.

    Args:
        model: the classifier, in train mode: a module (called as ``model(x)``, or
            ``model(x, lengths)`` when ``lengths`` is given) or a
            :class:`~seqrobust.models.classifier.Classifier`.
        x: inputs ``(B, T, F)``; y: labels ``(B,)``.
        optimizer: steps the model's parameters.
        penalty: optional regulariser; sees the first ``penalty_inputs`` examples of the
            (already shuffled) batch, an unbiased subset.
        lam: its weight.
        penalty_inputs: how many inputs the penalty sees (all when ``None``).
        generator: randomness for the penalty (probes, random starts).
        clip: maximum gradient norm (0 disables clipping).
        lengths: ``(B,)`` real steps per padded sequence, or ``None``.
        loss_scale: as in :func:`optimizer_step`.

    Raises:
        NonFiniteLoss: as :func:`optimizer_step`.
    """
    classifier = as_classifier(model, takes_lengths=lengths is not None)
    objective = StepLoss(classifier, penalty=penalty, lam=lam, penalty_inputs=penalty_inputs)
    return optimizer_step(objective, model, x, y, optimizer, generator=generator, clip=clip,
                          lengths=lengths, loss_scale=loss_scale)


def iterate(data: SequenceData, batch_size: int) -> Iterator[SequenceData]:
    """Consecutive batches of ``data`` (inputs, labels and lengths sliced together)."""
    for start in range(0, len(data), batch_size):
        yield data.subset(slice(start, start + batch_size))


@torch.no_grad()
def predict(
    model: Callable[..., Tensor],
    inputs: Tensor,
    *,
    lengths: Tensor | None = None,
    batch_size: int = 1000,
) -> Tensor:
    """Predicted classes ``(N,)`` for inputs ``(N, T, F)`` (and optional ``lengths`` ``(N,)``),
    computed in batches on the inputs' device (move inputs first to use an accelerator)."""
    out = []
    for i in range(0, len(inputs), batch_size):
        chunk = inputs[i : i + batch_size]
        logits = model(chunk) if lengths is None else model(chunk, lengths[i : i + batch_size])
        out.append(logits.argmax(-1))
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
    for batch in iterate(data, batch_size):
        lengths = None if batch.lengths is None else batch.lengths.to(device)
        pred = predict(model, batch.inputs.to(device), lengths=lengths)
        correct += int((pred == batch.labels.to(device)).sum())
    model.train(was_training)
    return correct / max(len(data), 1)
