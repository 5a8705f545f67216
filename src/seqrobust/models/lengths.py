"""What a model's signature says about lengths, the padding constant of a batch, and one group
of equal-length inputs with the model as a function of their real steps."""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import torch
from torch import Tensor, nn

from seqrobust.types import ForwardFn

if TYPE_CHECKING:
    from seqrobust.models.classifier import Classifier

_LENGTH_NAMES = ("lengths", "length", "lens", "seq_lengths", "seq_lens", "seq_len", "lengths_")


def takes_lengths_from_signature(model: nn.Module) -> bool:
    """Whether ``model.forward``'s second parameter is named like sequence lengths."""
    try:
        params = list(inspect.signature(model.forward).parameters.values())
    except (TypeError, ValueError):
        return False
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 2 and positional[1].name.lower() in _LENGTH_NAMES


def second_parameter_optional(model: nn.Module) -> bool:
    try:
        params = list(inspect.signature(model.forward).parameters.values())
    except (TypeError, ValueError):
        return False
    return len(params) >= 2 and params[1].default is not inspect.Parameter.empty


@dataclass(frozen=True)
class Group:
    """Inputs of one real length and the model as a function of their real steps.

    Attributes:
        length: real steps ``L`` of every input of the group.
        rows: ``(G,)`` int64 positions in the data.
        classifier: the model.
        steps: the padded length the model is fed (``None``: the inputs as they are).
        pad_value: the constant of the padded steps.
    """

    length: int
    rows: Tensor
    classifier: Classifier
    steps: int | None = None
    pad_value: float = 0.0

    def forward(self, *, functional: bool = False, order: Literal[1, 2] = 2) -> ForwardFn:
        """``(B, L, F) -> (B, classes)`` for any ``B``: the user's model on inputs of this
        group with only their real steps as variables (``functional``, ``order``: as in
        :func:`differentiable_forward`)."""
        if self.steps is None:  # trimmed: every step of the inputs is real
            return self.classifier.bind(None, functional=functional, order=order)
        lengths = torch.tensor([self.length], dtype=torch.long)
        return self.classifier.bind(lengths, steps=self.steps, pad_value=self.pad_value,
                                    functional=functional, order=order)


def padding_value(x: Tensor, lengths: Tensor | None) -> float:
    """The constant every padded step of ``x`` ``(N, T, F)`` holds after ``lengths`` ``(N,)``
    (0 when nothing is padded).

    Raises:
        ValueError: if padded steps hold different values.
    """
    if lengths is None:
        return 0.0
    steps = torch.arange(x.shape[1], device=x.device)
    tail = x[steps[None, :] >= lengths.to(x.device)[:, None]]
    if tail.numel() == 0:
        return 0.0
    value = float(tail.reshape(-1)[0])
    if not bool((tail == value).all()):
        raise ValueError("padded steps hold different values; pad with a constant")
    return value


__all__ = ["Group", "padding_value", "second_parameter_optional", "takes_lengths_from_signature"]
