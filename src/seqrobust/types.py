"""Shared type aliases used across layers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from torch import Tensor

ForwardFn = Callable[[Tensor], Tensor]
"""A classifier as a function: inputs ``(batch, time, features)`` -> logits ``(batch, classes)``."""

CellType = Literal["rnn", "lstm", "gru"]
Norm = Literal["l2", "linf"]

__all__ = ["CellType", "ForwardFn", "Norm"]
