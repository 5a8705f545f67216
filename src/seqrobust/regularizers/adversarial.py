"""PGD adversarial training (Madry et al., 2018, https://arxiv.org/abs/1706.06083) as a penalty.

The penalty is the cross-entropy on L-infinity PGD examples (random start, every step run,
inputs kept in ``[0, 1]``), so the training loss is ``CE(x) + lam * CE(x_adv)``: ``lam = 1`` is
Goodfellow et al.'s even mix of clean and adversarial loss; a large ``lam`` approaches Madry
et al.'s purely adversarial objective. The attack does not touch parameter gradients; the
adversarial inputs are constants for the weight update (Danskin's theorem).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from seqrobust._checks import check_positive
from seqrobust.attacks.pgd import pgd_linf


@dataclass(frozen=True)
class AdversarialRegularizer:
    """Cross-entropy on PGD examples.

    Attributes:
        eps: L-infinity radius (model units, ``pixels / 255`` for MNIST).
        alpha: PGD step size (model units).
        steps: PGD steps.
    """

    eps: float
    alpha: float
    steps: int

    def __post_init__(self) -> None:
        check_positive(self.eps, name="at_eps")
        check_positive(self.alpha, name="at_alpha")
        if isinstance(self.steps, bool) or not isinstance(self.steps, int) or self.steps <= 0:
            raise ValueError(f"at_steps must be a positive integer, got {self.steps!r}")

    def __call__(
        self, model: nn.Module, x: Tensor, y: Tensor, *, generator: torch.Generator | None = None
    ) -> Tensor:
        """Mean cross-entropy of ``model`` on PGD examples of ``x`` ``(B, T, F)``, labels ``y``."""
        x_adv = pgd_linf(
            model, x.detach(), y, eps=self.eps, alpha=self.alpha, steps=self.steps,
            random_start=True, bounds=(0.0, 1.0), generator=generator,
        )
        return F.cross_entropy(model(x_adv), y)
