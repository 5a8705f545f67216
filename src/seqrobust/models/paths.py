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


class LengthBound(nn.Module):
    """A classifier with its batch's sequence lengths bound: ``forward(x)`` calls
    ``model(x, lengths)``, so every x-only routine (geometry, attacks, regularisers) works on
    padded, variable-length batches. Parameters and train/eval mode are the wrapped model's.

    Args:
        model: a classifier accepting ``(x, lengths)``.
        lengths: ``(batch,)`` real steps per sequence of the batch this wrapper is used on.
    """

    def __init__(self, model: nn.Module, lengths: Tensor) -> None:
        super().__init__()
        self.model = model
        self.lengths = lengths

    def _check(self, x: Tensor) -> None:
        if x.shape[0] != self.lengths.shape[0]:
            raise ValueError(
                f"this model is bound to a batch of {self.lengths.shape[0]} lengths "
                f"but got {x.shape[0]} inputs"
            )

    def forward(self, x: Tensor) -> Tensor:
        """Logits ``(batch, classes)`` of the bound batch."""
        self._check(x)
        out: Tensor = self.model(x, self.lengths)
        return out

    def forward_twice_differentiable(self, x: Tensor) -> Tensor:
        """The wrapped model's twice-differentiable path with the bound lengths."""
        self._check(x)
        own = getattr(self.model, "forward_twice_differentiable", None)
        if callable(own):
            out: Tensor = own(x, self.lengths)
            return out
        with torch.backends.cudnn.flags(enabled=False):
            out = self.model(x, self.lengths)
        return out


def bind_lengths(model: nn.Module, lengths: Tensor | None) -> nn.Module:
    """``model`` itself when ``lengths`` is ``None``, else a :class:`LengthBound` wrapper."""
    return model if lengths is None else LengthBound(model, lengths)


def differentiable_forward(model: nn.Module | Callable[[Tensor], Tensor]) -> ForwardFn:
    """A forward function of ``model`` that input derivatives (any order) can go through.

    A module that chooses its own execution path (``uses_fast_path``, e.g.
    :class:`~seqrobust.models.RecurrentClassifier`: fast kernels where they can differentiate,
    its cell loop on CUDA and inside ``torch.func``) is returned as is; any other module goes
    through :func:`twice_differentiable`; a plain callable is returned unchanged. The module's
    train/eval mode is never changed.
    """
    if isinstance(model, nn.Module) and callable(getattr(model, "uses_fast_path", None)):
        return model
    return twice_differentiable(model)
