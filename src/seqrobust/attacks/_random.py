"""Random starting points inside an ε-ball, from one generator or one stream per row."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from seqrobust.attacks.base import Randomness, _rows
from seqrobust.seeds import RowSeeds
from seqrobust.types import Norm


def _draw(
    kind: str, shape: tuple[int, ...], like: Tensor, generator: Randomness
) -> Tensor:
    """``torch.rand``/``torch.randn`` of ``shape`` (leading dim = rows) in ``like``'s dtype and
    device, from one generator or one stream per row."""
    sample = torch.rand if kind == "rand" else torch.randn
    if isinstance(generator, RowSeeds):
        if len(generator) != shape[0]:
            raise ValueError(f"{len(generator)} row seeds for a batch of {shape[0]}")
        rows = [sample(shape[1:], generator=g, dtype=like.dtype)
                for g in generator.generators(torch.device("cpu"))]
        out = torch.stack(rows) if rows else torch.empty(shape, dtype=like.dtype)
        return out.to(like.device)
    device = generator.device if generator is not None else like.device
    return sample(shape, generator=generator, device=device, dtype=like.dtype).to(like.device)


def random_start(
    inputs: Tensor, eps: Tensor, *, norm: Norm, generator: Randomness
) -> Tensor:
    """A random point of the ε-ball around each row (not yet clipped to the bounds).

    L∞: ``inputs + U(-ε, ε)`` per entry (as torchattacks). L2: a uniform direction with a
    radius drawn uniformly from ``[0, ε]`` (as torchattacks' ``PGDL2``).

    Args:
        inputs: ``(B, ...)``; eps: ``(B,)`` radii.
        norm: ``"linf"`` or ``"l2"``.
        generator: randomness; a generator may live on another device than ``inputs``; row
            streams (:class:`RowSeeds`) are drawn on the CPU, so results do not depend on the
            device either.

    Returns:
        ``(B, ...)`` starting points.
    """
    radius = _rows(eps.to(inputs), inputs)
    shape = tuple(inputs.shape)
    if norm == "linf":
        u = _draw("rand", shape, inputs, generator)
        return inputs + (-radius) + (2 * radius) * u
    if isinstance(generator, RowSeeds):  # direction and length from the same row stream
        both = _draw("randn", (shape[0], math.prod(shape[1:]) + 1), inputs, generator)
        direction = both[:, :-1].reshape(shape)
        length = torch.special.ndtr(both[:, -1])  # uniform on [0, 1] from a normal
    else:
        direction = _draw("randn", shape, inputs, generator)
        length = _draw("rand", (shape[0],), inputs, generator)
    direction = direction / _rows(direction.flatten(1).norm(dim=1).clamp_min(1e-12), inputs)
    return inputs + direction * radius * _rows(length, inputs)


__all__ = ["random_start"]
