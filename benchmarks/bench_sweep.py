"""The 30-ε PGD curve: seqrobust's nested sweep against a per-ε ``torchattacks.PGD`` loop.

Same model, inputs and settings (L∞, 30 steps, α = 2/255, random start), interleaved rounds,
medians of the process CPU time (wall time is also recorded, but on a shared machine it
mostly measures the other jobs). Reports the times, the speed ratio and, per ε, both robust
accuracies (the sweep must never be weaker: ``ours - theirs <= 0`` up to random-start noise).
Optionally also without random start, where the comparison is exact, and the sweep without its
cycle shortcut.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_sweep.py --run runs/rnn-default --n 1000

Writes JSON to ``benchmarks/results/sweep-cpu.json`` (``--out``). On a shared CPU keep ``--n``
small and pin threads (oversubscribed OpenMP threads slow every process down many times).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import torch

from seqrobust.attacks import LinfPGD, sweep
from seqrobust.data import load_dataset
from seqrobust.runs.attack import parse_epsilons
from seqrobust.training import load_model


def _ours(model, x, y, eps, *, random_start, seed, cycle_window=4):
    attack = LinfPGD(alpha=2 / 255, steps=30, random_start=random_start,
                     cycle_window=cycle_window)
    started, cpu = time.perf_counter(), time.process_time()
    result = sweep(attack, model, x, y, epsilons=[e / 255 for e in eps], batch_size=1000,
                   generator=torch.Generator().manual_seed(seed))
    seconds = (time.perf_counter() - started, time.process_time() - cpu)
    return seconds, [int(c) for c in (~result.success).sum(dim=1)]


def _theirs(model, x, y, eps, *, random_start, seed):
    import torchattacks

    counts = []
    started, cpu = time.perf_counter(), time.process_time()
    for k, e in enumerate(eps):
        torch.manual_seed(seed * 1000 + k)
        atk = torchattacks.PGD(model, eps=e / 255, alpha=2 / 255, steps=30,
                               random_start=random_start)
        adv = torch.cat([atk(x[i : i + 1000], y[i : i + 1000]) for i in range(0, len(x), 1000)])
        with torch.no_grad():
            counts.append(int((model(adv).argmax(-1) == y).sum()))
    return (time.perf_counter() - started, time.process_time() - cpu), counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", default="runs/rnn-default")
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--eps", default="1:30")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--exact-n", type=int, default=300,
                        help="inputs for the no-random-start comparison (0: skip)")
    parser.add_argument("--ablation", action="store_true",
                        help="also time the sweep without the cycle shortcut")
    parser.add_argument("--out", default="benchmarks/results/sweep-cpu.json")
    args = parser.parse_args()

    model, cfg = load_model(args.run)
    data = load_dataset(cfg.dataset, split="test", root=cfg.data_root, limit=args.n)
    x, y = data.inputs, data.labels
    eps = parse_epsilons(args.eps)
    times: dict[str, list[tuple[float, float]]] = {
        "sweep": [], "torchattacks": [], "sweep_no_cycles": []
    }
    ours_counts: list[list[int]] = []
    theirs_counts: list[list[int]] = []
    for r in range(args.rounds):
        t, c = _ours(model, x, y, eps, random_start=True, seed=r)
        times["sweep"].append(t)
        ours_counts.append(c)
        t, c = _theirs(model, x, y, eps, random_start=True, seed=r)
        times["torchattacks"].append(t)
        theirs_counts.append(c)
        if args.ablation:
            t, _ = _ours(model, x, y, eps, random_start=True, seed=r, cycle_window=0)
            times["sweep_no_cycles"].append(t)
        print(f"round {r}: " + ", ".join(
            f"{k} {v[-1][0]:.1f} s wall, {v[-1][1]:.1f} s cpu" for k, v in times.items() if v
        ), flush=True)
    wall = {k: statistics.median(t[0] for t in v) for k, v in times.items() if v}
    med = {k: statistics.median(t[1] for t in v) for k, v in times.items() if v}
    n = len(x)
    per_eps = [
        {"eps": e, "sweep": ours_counts[0][k] / n, "torchattacks": theirs_counts[0][k] / n,
         "diff_points": 100 * (ours_counts[0][k] - theirs_counts[0][k]) / n}
        for k, e in enumerate(eps)
    ]
    record: dict[str, object] = {
        "what": "30-step L-inf PGD curve, alpha 2/255, random start: nested sweep vs per-eps "
                "torchattacks.PGD loop",
        "run": args.run, "n": n, "eps_pixels": list(eps), "rounds": args.rounds,
        "threads": torch.get_num_threads(), "torch": torch.__version__,
        "machine": platform.processor() or platform.machine(),
        "timing": "process CPU time (robust to other jobs on a shared machine); wall in "
                  "wall_seconds_median",
        "cpu_seconds_median": med,
        "wall_seconds_median": wall,
        "speedup_vs_torchattacks": med["torchattacks"] / med["sweep"],
        "torchattacks_inputs_per_s_per_eps": n * len(eps) / med["torchattacks"],
        "max_diff_points_random_start": max(p["diff_points"] for p in per_eps),
        "per_eps_random_start_round0": per_eps,
    }
    if "sweep_no_cycles" in med:
        record["speedup_no_cycles_vs_torchattacks"] = med["torchattacks"] / med["sweep_no_cycles"]
    if args.exact_n:
        xs, ys = x[: args.exact_n], y[: args.exact_n]
        t_ours, c_ours = _ours(model, xs, ys, eps, random_start=False, seed=0)
        t_theirs, c_theirs = _theirs(model, xs, ys, eps, random_start=False, seed=0)
        record["no_random_start"] = {
            "n": len(xs), "cpu_seconds": {"sweep": t_ours[1], "torchattacks": t_theirs[1]},
            "robust_counts_sweep": c_ours, "robust_counts_torchattacks": c_theirs,
            "sweep_never_weaker": all(a <= b for a, b in zip(c_ours, c_theirs, strict=True)),
        }
    text = json.dumps(record, indent=1)
    print(text)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
