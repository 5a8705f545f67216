"""The ε-sweep engine: a whole robustness curve in one call, never weaker than one attack per ε.

ε-balls are nested, so an adversarial found at radius ε_j lies in every larger ball. The sweep
visits ε in increasing order and keeps, per input, the first radius at which it was fooled and
that example. At each ε it attacks only the inputs still robust, with the full attack (for
PGD: a fresh random start and all steps), and carries every earlier success. Hence, per input,

    P(sweep fooled at ε) = 1 - Π_{ε' ≤ ε} (1 - p(ε')) ≥ p(ε),

where ``p(ε)`` is the probability that the attack alone fools it at ε: the curve is
non-increasing by construction and, at every ε, at least as strong as independent per-ε runs
(with the same random numbers, input by input, exactly as strong or stronger). The cost is one
attack per ε on the still-robust inputs only; PGD also stops moving an input once fooled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor
from tqdm import tqdm

from seqrobust.attacks.base import (
    Bounds,
    FixedEpsilonAttack,
    Model,
    RowSeeds,
    check_batch,
    check_epsilons,
    misclassified,
)
from seqrobust.models import differentiable_forward


@dataclass(frozen=True)
class SweepResult:
    """A robustness curve with its per-input evidence.

    Attributes:
        epsilons: ``(E,)`` radii in increasing order (model units).
        first_fooled: ``(N,)`` int64: index into ``epsilons`` of the smallest ε at which the
            input was fooled; ``-1`` if misclassified already when clean; ``E`` if never.
        adversarials: ``(N, T, F)`` the first adversarial found per input (the clean input
            where none was found), or ``None`` when not kept.
    """

    epsilons: tuple[float, ...]
    first_fooled: Tensor
    adversarials: Tensor | None

    @property
    def success(self) -> Tensor:
        """``(E, N)`` bool: input ``n`` is misclassified within radius ``epsilons[e]``."""
        index = torch.arange(len(self.epsilons), device=self.first_fooled.device)
        return self.first_fooled.unsqueeze(0) <= index.unsqueeze(1)

    @property
    def clean_accuracy(self) -> float:
        """Fraction classified correctly without perturbation."""
        return float((self.first_fooled >= 0).double().mean())

    @property
    def robust_accuracy(self) -> Tensor:
        """``(E,)`` fraction neither misclassified nor fooled at each ε (float64)."""
        return 1.0 - self.success.double().mean(dim=1)


def sweep(
    attack: FixedEpsilonAttack,
    model: Model,
    inputs: Tensor,
    labels: Tensor,
    *,
    epsilons: float | Sequence[float],
    bounds: Bounds = (0.0, 1.0),
    batch_size: int = 1000,
    generator: torch.Generator | None = None,
    seeds: Tensor | None = None,
    keep_adversarials: bool = False,
    progress: bool = False,
) -> SweepResult:
    """The robust-accuracy curve of ``model`` under ``attack`` for every ε, nested.

    Args:
        attack: any fixed-ε attack (e.g. :class:`~seqrobust.attacks.LinfPGD`).
        model: classifier (module or callable) ``(B, T, F) -> (B, L)``, in the mode to attack.
        inputs: ``(N, T, F)`` inside ``bounds``, on the model's device.
        labels: ``(N,)`` true classes.
        epsilons: radii in model units, any order (sorted, duplicates removed).
        bounds: valid input range.
        batch_size: inputs per attack call.
        generator: randomness for the attack's random starts.
        seeds: ``(N,)`` int64 per-input seeds (replaces ``generator``): input ``n``'s random
            starts at the ``k``-th ε come from its own stream ``(seeds[n], k)``, so its result
            does not depend on ``batch_size``, on the other inputs or on sharding the inputs
            across jobs (torchattacks-based attacks draw per batch: see
            :class:`~seqrobust.attacks.RowSeeds`).
        keep_adversarials: also return the adversarial examples.
        progress: show a progress bar over ε.

    Returns:
        :class:`SweepResult`.

    Raises:
        ValueError: on bad inputs, labels or ε, or a non-positive ``batch_size``.
    """
    eps_sorted = tuple(sorted(set(check_epsilons(epsilons))))
    check_batch(inputs, labels, bounds)
    if inputs.shape[0] == 0:
        raise ValueError("sweep needs at least one input")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    forward = differentiable_forward(model, order=1)
    n, count = inputs.shape[0], len(eps_sorted)
    if seeds is not None and (seeds.shape != (n,) or seeds.dtype != torch.long):
        raise ValueError(f"seeds must be an int64 tensor of shape ({n},), got "
                         f"{tuple(seeds.shape)} {seeds.dtype}")
    streams = None if seeds is None else RowSeeds(seeds.cpu())
    first = torch.full((n,), count, dtype=torch.long, device=inputs.device)
    wrong = torch.cat(
        [
            misclassified(forward, inputs[i : i + batch_size], labels[i : i + batch_size])
            for i in range(0, n, batch_size)
        ]
    ) if n else torch.zeros(0, dtype=torch.bool, device=inputs.device)
    first[wrong] = -1
    adversarials = inputs.clone() if keep_adversarials else None
    bar = tqdm(eps_sorted, disable=not progress, desc="ε sweep", unit="ε")
    for k, eps in enumerate(bar):
        robust = torch.nonzero(first == count).squeeze(1)
        for chunk in robust.split(batch_size):
            radius = torch.full((chunk.numel(),), eps, dtype=inputs.dtype, device=inputs.device)
            rng = generator if streams is None else streams.take(chunk.cpu(), k)
            adv, ok = attack.perturb(
                forward, inputs[chunk], labels[chunk], eps=radius, bounds=bounds, generator=rng,
            )
            fooled = chunk[ok]
            first[fooled] = k
            if adversarials is not None:
                adversarials[fooled] = adv[ok]
        bar.set_postfix({"robust": f"{float((first > k).float().mean()):.4f}"})
    bar.close()
    return SweepResult(eps_sorted, first, adversarials)


__all__ = ["SweepResult", "sweep"]
