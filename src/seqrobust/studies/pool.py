"""Running a study's independent tasks one at a time or in worker processes."""

from __future__ import annotations

import multiprocessing as mp
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, TypeVar

import torch
from tqdm import tqdm

R = TypeVar("R")


def _exit_with(parent: int, every: float) -> None:
    while os.getppid() == parent:
        time.sleep(every)
    os._exit(1)  # orphaned: the run was killed, its tasks resume from their checkpoints


def _worker_init(threads: int, every: float = 2.0) -> None:
    """One worker's setup: ``threads`` torch threads, and an exit within ``every`` seconds of
    its parent's death (however the parent dies: a killed study stops all its work, and a
    restart does not find its run folders locked by orphans still computing)."""
    torch.set_num_threads(threads)
    threading.Thread(target=_exit_with, args=(os.getppid(), every), daemon=True).start()


def run_tasks(fn: Callable[..., R], calls: Sequence[tuple[Any, ...]], *, workers: int = 1,
              progress: bool = True, desc: str = "tasks", unit: str = "task") -> list[R]:
    """``fn(*args, progress)`` for every ``args`` in ``calls``, with a progress bar.

    ``workers > 1`` runs them in that many spawned processes with ``cpu_count // workers``
    threads each (their own progress bars off); results come back in completion order. The
    workers exit when this process dies, killed or not.

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
