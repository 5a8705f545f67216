"""The worst case over attacks, every attack on every input against the cascade.

One run trains two small plain models (GRU, hidden 32, ItalyPowerDemand in raw UCR units, 15
and 3 epochs: a robust-ish and a fragile one), then measures on the same test series, side by
side, the worst case at ε = 0.1 over FGSM, BIM, PGD-30, APGD-CE (100 steps) and Square (1,000
queries) two ways: every attack on every input (``sr.worst_case``), and the architecture
study's cascade (FGSM, BIM and PGD on every input, then APGD-CE and Square each only on the
inputs still standing: :func:`seqrobust.measure.worst_case.cascade`), and
``sr.worst_case(..., cascade=True)`` (every attack after FGSM on the inputs still standing).
Prints the worst-case accuracies (equal up to the attacks' random draws), the times and their
ratios to the first. The saving is
APGD's fixed steps on the inputs the cheap attacks already broke; Square stops on an input as
soon as it is fooled, so on a fragile model (most inputs broken early) the two cost about the
same.

Prints a table and, with ``--out``, writes JSON (default
``benchmarks/results/worst_case_cascade-cpu.json``).

Usage: python benchmarks/bench_worst_case_cascade.py [--n 300] [--out [PATH]]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import torch
from torch import Tensor

import seqrobust as sr
from seqrobust.measure.robustness import AttackSettings, RobustnessCurve, robustness_curve
from seqrobust.measure.worst_case import cascade, robust_mask
from seqrobust.models import RecurrentClassifier

DEFAULT_OUT = Path(__file__).parent / "results" / "worst_case_cascade-cpu.json"
EPS = 0.1
CHEAP = (AttackSettings(attack="fgsm"),
         AttackSettings(attack="pgd", alpha=0.05, steps=10, random_start=False),
         AttackSettings(attack="pgd", steps=30))
COSTLY = {"apgd-ce": AttackSettings(attack="apgd-ce", steps=100),
          "square": AttackSettings(attack="square", queries=1000)}


def _both(model: torch.nn.Module, data: sr.SequenceData) -> dict[str, float]:
    start = time.perf_counter()
    full = sr.worst_case(model, data, eps=[EPS], attacks=[*CHEAP, *COSTLY.values()])
    full_s = time.perf_counter() - start

    start = time.perf_counter()
    cheap = [robustness_curve(model, data, eps=[EPS], settings=s) for s in CHEAP]

    def run(attack: str, index: Tensor) -> RobustnessCurve:
        return robustness_curve(model, data.subset(index), eps=[EPS], settings=COSTLY[attack])

    alive = cascade(run, tuple(COSTLY), robust_mask(cheap, EPS), EPS)
    cascade_s = time.perf_counter() - start

    start = time.perf_counter()
    every = sr.worst_case(model, data, eps=[EPS], attacks=[*CHEAP, *COSTLY.values()],
                          cascade=True)
    every_s = time.perf_counter() - start
    return {"worst_every_input": full.at(EPS), "worst_cascade": float(alive.double().mean()),
            "worst_full_cascade": every.at(EPS),
            "pgd": cheap[2].accuracy[0], "seconds_every_input": full_s,
            "seconds_cascade": cascade_s, "seconds_full_cascade": every_s,
            "speedup": full_s / cascade_s, "speedup_full_cascade": full_s / every_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="test series attacked")
    parser.add_argument("--out", nargs="?", const=DEFAULT_OUT, type=Path, default=None)
    args = parser.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    train = sr.load_dataset("ItalyPowerDemand", split="train", units="raw")
    test = sr.load_dataset("ItalyPowerDemand", split="test", units="raw").take(args.n)
    results = {}
    for epochs in (15, 3):
        torch.manual_seed(0)
        model = RecurrentClassifier(input_size=1, num_classes=2, cell="gru", hidden_size=32)
        sr.fit(model, train, epochs=epochs, batch_size=16, progress=False)
        model.eval()
        results[f"gru-{epochs}ep"] = row = _both(model, test)
        print(f"GRU {epochs:2d} epochs: PGD {row['pgd']:.3f}; worst case "
              f"{row['worst_every_input']:.3f} (every attack on every input, "
              f"{row['seconds_every_input']:.1f} s) vs {row['worst_cascade']:.3f} (cascade, "
              f"{row['seconds_cascade']:.1f} s): time ratio {row['speedup']:.2f}; "
              f"sr.worst_case(cascade=True) {row['worst_full_cascade']:.3f} "
              f"({row['seconds_full_cascade']:.1f} s): {row['speedup_full_cascade']:.2f}",
              flush=True)
    if args.out:
        args.out.write_text(json.dumps({
            "benchmark": "worst_case_cascade", "n": args.n, "eps": EPS, "results": results,
            "torch": torch.__version__, "threads": torch.get_num_threads(),
            "machine": platform.machine(), "note": "one run, side by side, on a shared CPU",
        }, indent=2) + "\n")
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
