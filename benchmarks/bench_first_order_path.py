"""Attacks through the first-order path against the twice-differentiable one, side by side.

An attack needs input gradients only, so :func:`seqrobust.models.differentiable_forward` with
``order=1`` lets attention run on the fused kernels of ``F.scaled_dot_product_attention``
(the built-in Transformer's ``forward_fast``; a user's ``nn.TransformerEncoder`` as it is),
where second-order code must use explicit attention or the math kernel. One run times, in
interleaved rounds, one forward and backward of a batch of 32 random sequences (1 feature,
width 64, 2 blocks, 4 heads) through both paths, at 100, 251 and 427 steps (GunPoint-,
ArrowHead- and OSULeaf-like), and prints medians and their ratio. The third row is a plain
training step of the built-in Transformer (cross-entropy, backward to the parameters, Adam):
the training loop's ``Classifier.forward_fast`` against the model's own explicit ``forward``.

Prints a table and, with ``--out``, writes JSON (default
``benchmarks/results/first_order_path-<device>.json``).

Usage: python benchmarks/bench_first_order_path.py [--rounds 3] [--device cuda] [--out [PATH]]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from seqrobust.models import Classifier, differentiable_forward
from seqrobust.models.transformer import TransformerClassifier

RESULTS = Path(__file__).parent / "results"
BATCH, WIDTH = 32, 64


class _UserEncoder(nn.Module):
    """A user's model: ``nn.TransformerEncoder`` (pre-norm, GELU) and mean pooling."""

    def __init__(self) -> None:
        super().__init__()
        self.proj = nn.Linear(1, WIDTH)
        layer = nn.TransformerEncoderLayer(WIDTH, 4, 4 * WIDTH, dropout=0.0,
                                           activation="gelu", batch_first=True,
                                           norm_first=True)
        self.enc = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.head = nn.Linear(WIDTH, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.enc(self.proj(x)).mean(1))


def _sync(x: torch.Tensor) -> None:
    if x.is_cuda:
        torch.cuda.synchronize(x.device)


def _seconds(model: nn.Module, x: torch.Tensor, order: int) -> float:
    forward = differentiable_forward(model, order=order)  # type: ignore[arg-type]
    z = x.clone().requires_grad_(True)
    _sync(x)
    start = time.perf_counter()
    forward(z).logsumexp(1).sum().backward()
    _sync(x)
    return time.perf_counter() - start


def _train_seconds(model: nn.Module, x: torch.Tensor, order: int) -> float:
    clf = Classifier(model)
    forward = clf.forward_fast if order == 1 else clf.forward
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    y = torch.arange(x.shape[0], device=x.device) % 2
    _sync(x)
    start = time.perf_counter()
    opt.zero_grad(set_to_none=True)
    F.cross_entropy(forward(x), y).backward()
    opt.step()
    _sync(x)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", nargs="?", const=True, default=None,
                        help="write JSON (no value: results/first_order_path-<device>.json)")
    args = parser.parse_args()
    device = torch.device(args.device)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    torch.manual_seed(0)
    results = []
    for steps in (100, 251, 427):
        x = torch.randn(BATCH, steps, 1, device=device)
        models = {"TransformerClassifier": TransformerClassifier(
            input_size=1, num_classes=2, hidden_size=WIDTH, heads=4, max_len=steps).eval(),
            "nn.TransformerEncoder": _UserEncoder().eval(),
            "TransformerClassifier (training step)": TransformerClassifier(
                input_size=1, num_classes=2, hidden_size=WIDTH, heads=4, max_len=steps).train()}
        for name, model in models.items():
            model.to(device)
            timer = _train_seconds if model.training else _seconds
            times: dict[int, list[float]] = {1: [], 2: []}
            timer(model, x, 1), timer(model, x, 2)  # warm-up
            for _ in range(args.rounds):
                for order in (1, 2):
                    times[order].append(timer(model, x, order))
            first, second = (statistics.median(times[o]) for o in (1, 2))
            results.append({"model": name, "steps": steps, "batch": BATCH,
                            "first_order_s": first, "second_order_s": second,
                            "ratio": second / first})
            print(f"{name:37s} T={steps:3d}: order 1 {first * 1e3:7.1f} ms, order 2 "
                  f"{second * 1e3:7.1f} ms per forward+backward of {BATCH}: "
                  f"{second / first:.2f}x", flush=True)
    if args.out:
        out = RESULTS / f"first_order_path-{device.type}.json" if args.out is True else Path(
            args.out)
        out.write_text(json.dumps({
            "benchmark": "first_order_path", "rounds": args.rounds, "results": results,
            "torch": torch.__version__, "threads": torch.get_num_threads(),
            "device": torch.cuda.get_device_name(device) if device.type == "cuda"
            else platform.machine(), "note": "medians, interleaved",
        }, indent=2) + "\n")
        print(f"wrote {out}")


if __name__ == "__main__":
    main()
