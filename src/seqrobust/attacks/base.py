"""Fixed-ε attacks (foolbox style): a template ``__call__`` that owns the checks, the ε list,
the clipping and the success mask; each attack implements only :meth:`FixedEpsilonAttack.run`.

Perturbation sizes are in *model units* (the inputs' own scale, ``[0, 1]`` for MNIST); convert
the poster's pixel units with :func:`seqrobust.data.pixels_to_unit`.
"""

from __future__ import annotations

import math
import numbers
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import ClassVar, NamedTuple, final

import torch
from torch import Tensor, nn

from seqrobust._checks import check_sequences
from seqrobust.models import differentiable_forward
from seqrobust.seeds import RowSeeds
from seqrobust.types import ForwardFn, Norm

Bounds = tuple[float, float]
"""``(lower, upper)``: the valid range of every input entry."""

Model = nn.Module | Callable[[Tensor], Tensor]


Randomness = torch.Generator | RowSeeds | None
"""Where an attack draws its random numbers: one generator for the batch, one stream per row
(:class:`RowSeeds`), or the global generator (``None``)."""


class AttackResult(NamedTuple):
    """What :meth:`FixedEpsilonAttack.__call__` returns.

    Attributes:
        adversarials: ``(E, B, T, F)``, one adversarial batch per ε, inside the ε-ball and the
            bounds (a clean input where the attack found nothing better).
        success: ``(E, B)`` bool, True where the adversarial is misclassified.
        epsilons: the ε values, in the order given.
    """

    adversarials: Tensor
    success: Tensor
    epsilons: tuple[float, ...]


MAX_RADII = 1000
"""The most radii one sweep takes (each attacks every input still robust)."""


def check_epsilons(epsilons: float | Sequence[float]) -> tuple[float, ...]:
    """Validate ``epsilons`` (a number or a non-empty sequence of at most :data:`MAX_RADII`
    positive finite numbers; numpy scalars are numbers too).

    Raises:
        ValueError: on an empty or too long list or a value that is not positive and finite.
    """
    single = isinstance(epsilons, numbers.Real)
    values: tuple[object, ...] = (epsilons,) if single else tuple(epsilons)  # type: ignore[arg-type]
    if not values:
        raise ValueError("epsilons must not be empty")
    if len(values) > MAX_RADII:
        raise ValueError(f"{len(values)} radii requested; at most {MAX_RADII} (every radius "
                         "attacks every input still robust): use a coarser grid")
    out = []
    for eps in values:
        if isinstance(eps, bool) or not isinstance(eps, numbers.Real):
            raise ValueError(f"epsilon must be a number, got {eps!r}")
        eps = float(eps)
        if not (eps > 0 and math.isfinite(eps)):
            raise ValueError(f"epsilon must be positive and finite, got {eps!r}")
        out.append(float(eps))
    return tuple(out)


def check_batch(inputs: Tensor, labels: Tensor, bounds: Bounds) -> None:
    """Validate a batch: inputs ``(B, T, F)`` finite inside ``bounds``, labels ``(B,)`` int.

    Raises:
        ValueError: on a wrong shape, dtype, NaN/inf, bad bounds or inputs outside them.
    """
    check_sequences(inputs, name="inputs")
    if not isinstance(labels, Tensor) or labels.shape != (inputs.shape[0],):
        shape = tuple(labels.shape) if isinstance(labels, Tensor) else type(labels).__name__
        raise ValueError(f"labels must have shape ({inputs.shape[0]},), got {shape}")
    if labels.dtype not in (torch.int64, torch.int32):
        raise ValueError(f"labels must be int64 class indices, got dtype {labels.dtype}")
    lo, hi = bounds
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"bounds must be finite with lower < upper, got {bounds!r}")
    if inputs.numel() and (float(inputs.min()) < lo or float(inputs.max()) > hi):
        raise ValueError(
            f"inputs must lie in bounds {bounds}, got range "
            f"[{float(inputs.min()):.4g}, {float(inputs.max()):.4g}]"
        )


def _rows(values: Tensor, like: Tensor) -> Tensor:
    """Reshape per-row values ``(B,)`` to broadcast against ``like`` ``(B, ...)``."""
    return values.reshape(-1, *([1] * (like.dim() - 1)))


def project(
    inputs: Tensor, candidates: Tensor, eps: Tensor, *, norm: Norm, bounds: Bounds
) -> Tensor:
    """Project ``candidates`` onto ``{z : |z - inputs| <= eps} ∩ [lower, upper]``, row by row.

    For L∞ this is the exact projection; for L2 the ball projection followed by clipping (the
    standard PGD step, inside both sets since clipping never increases the distance).

    Args:
        inputs: clean inputs ``(B, ...)``.
        candidates: points to project ``(B, ...)``.
        eps: radii ``(B,)`` in model units.
        norm: ``"linf"`` or ``"l2"``.
        bounds: ``(lower, upper)`` of every entry.

    Returns:
        ``(B, ...)`` projected points.
    """
    delta = candidates - inputs
    radius = _rows(eps.to(delta), delta)
    if norm == "linf":
        delta = torch.maximum(torch.minimum(delta, radius), -radius)
    else:
        length = delta.flatten(1).norm(dim=1)
        scale = torch.clamp(eps.to(delta) / length.clamp_min(1e-12), max=1.0)
        delta = delta * _rows(scale, delta)
    return (inputs + delta).clamp(bounds[0], bounds[1])


