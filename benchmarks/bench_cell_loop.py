"""The twice-differentiable cell loop before and after taking the per-step inputs with one
``unbind`` (instead of slicing ``projected[:, t]`` at every step, whose backward scatters into a
full ``(B, T, gates)`` zero tensor per step: O(T²) time and, under ``create_graph``, memory).

Side by side in one run (rounds alternate the order, each call after a warm-up call), medians
of process CPU time, for each cell:

- ``train``: one Hessian-regularised training step (cross-entropy + λ · the default
  finite-difference ‖∇²ₓ‖²_F estimator, backward to the weights), batch 128, MNIST-row shape;
- ``hvp``: 10 Hessian-vector products of a margin on a 784-step, 1-feature input (the
  pixel-by-pixel MNIST case), batch 9 (one input, every competitor class), with peak memory.

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/bench_cell_loop.py

Writes ``benchmarks/results/cell_loop-cpu.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor

import seqrobust.models.recurrent as recurrent
from seqrobust.geometry import neg_margin_hvp_operator
from seqrobust.models import RecurrentClassifier
from seqrobust.regularizers import make_regularizer


def sliced_scan(
    cell: str, projected: Tensor, w_hh: Tensor, b_hh: Tensor, mask: Tensor | None = None
) -> Tensor:
    """The previous loop (per-step slicing), kept here as the reference."""
    batch, steps = projected.shape[0], projected.shape[1]
    h = projected.new_zeros(batch, w_hh.shape[1])
    c = h
    outputs = []
    for t in range(steps):
        gx, gh = projected[:, t], F.linear(h, w_hh, b_hh)
        if cell == "rnn":
            h = torch.tanh(gx + gh)
        elif cell == "lstm":
            i, f, g, o = (gx + gh).chunk(4, dim=-1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
        else:
            xr, xz, xn = gx.chunk(3, dim=-1)
            hr, hz, hn = gh.chunk(3, dim=-1)
            r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
            h = (1 - z) * torch.tanh(xn + r * hn) + z * h
        outputs.append(h)
    return torch.stack(outputs, dim=1)


SCANS: dict[str, Callable[..., Tensor]] = {"sliced": sliced_scan, "unbind": recurrent._scan}


def _cpu(fn: Callable[[], None]) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


def measure(cell: str, rounds: int) -> dict[str, object]:
    """Both loops on one cell type: medians of the training step and of 10 long-input HVPs."""
    reg = make_regularizer("hessian")
    model = RecurrentClassifier(input_size=28, num_classes=10, cell=cell, hidden_size=128,
                                num_layers=2)
    x, y = torch.rand(128, 28, 28), torch.randint(0, 10, (128,))
    long = RecurrentClassifier(input_size=1, num_classes=10, cell=cell, hidden_size=64,
                               num_layers=1).eval()
    xl = torch.rand(9, 784, 1)
    pred, other = torch.zeros(9, dtype=torch.long), torch.arange(1, 10)

    def train_step() -> None:
        model.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model.forward_twice_differentiable(x), y)
        (loss + 1e-3 * reg(model, x, y)).backward()

    def hvps() -> None:
        op = neg_margin_hvp_operator(long.forward_twice_differentiable, xl, pred=pred,
                                     other=other)
        for _ in range(10):
            op(torch.randn_like(xl))

    times: dict[str, dict[str, list[float]]] = {k: {"train": [], "hvp": []} for k in SCANS}
    for name_m, fn in (("train", train_step), ("hvp", hvps)):  # one phase each
        for r in range(rounds):
            order = list(SCANS) if r % 2 == 0 else list(reversed(SCANS))  # alternate
            for name in order:
                recurrent._scan = SCANS[name]  # type: ignore[assignment]
                fn()  # warm-up: allocator and caches
                times[name][name_m].append(_cpu(fn))
    recurrent._scan = SCANS["unbind"]  # type: ignore[assignment]
    med = {k: {m: statistics.median(v) for m, v in d.items()} for k, d in times.items()}
    return {
        "train_step_s": {k: med[k]["train"] for k in med},
        "train_speedup": med["sliced"]["train"] / med["unbind"]["train"],
        "hvp10_784_s": {k: med[k]["hvp"] for k in med},
        "hvp_speedup": med["sliced"]["hvp"] / med["unbind"]["hvp"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", nargs="+", default=["rnn", "lstm", "gru"])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", default="benchmarks/results/cell_loop-cpu.json")
    args = parser.parse_args()
    torch.manual_seed(0)
    result: dict[str, object] = {
        "what": "cell loop: per-step slicing vs one unbind, CPU seconds (medians)",
        "torch": torch.__version__, "threads": torch.get_num_threads(),
        "machine": platform.machine(), "rounds": args.rounds,
    }
    for cell in args.cells:
        result[cell] = measure(cell, args.rounds)
        print(cell, json.dumps(result[cell]), flush=True)
    result["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
