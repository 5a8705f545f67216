"""Training-step cost of every built-in architecture, plain and Hessian-regularised.

One run measures, side by side on the same MNIST-row-shaped random batch (batch 128, 28 steps
of 28 features, 10 classes), the real ``train_step`` (forward, backward, clipping, Adam) of
RNN/LSTM/GRU (``RecurrentClassifier``, hidden 128, 2 layers), the Transformer (width 128, 2
blocks, 4 heads) and the TCN (128 channels, blocks chosen to cover 28 steps), without and with
the input-Hessian penalty ``make_regularizer("hessian")`` (forward differences, one probe,
``lam = 1e-3``). Variants run in interleaved rounds; medians of wall-clock and process-CPU time
are reported, with each step's ratio to the RNN's plain step.

Prints a table and, with ``--out``, writes JSON (default
``benchmarks/results/architectures-cpu.json``).

Usage: python benchmarks/bench_architectures.py [--rounds 5] [--archs rnn tcn] [--out [PATH]]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import Tensor, nn

from seqrobust.models import RecurrentClassifier
from seqrobust.models.factory import ARCHS
from seqrobust.models.tcn import TCNClassifier
from seqrobust.models.transformer import TransformerClassifier
from seqrobust.regularizers import make_regularizer
from seqrobust.training.loop import train_step

DEFAULT_OUT = Path(__file__).parent / "results" / "architectures-cpu.json"
STEPS, FEATURES, CLASSES = 28, 28, 10


def _model(arch: str) -> nn.Module:
    sizes = {"input_size": FEATURES, "num_classes": CLASSES}
    if arch == "transformer":
        return TransformerClassifier(**sizes)
    if arch == "tcn":
        return TCNClassifier(**sizes, max_len=STEPS)
    return RecurrentClassifier(**sizes, cell=arch)  # type: ignore[arg-type]


def _steps(model: nn.Module, x: Tensor, y: Tensor) -> dict[str, Callable[[int], None]]:
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    reg = make_regularizer("hessian")

    def penalty(m: nn.Module, xb: Tensor, yb: Tensor, gen: torch.Generator) -> Tensor:
        return reg(m, xb, yb, generator=gen)

    def plain(seed: int) -> None:
        train_step(model, x, y, opt, clip=1.0)

    def hessian(seed: int) -> None:
        gen = torch.Generator().manual_seed(seed)
        train_step(model, x, y, opt, penalty=penalty, lam=1e-3, generator=gen, clip=1.0)

    return {"plain": plain, "hessian": hessian}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--archs", nargs="+", default=list(ARCHS), choices=ARCHS)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads")
    parser.add_argument(
        "--out",
        nargs="?",
        const=str(DEFAULT_OUT),
        default=None,
        help=f"write JSON here (bare --out: {DEFAULT_OUT})",
    )
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    load_start = os.getloadavg()
    torch.manual_seed(0)
    x = torch.rand(args.batch, STEPS, FEATURES)
    y = torch.randint(0, CLASSES, (args.batch,))
    variants: dict[tuple[str, str], Callable[[int], None]] = {}
    params: dict[str, int] = {}
    for arch in args.archs:
        model = _model(arch).train()
        params[arch] = sum(p.numel() for p in model.parameters())
        for kind, fn in _steps(model, x, y).items():
            variants[arch, kind] = fn
    for fn in variants.values():  # warm-up
        fn(0)
    wall: dict[tuple[str, str], list[float]] = {k: [] for k in variants}
    cpu: dict[tuple[str, str], list[float]] = {k: [] for k in variants}
    for r in range(args.rounds):
        for key, fn in variants.items():
            t0, c0 = time.perf_counter(), time.process_time()
            fn(r + 1)
            wall[key].append(time.perf_counter() - t0)
            cpu[key].append(time.process_time() - c0)
    med = {k: 1e3 * statistics.median(v) for k, v in wall.items()}
    med_cpu = {k: 1e3 * statistics.median(v) for k, v in cpu.items()}
    base = med.get(("rnn", "plain"))
    rows = []
    for arch in args.archs:
        row: dict[str, object] = {"arch": arch, "parameters": params[arch]}
        for kind in ("plain", "hessian"):
            row[f"{kind}_step_ms"] = round(med[arch, kind], 1)
            row[f"{kind}_step_cpu_ms"] = round(med_cpu[arch, kind], 1)
            row[f"{kind}_vs_rnn_plain"] = None if base is None else round(med[arch, kind] / base, 2)
        row["hessian_vs_own_plain"] = round(med[arch, "hessian"] / med[arch, "plain"], 2)
        rows.append(row)
    print(
        f"{'arch':<12}{'params':>9}{'plain ms':>10}{'x rnn':>7}{'hessian ms':>12}{'x rnn':>7}"
        f"{'x own':>7}"
    )
    for row in rows:
        print(
            f"{row['arch']:<12}{row['parameters']:>9}{row['plain_step_ms']:>10}"
            f"{row['plain_vs_rnn_plain'] or '-':>7}{row['hessian_step_ms']:>12}"
            f"{row['hessian_vs_rnn_plain'] or '-':>7}{row['hessian_vs_own_plain']:>7}"
        )
    if args.out:
        report = {
            "benchmark": "architectures",
            "device": "cpu",
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "cpus": os.cpu_count(),
            "machine": platform.machine(),
            "load_average_start": load_start,
            "load_average_end": os.getloadavg(),
            "batch": args.batch,
            "rounds": args.rounds,
            "input": f"random MNIST-row-shaped batch ({STEPS} steps x {FEATURES} features)",
            "step": "train_step: cross-entropy (+ 1e-3 * hessian fd penalty), clip 1, Adam",
            "results": rows,
        }
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=1) + "\n")
        print(f"wrote {out}")


if __name__ == "__main__":
    main()
