"""Choosing a twice-differentiable forward function for any classifier."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

from seqrobust.types import ForwardFn


def twice_differentiable(model: nn.Module | Callable[[Tensor], Tensor]) -> ForwardFn:
    """A forward function of ``model`` that supports double backward, eval-mode input
    gradients and ``torch.func`` transforms on every device.

    Models that provide ``forward_twice_differentiable`` (e.g.
    :class:`~seqrobust.models.RecurrentClassifier`) use it. Any other module runs with cuDNN
    disabled, which makes PyTorch's recurrent layers use their native, differentiable kernels.
    Plain callables are returned unchanged.

    Args:
        model: a classifier mapping ``(batch, time, features)`` to logits ``(batch, classes)``.

    Returns:
        A callable with the same inputs and outputs.
    """
    own = getattr(model, "forward_twice_differentiable", None)
    if callable(own):
        return own
    if not isinstance(model, nn.Module):
        return model

    def forward(x: Tensor) -> Tensor:
        with torch.backends.cudnn.flags(enabled=False):
            out: Tensor = model(x)
        return out

    return forward
