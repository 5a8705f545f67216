"""Validation helpers that turn bad input into one-line ``ValueError`` messages."""

from __future__ import annotations

import torch
from torch import Tensor


def check_sequences(x: Tensor, *, name: str = "x") -> None:
    """Require a finite floating tensor of shape ``(batch, time, features)``.

    Raises:
        ValueError: if ``x`` has the wrong rank, is not floating point, or holds NaN/inf.
    """
    if not isinstance(x, Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if x.dim() != 3:
        raise ValueError(
            f"{name} must have shape (batch, time, features), got shape {tuple(x.shape)}"
        )
    if not x.is_floating_point():
        raise ValueError(f"{name} must be floating point, got dtype {x.dtype}")
    if not bool(torch.isfinite(x).all()):
        raise ValueError(f"{name} contains NaN or infinite values")


def check_positive(value: float, *, name: str) -> None:
    """Require ``value > 0``.

    Raises:
        ValueError: if ``value`` is not a positive finite number.
    """
    if not (value > 0 and value < float("inf")):
        raise ValueError(f"{name} must be a positive number, got {value!r}")


def check_choice(value: str, choices: tuple[str, ...], *, name: str) -> None:
    """Require ``value`` to be one of ``choices``.

    Raises:
        ValueError: naming the bad value and the allowed ones.
    """
    if value not in choices:
        raise ValueError(f"unknown {name} {value!r}; choose one of {', '.join(choices)}")
