"""Running a study's independent tasks one at a time or in worker processes."""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, TypeVar

import torch
from tqdm import tqdm

R = TypeVar("R")


def _worker_init(threads: int) -> None:
    torch.set_num_threads(threads)


def run_tasks(fn: Callable[..., R], calls: Sequence[tuple[Any, ...]], *, workers: int = 1,
              progress: bool = True, desc: str = "tasks", unit: str = "task") -> list[R]:
    """``fn(*args, progress)`` for every ``args`` in ``calls``, with a progress bar.

    ``workers > 1`` runs them in that many spawned processes with ``cpu_count // workers``
    threads each (their own progress bars off); results come back in completion order.

    Raises:
        ValueError: if ``workers`` is not a positive integer.
    """
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    bar = tqdm(total=len(calls), desc=desc, unit=unit, disable=not progress)
    results: list[R] = []
    try:
        if workers == 1:
            for args in calls:
                results.append(fn(*args, progress))
                bar.update()
            return results
        threads = max(1, (os.cpu_count() or 1) // workers)
        with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"),
                                 initializer=_worker_init, initargs=(threads,)) as pool:
            futures = [pool.submit(fn, *args, False) for args in calls]
            for future in as_completed(futures):
                results.append(future.result())
                bar.update()
        return results
    finally:
        bar.close()


__all__ = ["run_tasks"]
