"""Lengths bound to a batch (the training loop's, until it moves to
:meth:`seqrobust.models.Classifier.bind`)."""

from __future__ import annotations

from torch import Tensor, nn

from seqrobust.models.classifier import second_order_context


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
        with second_order_context():
            out = self.model(x, self.lengths)
        return out


def bind_lengths(model: nn.Module, lengths: Tensor | None) -> nn.Module:
    """``model`` itself when ``lengths`` is ``None``, else a :class:`LengthBound` wrapper."""
    return model if lengths is None else LengthBound(model, lengths)
