"""Training throughput of the fast path (nn.RNN / cuDNN) against the twice-differentiable path.

Both paths share parameters; rounds are interleaved and medians reported, so the ratio is
measured side by side in one run. Prints JSON and writes
``benchmarks/results/training_paths-<device>.json``.

Usage: python benchmarks/bench_training_paths.py [--cells rnn lstm gru] [--batch 128] [--rounds 7]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from seqrobust.models import RecurrentClassifier


def _step_time(model, forward, opt, x, y, device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    opt.zero_grad(set_to_none=True)
    F.cross_entropy(forward(x), y).backward()
    opt.step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cells", nargs="+", default=["rnn", "lstm", "gru"])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--steps", type=int, default=5, help="steps per round and path")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    device = torch.device(args.device)
    torch.manual_seed(0)
    x = torch.rand(args.batch, 28, 28, device=device)
    y = torch.randint(0, 10, (args.batch,), device=device)
    results = []
    for cell in args.cells:
        model = RecurrentClassifier(input_size=28, num_classes=10, cell=cell).to(device).train()
        opt = torch.optim.Adam(model.parameters(), lr=1e-4)
        paths = {
            "fast": model.forward_fast,
            "twice_differentiable": model.forward_twice_differentiable,
        }
        for forward in paths.values():  # warm-up
            _step_time(model, forward, opt, x, y, device)
        times: dict[str, list[float]] = {name: [] for name in paths}
        for _ in range(args.rounds):
            for name, forward in paths.items():
                times[name].append(
                    statistics.median(
                        _step_time(model, forward, opt, x, y, device) for _ in range(args.steps)
                    )
                )
        med = {name: statistics.median(v) for name, v in times.items()}
        results.append(
            {
                "cell": cell,
                "batch": args.batch,
                "fast_step_ms": 1e3 * med["fast"],
                "twice_differentiable_step_ms": 1e3 * med["twice_differentiable"],
                "fast_samples_per_s": args.batch / med["fast"],
                "twice_differentiable_samples_per_s": args.batch / med["twice_differentiable"],
                "slowdown_twice_differentiable_vs_fast": med["twice_differentiable"] / med["fast"],
            }
        )
    report = {
        "benchmark": "training_paths",
        "device": torch.cuda.get_device_name(device)
        if device.type == "cuda"
        else platform.processor() or "cpu",
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "model": "2-layer, hidden 128, MNIST rows (28x28), Adam step",
        "results": results,
    }
    text = json.dumps(report, indent=1)
    print(text)
    out = Path(__file__).parent / "results" / f"training_paths-{device.type}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(text + "\n")


if __name__ == "__main__":
    main()
