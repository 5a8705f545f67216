"""Data parallelism on PyTorch's own engine (``torch.distributed``, launched by ``torchrun``).

``torchrun --nproc-per-node N -m seqrobust train ...`` sets ``WORLD_SIZE``/``RANK``/
``LOCAL_RANK``; :func:`setup` then joins the process group (gloo on CPU, NCCL on CUDA). Every
rank draws the same global batch, trains on its contiguous shard, and DDP averages the
gradients; each rank's loss is scaled by ``local * world / global`` so the averaged gradient is
exactly the single-process gradient of the global batch, even for uneven shards. DDP wraps the
whole objective (:class:`~seqrobust.training.loop.StepLoss`), so regularisers that
differentiate through input gradients run inside DDP's single forward and their parameter
gradients are reduced like any other (tested against single-process gradients). Only rank 0
writes files. A rank that fails makes ``torchrun`` stop the others; collectives also time out
(``$SEQROBUST_DIST_TIMEOUT`` seconds, default 600) instead of hanging forever.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist
from torch import Tensor


@dataclass(frozen=True)
class Distributed:
    """This process's place in the job (``world == 1``: a plain single-process run)."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        """Whether this rank writes files and shows progress."""
        return self.rank == 0

    def shard(self, index: Tensor) -> Tensor:
        """This rank's contiguous part of ``index`` (sizes differ by at most one)."""
        return index if self.world == 1 else index.tensor_split(self.world)[self.rank]

    def barrier(self) -> None:
        """Wait for every rank (no-op for one process)."""
        if self.world > 1:
            dist.barrier()

    def all_sum(self, values: list[float], device: torch.device) -> list[float]:
        """Element-wise sum of ``values`` over ranks."""
        if self.world == 1:
            return values
        tensor = torch.tensor(values, dtype=torch.float64, device=device)
        dist.all_reduce(tensor)
        return tensor.tolist()


def world_size() -> int:
    """``$WORLD_SIZE`` (1 when not launched by torchrun)."""
    try:
        return int(os.environ.get("WORLD_SIZE", "1"))
    except ValueError:
        raise ValueError(
            f"WORLD_SIZE must be an integer, got {os.environ['WORLD_SIZE']!r}"
        ) from None


def teardown(ddp: Distributed) -> None:
    """Leave the process group after a barrier (so no rank closes connections another rank is
    still using; gloo aborts the process otherwise)."""
    if ddp.world > 1 and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def setup(device: torch.device) -> tuple[Distributed, torch.device]:
    """Join the process group when launched by torchrun; returns this rank and its device.

    On CUDA each rank uses ``cuda:LOCAL_RANK`` with NCCL; on CPU, gloo.
    """
    world = world_size()
    if world == 1:
        return Distributed(), device
    rank, local = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    if device.type == "cuda":
        device = torch.device("cuda", local)
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        timeout = timedelta(seconds=float(os.environ.get("SEQROBUST_DIST_TIMEOUT", "600")))
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend, timeout=timeout)
    return Distributed(rank=rank, world=world, local_rank=local), device
