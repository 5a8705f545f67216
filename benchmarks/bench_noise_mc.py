"""Monte Carlo for Figure 5: 10^6 uniform directions at d = 100 over 30 radii.

Compares, in interleaved rounds (medians), the library path (directions drawn once in ``A``'s
eigenbasis and reduced to two numbers each, reused by every radius: common random numbers)
against a naive path (fresh directions per radius, ``q`` from the dense ``A``). The naive path
runs on ``--naive-fraction`` of the directions and is scaled up linearly; say so when quoting.
Writes ``benchmarks/results/noise_mc-cpu.json``. Timings on a shared 2-core machine are noisy.

    .venv/bin/python benchmarks/bench_noise_mc.py [--rounds 3] [--n 1000000]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from seqrobust.measure.montecarlo import count_negative, quadratic_direction_stats
from seqrobust.studies.figure5 import goe


def library(lam: np.ndarray, gamma: np.ndarray, rho: np.ndarray, n: int, seed: int) -> np.ndarray:
    a, b = quadratic_direction_stats(lam, gamma, n, rng=np.random.default_rng(seed))
    return count_negative(a, b, rho, t=1.0)


def naive(w: np.ndarray, j: np.ndarray, rho: np.ndarray, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    counts = []
    for r in rho:
        hits, left = 0, n
        while left:
            m = min(left, 40_000)
            th = rng.standard_normal((m, w.shape[0]))
            th /= np.linalg.norm(th, axis=1, keepdims=True)
            q = 1.0 + r * (th @ j) + 0.5 * r * r * np.einsum("ni,ni->n", th @ w, th)
            hits += int(np.count_nonzero(q < 0))
            left -= m
        counts.append(hits)
    return np.array(counts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--d", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--naive-fraction", type=float, default=0.05)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/noise_mc-cpu.json"))
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    d = args.d
    w = goe(d, rng) + 1.5 * math.sqrt(2 / d) * np.eye(d)
    lam, q = np.linalg.eigh(w)
    j = rng.standard_normal(d)
    j /= np.linalg.norm(j)
    rho = np.geomspace(0.5, 300, 30)
    n_naive = max(1, int(args.n * args.naive_fraction))
    lib_s, naive_s = [], []
    for k in range(args.rounds):
        t0 = time.perf_counter()
        counts = library(lam, q.T @ j, rho, args.n, seed=k)
        lib_s.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        naive_counts = naive(w, j, rho, n_naive, seed=k)
        naive_s.append((time.perf_counter() - t0) * args.n / n_naive)
    p_lib, p_naive = counts / args.n, naive_counts / n_naive
    result = {
        "benchmark": "noise_mc",
        "d": d,
        "directions": args.n,
        "radii": len(rho),
        "rounds": args.rounds,
        "library_seconds_median": statistics.median(lib_s),
        "library_seconds_all": lib_s,
        "naive_seconds_median_scaled": statistics.median(naive_s),
        "naive_measured_on_directions": n_naive,
        "speedup_library_vs_naive": statistics.median(naive_s) / statistics.median(lib_s),
        "goal_seconds": 30.0,
        "meets_goal": statistics.median(lib_s) < 30.0,
        "plateau_p_library": float(p_lib[-1]),
        "plateau_p_naive": float(p_naive[-1]),
        "machine": {
            "cpu_count": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "platform": platform.platform(),
        },
        "note": "shared 2-core CPU with other jobs running; naive path scaled from a fraction",
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
