"""Training throughput with 1 and N processes (torchrun, gloo on CPU / NCCL on CUDA).

Runs ``torchrun --nproc-per-node P -m seqrobust train`` for each P on the same configuration
(one epoch of MNIST rows by default), interleaving the process counts over rounds, and reads
the training time each run logged. Prints JSON and writes
``benchmarks/results/distributed-<device>.json``.

Usage: python benchmarks/bench_distributed.py [--procs 1 2] [--rounds 2] [--reg none|hessian]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import torch


def _run(procs: int, args: argparse.Namespace, out: Path) -> float:
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc-per-node",
        str(procs),
        "-m",
        "seqrobust",
        "train",
        "--dataset",
        args.dataset,
        "--epochs",
        "1",
        "--train-limit",
        str(args.train_limit),
        "--test-limit",
        "1000",
        "--batch-size",
        str(args.batch),
        "--out",
        str(out),
        "--quiet",
    ]
    if args.reg != "none":
        cmd += ["--reg", args.reg, "--lam", "1e-3"]
    env = {**os.environ, "OMP_NUM_THREADS": str(max(1, args.threads // procs))}
    subprocess.run(cmd, check=True, env=env, capture_output=True)
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    return float([r for r in records if "elapsed_s" in r][-1]["elapsed_s"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--procs", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--dataset", default="mnist")
    parser.add_argument("--train-limit", type=int, default=20000)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--reg", default="none")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    times: dict[int, list[float]] = {p: [] for p in args.procs}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            for p in args.procs:
                times[p].append(_run(p, args, Path(tmp) / f"r{r}-p{p}"))
    base = statistics.median(times[args.procs[0]])
    results = [
        {
            "processes": p,
            "train_seconds": statistics.median(t),
            "samples_per_s": args.train_limit / statistics.median(t),
            "speedup_vs_first": base / statistics.median(t),
        }
        for p, t in times.items()
    ]
    device = "cuda" if torch.cuda.is_available() else "cpu"
    report = {
        "benchmark": "distributed",
        "device": device,
        "cpus": os.cpu_count(),
        "torch": torch.__version__,
        "reg": args.reg,
        "global_batch": args.batch,
        "samples": args.train_limit,
        "results": results,
    }
    text = json.dumps(report, indent=1)
    print(text)
    path = Path(__file__).parent / "results" / f"distributed-{device}.json"
    path.write_text(text + "\n")


if __name__ == "__main__":
    main()
