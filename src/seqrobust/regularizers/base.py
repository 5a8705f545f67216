"""The interface between regularisers and the training loop."""

from __future__ import annotations

from typing import Protocol

import torch
from torch import Tensor, nn


class Regularizer(Protocol):
    """A training penalty: ``reg(model, x, y, generator=g)`` returns a scalar, the mean over the
    inputs ``x`` ``(B, T, F)`` (labels ``y`` ``(B,)``), differentiable with respect to the
    model's parameters; the loop minimises ``cross_entropy + lam * reg(...)``."""

    def __call__(
        self, model: nn.Module, x: Tensor, y: Tensor, *, generator: torch.Generator | None = None
    ) -> Tensor:
        """The penalty (a 0-dim tensor)."""
        ...
