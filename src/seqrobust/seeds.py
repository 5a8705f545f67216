"""Per-input random streams: the one seed scheme of the package.

Input ``i`` of a job seeded ``seed`` gets the seed ``seed * SEED_STRIDE + i`` (``i`` its index
in the whole data set, not in its batch or shard); :class:`RowSeeds` turns such seeds into one
generator per row, optionally mixed with a stream path (the ε index, the restart). Results then
do not depend on batching, sharding or device.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

SEED_STRIDE = 1_000_003
"""Per-input seeds are ``seed * SEED_STRIDE + global_index``."""


def input_seeds(seed: int, indices: Tensor) -> Tensor:
    """``(M,)`` int64 per-input seeds ``seed * 1_000_003 + indices``."""
    return seed * SEED_STRIDE + indices.to(torch.long)


def input_generator(seed: int, index: int, device: torch.device | str = "cpu") -> torch.Generator:
    """A generator seeded for one input (see :func:`input_seeds`)."""
    return torch.Generator(device=device).manual_seed(seed * SEED_STRIDE + int(index))


def input_normals(
    generators: Sequence[torch.Generator], shape: tuple[int, ...], *, like: Tensor
) -> Tensor:
    """``(len(generators), *shape)`` standard normals, row ``b`` drawn from ``generators[b]``
    (CPU generators; drawn in ``like``'s dtype, then moved to its device, so CPU and GPU runs
    start from the same numbers)."""
    if not generators:
        return torch.zeros((0, *shape), dtype=like.dtype, device=like.device)
    rows = [torch.randn(shape, generator=g, dtype=like.dtype) for g in generators]
    return torch.stack(rows).to(like.device)


class RowSeeds:
    """Per-input random streams: row ``n`` draws its random numbers from its own generator,
    seeded from ``seeds[n]`` and a stream path (e.g. the ε index, then the restart), so an
    input's random start does not depend on which other inputs share its batch, on the batch
    size or on how a test set is sharded across jobs.

    Args:
        seeds: ``(B,)`` int64, one seed per row (e.g. ``seed * 1_000_003 + global_index``).
        stream: integers naming the stream (mixed into every row's seed).
    """

    def __init__(self, seeds: Tensor, stream: tuple[int, ...] = ()) -> None:
        if seeds.dim() != 1 or seeds.dtype != torch.long:
            raise ValueError(f"seeds must be a 1-D int64 tensor, got {tuple(seeds.shape)} "
                             f"{seeds.dtype}")
        self.seeds = seeds
        self.stream = stream

    def __len__(self) -> int:
        return int(self.seeds.shape[0])

    def take(self, rows: Tensor, *stream: int) -> RowSeeds:
        """The streams of ``rows`` (indices into this batch), extended by ``stream``."""
        return RowSeeds(self.seeds[rows], (*self.stream, *stream))

    def generators(self, device: torch.device) -> list[torch.Generator]:
        """One freshly seeded generator per row, on ``device``."""
        out = []
        for seed in self.seeds.tolist():
            mixed = seed
            for part in self.stream:
                mixed = (mixed * 0x9E3779B1 + part + 1) % (2**63 - 1)
            out.append(torch.Generator(device=device).manual_seed(mixed))
        return out


__all__ = ["SEED_STRIDE", "RowSeeds", "input_generator", "input_normals", "input_seeds"]
