"""``fit``: train your own ``nn.Module`` in place, with any regulariser, in memory.

The same loop as the run-folder :func:`~seqrobust.training.train` (one implementation, see
:mod:`~seqrobust.training.engine`), without files: a history comes back instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from seqrobust.data.dataset import SequenceData
from seqrobust.models.classifier import as_classifier
from seqrobust.training.config import check_range
from seqrobust.training.distributed import Distributed
from seqrobust.training.engine import EpochSummary, Position, Schedule, prepare_task, run_epochs
from seqrobust.training.loop import Penalty

_BY_NAME = ("hessian", "jacobian", "cure", "pgd-at")


@dataclass(frozen=True)
class FitResult:
    """What :func:`fit` did.

    Attributes:
        history: one :class:`~seqrobust.training.engine.EpochSummary` per epoch (mean loss,
            train accuracy, mean penalty, test accuracy).
        seconds: training time (without the test evaluations' share of the epochs).
        steps: optimisation steps taken.
    """

    history: tuple[EpochSummary, ...]
    seconds: float
    steps: int

    @property
    def test_accuracy(self) -> float | None:
        """The last epoch's test accuracy (``None`` without test data)."""
        return self.history[-1].test_acc if self.history else None


class _History:
    """The listener of :func:`fit`: keeps the epoch summaries, writes nothing."""

    def __init__(self) -> None:
        self.epochs: list[EpochSummary] = []

    def log(self, record: dict[str, Any]) -> None:
        """Window records are not kept."""

    def epoch_end(self, summary: EpochSummary) -> None:
        """Keep ``summary``."""
        self.epochs.append(summary)

    def checkpoint(self, position: Position) -> None:
        """Nothing is saved."""


def make_penalty(reg: str | Penalty | None, *, lam: float, **options: Any) -> Penalty | None:
    """The penalty for ``reg``: a regulariser name (configured by ``options``, model units),
    a callable ``penalty(forward, x, y, generator=g)``, or ``None``.

    Raises:
        ValueError: on an unknown name, ``lam`` without ``reg`` (or ``reg`` without
            ``lam > 0``), options for a callable, or ``at_eps`` missing for PGD-AT/CURE.
    """
    given = {k: v for k, v in options.items() if v is not None}
    if reg is None or reg == "none":
        if lam != 0:
            raise ValueError(f"fit: lam={lam:g} needs a regulariser; pass reg=")
        if given:
            raise ValueError(f"fit: {', '.join(sorted(given))} given without reg=; pass reg= "
                             "or drop them")
        return None
    if not lam > 0:
        raise ValueError(f"fit: reg={reg!r} needs lam > 0")
    if isinstance(reg, str):
        if reg not in _BY_NAME:
            raise ValueError(f"fit: unknown reg {reg!r}; choose one of {', '.join(_BY_NAME)} "
                             "or pass a callable")
        if reg in ("pgd-at", "cure") and "at_eps" not in given:
            raise ValueError(f"fit: reg={reg!r} needs at_eps (model units, e.g. 8/255 for "
                             "inputs in [0, 1])")
        if reg == "pgd-at" and "at_alpha" not in given:
            given["at_alpha"] = given["at_eps"] / 4
        from seqrobust.regularizers import make_regularizer

        regularizer: Penalty = make_regularizer(reg, **given)
        return regularizer
    if not callable(reg):
        raise ValueError(f"fit: reg must be a name, a callable or None, got {type(reg).__name__}")
    if given:
        raise ValueError(f"fit: {', '.join(sorted(given))} apply only to a regulariser given "
                         "by name")
    return reg


def _device(model: nn.Module, device: str | torch.device | None) -> torch.device:
    if device is not None:
        return torch.device(device)
    first = next(model.parameters(), None)
    return first.device if first is not None else torch.device("cpu")


def fit(
    model: nn.Module,
    data: SequenceData,
    *,
    reg: str | Penalty | None = None,
    lam: float = 0.0,
    epochs: int = 10,
    batch_size: int = 128,
    lr: float = 2e-3,
    weight_decay: float = 0.0,
    clip: float = 1.0,
    reg_fraction: float = 1.0,
    seed: int = 0,
    test: SequenceData | None = None,
    takes_lengths: bool | None = None,
    device: str | torch.device | None = None,
    progress: bool = True,
    estimator: str | None = None,
    probes: int | None = None,
    fd_step: float | None = None,
    at_eps: float | None = None,
    at_steps: int | None = None,
    at_alpha: float | None = None,
) -> FitResult:
    """Train ``model`` in place on ``data``: Adam with cosine decay, gradient clipping and
    ``cross_entropy + lam * penalty`` (the recipe of ``seqrobust train``).

    The batch order and the penalty's randomness follow ``seed``; dropout draws from torch's
    global generator, as in any PyTorch loop (seed it with ``torch.manual_seed``).

    Args:
        model: any classifier ``(B, T, F) [, (B,) lengths] -> (B, L)``.
        data: training sequences ``(N, T, F)`` (padded ones with ``lengths``).
        reg: ``"hessian"``, ``"jacobian"``, ``"cure"``, ``"pgd-at"``, a callable
            ``penalty(forward, x, y, generator=g)`` (``forward``: x-only logits of these
            rows), or ``None``.
        lam: the penalty's weight (> 0 with ``reg``, 0 without).
        epochs: passes over ``data``; batch_size: inputs per step.
        lr: peak learning rate; weight_decay: Adam's; clip: maximum gradient norm (0: off).
        reg_fraction: fraction of each batch the penalty sees.
        seed: batch order and penalty randomness.
        test: evaluated after each epoch (``None``: skipped).
        takes_lengths: whether ``model.forward`` is ``(x, lengths)`` (``None``: read from its
            signature).
        device: where to train (``model`` is moved there); ``None``: where it is.
        progress: show a progress bar.
        estimator: probes: fd_step: at_eps: at_steps: at_alpha: options of a regulariser
            given by name (:func:`~seqrobust.regularizers.make_regularizer`), in model units;
            ``at_eps`` is required for ``"pgd-at"`` and ``"cure"``, ``at_alpha`` defaults to
            ``at_eps / 4``.

    Returns:
        The per-epoch history, training seconds and steps.

    Raises:
        ValueError: on a bad hyperparameter (one line naming it), a bad ``reg``, or a loss
            that becomes non-finite (``NonFiniteLoss``, naming the step; the parameters are
            those before that step).
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"fit: model must be an nn.Module, got {type(model).__name__}")
    for name, part in (("data", data), ("test", test)):
        if part is not None and not isinstance(part, SequenceData):
            raise ValueError(f"fit: {name} must be a SequenceData, got {type(part).__name__}")
    for name, value in (("epochs", epochs), ("batch_size", batch_size), ("lr", lr),
                        ("weight_decay", weight_decay), ("clip", clip), ("lam", lam),
                        ("reg_fraction", reg_fraction), ("seed", seed), ("probes", probes),
                        ("fd_step", fd_step), ("at_eps", at_eps), ("at_steps", at_steps),
                        ("at_alpha", at_alpha)):
        try:
            check_range(name, value)
        except ValueError as exc:
            raise ValueError(f"fit: {exc}") from None
    penalty = make_penalty(reg, lam=lam, estimator=estimator, probes=probes, fd_step=fd_step,
                           at_eps=at_eps, at_steps=at_steps, at_alpha=at_alpha)
    dev = _device(model, device)
    was_training = model.training
    classifier = as_classifier(model.to(dev), takes_lengths=takes_lengths)
    task = prepare_task(classifier, data, test, penalty=penalty, lam=lam,
                        reg_fraction=reg_fraction, lr=lr, weight_decay=weight_decay,
                        batch_size=batch_size, ddp=Distributed(), device=dev)
    schedule = Schedule(epochs=epochs, batch_size=batch_size, lr=lr, clip=clip, seed=seed)
    position, history = Position(), _History()
    try:
        run_epochs(task, schedule, position, history, ddp=Distributed(), progress=progress,
                   desc="fit")
    finally:
        model.train(was_training)
    return FitResult(tuple(history.epochs), position.elapsed, position.step)