@torch.no_grad()
def misclassified(forward: ForwardFn, inputs: Tensor, labels: Tensor) -> Tensor:
    """``(B,)`` bool: whether ``forward`` gets each input wrong.

    Raises:
        ValueError: on labels outside the model's classes.
    """
    logits = forward(inputs)
    if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= logits.shape[-1]):
        raise ValueError(f"labels must lie in [0, {logits.shape[-1]}) (the model's classes), "
                         f"got {int(labels.min())} .. {int(labels.max())}")
    return logits.argmax(-1) != labels


class FixedEpsilonAttack(ABC):
    """An attack that looks for a misclassified point inside a ball of a given radius.

    Subclasses set :attr:`norm` and :attr:`name` and implement :meth:`run`; their
    hyperparameters are keyword-only constructor arguments. ``restarts`` reruns :meth:`run` on
    the inputs not yet fooled (useful with a random start).
    """

    norm: ClassVar[Norm]
    name: ClassVar[str]
    restarts: int = 1

    @final
    def __call__(
        self,
        model: Model,
        inputs: Tensor,
        labels: Tensor,
        *,
        epsilons: float | Sequence[float],
        bounds: Bounds = (0.0, 1.0),
        generator: Randomness = None,
    ) -> AttackResult:
        """Attack ``inputs`` at each ε independently.

        Inputs already misclassified count as successes with the clean input as adversarial
        (it lies in every ball); the others are attacked.

        Args:
            model: classifier (module or callable) mapping ``(B, T, F)`` to logits ``(B, L)``.
            inputs: ``(B, T, F)`` clean inputs inside ``bounds``.
            labels: ``(B,)`` true classes.
            epsilons: one radius or a list, in model units.
            bounds: valid input range.
            generator: randomness (random starts); ``None`` uses the global generator;
                :class:`RowSeeds` gives every row its own stream (per ε index).

        Returns:
            :class:`AttackResult` with ``(E, B, T, F)`` adversarials and an ``(E, B)`` mask.

        Raises:
            ValueError: on bad shapes, NaN inputs, inputs outside ``bounds``, an empty ε list
                or a non-positive ε.
        """
        eps_list = check_epsilons(epsilons)
        check_batch(inputs, labels, bounds)
        forward = differentiable_forward(model, order=1)
        wrong = misclassified(forward, inputs, labels)
        rows = torch.nonzero(~wrong).squeeze(1)
        advs, success = [], []
        for k, eps in enumerate(eps_list):
            adv, ok = inputs.clone(), wrong.clone()
            radius = torch.full((rows.numel(),), eps, dtype=inputs.dtype, device=inputs.device)
            rng = generator.take(rows, k) if isinstance(generator, RowSeeds) else generator
            adv[rows], ok[rows] = self.perturb(
                forward, inputs[rows], labels[rows], eps=radius, bounds=bounds, generator=rng,
            )
            advs.append(adv)
            success.append(ok)
        return AttackResult(torch.stack(advs), torch.stack(success), eps_list)

    @final
    def perturb(
        self,
        forward: ForwardFn,
        inputs: Tensor,
        labels: Tensor,
        *,
        eps: Tensor,
        bounds: Bounds,
        generator: Randomness,
    ) -> tuple[Tensor, Tensor]:
        """Run the attack on already-validated inputs, then clip and score (no input checks:
        :meth:`__call__` and :func:`~seqrobust.attacks.sweep` validate once).

        Args:
            forward: the classifier as a function
                (:func:`~seqrobust.models.differentiable_forward`).
            inputs: ``(B, T, F)``; labels: ``(B,)``.
            eps: ``(B,)`` radius of each row (ε may differ between rows).
            bounds: valid input range.
            generator: randomness for random starts (:class:`RowSeeds`: restart ``r`` of a
                row draws from that row's stream extended by ``r``).

        Returns:
            ``(adversarials (B, T, F), success (B,))``; a row stays clean-valued inside the ball
            when every restart failed.
        """
        best = inputs.clone()
        success = torch.zeros(inputs.shape[0], dtype=torch.bool, device=inputs.device)
        todo = torch.arange(inputs.shape[0], device=inputs.device)
        for restart in range(max(1, self.restarts)):
            if todo.numel() == 0:
                break
            x, y, r = inputs[todo], labels[todo], eps[todo]
            rng = generator.take(todo, restart) if isinstance(generator, RowSeeds) else generator
            raw = self.run(forward, x, y, eps=r, bounds=bounds, generator=rng)
            adv = project(x, raw.detach(), r, norm=self.norm, bounds=bounds)
            ok = misclassified(forward, adv, y)
            best[todo] = adv  # the last try for rows still robust, the fooling one otherwise
            success[todo[ok]] = True
            todo = todo[~ok]
        return best, success

    @abstractmethod
    def run(
        self,
        forward: ForwardFn,
        inputs: Tensor,
        labels: Tensor,
        *,
        eps: Tensor,
        bounds: Bounds,
        generator: Randomness,
    ) -> Tensor:
        """Candidate adversarials ``(B, T, F)`` for ``inputs`` with per-row radii ``eps (B,)``.

        The result is projected onto the ball and the bounds afterwards.
        """

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({params})"


