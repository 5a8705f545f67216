"""λ_max of M = ∇²ₓ(−F) per input on the trained RNN: batched Lanczos against dense Hessians.

Methods, timed in interleaved rounds (medians):
- dense: ``torch.func.hessian`` + ``eigvalsh`` per input (on ``--n-dense`` inputs);
- Lanczos with k = 10 / 20 / 30 HVPs (``tol`` tiny, so exactly k steps, + 1 residual HVP);
- Lanczos with the default residual stopping rule (≤ 30 steps, tol 1e-6 relative);
- one HVP: double backward vs forward-over-reverse (``torch.func.jvp`` of ``torch.func.grad``),
  and one further HVP on a reused first-order graph (what Lanczos does per step).

Errors are relative to a float64 dense reference on the first ``--n-dense`` inputs.
Wall-clock and process-CPU medians are both reported (CPU time is steadier on a shared
machine). Prints JSON and writes ``benchmarks/results/lanczos-<device>.json``. The CPU
machine is shared with other jobs: keep runs short and read ratios, not absolute times.

Usage: python benchmarks/bench_lanczos.py [--run runs/rnn-default] [--n 128] [--n-dense 8]
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
from torch import Tensor

from seqrobust.data import load_dataset
from seqrobust.geometry import (
    dense_hessian_neg_margin,
    hvp_neg_margin,
    margins,
    neg_margin_hvp_operator,
    top_curvature,
)
from seqrobust.models import differentiable_forward
from seqrobust.training import load_model


def _timed(fn: Callable[[], object], device: torch.device) -> tuple[float, float, object]:
    """Wall-clock and process CPU seconds of one call, and its output."""
    if device.type == "cuda":
        torch.cuda.synchronize()
    start, cpu = time.perf_counter(), time.process_time()
    out = fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start, time.process_time() - cpu, out


def _fwd_over_rev_hvp(f, x: Tensor, w: Tensor, pred: Tensor, other: Tensor) -> Tensor:
    """The losing HVP variant, kept here for the side-by-side timing."""

    def neg_margin(z: Tensor) -> Tensor:
        logits = f(z)
        return (logits.gather(1, other[:, None]) - logits.gather(1, pred[:, None])).sum()

    return torch.func.jvp(torch.func.grad(neg_margin), (x,), (w,))[1]


def _dense_top(f, x: Tensor, pred: Tensor, other: Tensor) -> Tensor:
    return torch.linalg.eigvalsh(dense_hessian_neg_margin(f, x, pred=pred, other=other))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--run", default="runs/rnn-default")
    parser.add_argument("--n", type=int, default=128, help="inputs per Lanczos batch")
    parser.add_argument("--n-dense", type=int, default=8, help="inputs for the dense baseline")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--out", default=None)
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    torch.manual_seed(0)
    model, cfg = load_model(args.run)
    model = model.to(device).eval()
    f = differentiable_forward(model, functional=True)
    data = load_dataset(cfg.dataset, split="test", root=cfg.data_root, limit=args.n)
    x = data.inputs.to(device)
    m = margins(f, x)
    pred, other = m.pred, m.runner_up
    xd, pd, od = x[: args.n_dense], pred[: args.n_dense], other[: args.n_dense]

    model64 = load_model(args.run)[0].to(device).double().eval()
    f64 = differentiable_forward(model64, functional=True)
    ref = _dense_top(f64, xd.double(), pd, od)  # (n_dense, D)
    lmax, lmin = ref[:, -1], ref[:, 0]

    w = torch.randn_like(x)
    gen = torch.Generator(device=device)
    budgets = (10, 20, 30)
    methods: dict[str, Callable[[], object]] = {
        "dense": lambda: _dense_top(f, xd, pd, od),
        **{
            f"lanczos_{k}": (
                lambda k=k: top_curvature(
                    f, x, pred=pred, other=other, max_iter=k, tol=1e-30, generator=gen
                )
            )
            for k in budgets
        },
        "lanczos_default": lambda: top_curvature(f, x, pred=pred, other=other, generator=gen),
        "hvp_double_backward": lambda: hvp_neg_margin(f, x, w, pred=pred, other=other),
        "hvp_forward_over_reverse": lambda: _fwd_over_rev_hvp(f, x, w, pred, other),
    }
    operator = neg_margin_hvp_operator(f, x, pred=pred, other=other)
    methods["hvp_reused_graph"] = lambda: operator(w)

    times: dict[str, list[float]] = {name: [] for name in methods}
    cpu_times: dict[str, list[float]] = {name: [] for name in methods}
    outputs: dict[str, object] = {}
    for name, fn in methods.items():  # warm-up
        outputs[name] = fn()
    for _ in range(args.rounds):
        for name, fn in methods.items():
            gen.manual_seed(0)
            elapsed, cpu, outputs[name] = _timed(fn, device)
            times[name].append(elapsed)
            cpu_times[name].append(cpu)

    def per(name: str, table: dict[str, list[float]]) -> float:
        return statistics.median(table[name]) / (args.n_dense if name == "dense" else args.n)

    per_input = {name: per(name, times) for name in methods}
    cpu_per_input = {name: per(name, cpu_times) for name in methods}
    hvp_check = (outputs["hvp_double_backward"] - outputs["hvp_forward_over_reverse"]).abs().max()
    result: dict[str, object] = {
        "device": str(device) if device.type == "cpu" else torch.cuda.get_device_name(device),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "threads": torch.get_num_threads(),
        "run": args.run,
        "n": args.n,
        "n_dense": args.n_dense,
        "rounds": args.rounds,
        "load_average_1min": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "dense_s_per_input": per_input["dense"],
        "dense_cpu_s_per_input": cpu_per_input["dense"],
        "spectrum_on_dense_inputs": {
            "median_lambda_max": lmax.median().item(),
            "median_lambda_min": lmin.median().item(),
            "fraction_abs_lambda_min_above_lambda_max": (lmin.abs() > lmax).double().mean().item(),
        },
        "lanczos": {},
        "hvp_ms_per_input": {
            "double_backward": per_input["hvp_double_backward"] * 1e3,
            "forward_over_reverse": per_input["hvp_forward_over_reverse"] * 1e3,
            "reused_graph": per_input["hvp_reused_graph"] * 1e3,
            "forward_over_reverse_over_double_backward": per_input["hvp_forward_over_reverse"]
            / per_input["hvp_double_backward"],
            "cpu_forward_over_reverse_over_double_backward": cpu_per_input[
                "hvp_forward_over_reverse"
            ]
            / cpu_per_input["hvp_double_backward"],
            "max_abs_difference": hvp_check.item(),
        },
    }
    lmax32 = outputs["dense"][:, -1].double()  # float32 dense λ_max of the same inputs
    for name in [*(f"lanczos_{k}" for k in budgets), "lanczos_default"]:
        top = outputs[name]
        value, upper = top.value[: args.n_dense].double(), top.upper[: args.n_dense].double()
        err = ((value - lmax).abs() / lmax.abs()).cpu()
        err32 = ((value - lmax32).abs() / lmax32.abs()).cpu()
        result["lanczos"][name] = {
            "ms_per_input": per_input[name] * 1e3,
            "speedup_vs_dense": per_input["dense"] / per_input[name],
            "cpu_ms_per_input": cpu_per_input[name] * 1e3,
            "cpu_speedup_vs_dense": cpu_per_input["dense"] / cpu_per_input[name],
            "hvps": top.iterations + 1,
            "max_rel_error_vs_float64_dense": err.max().item(),
            "median_rel_error_vs_float64_dense": err.median().item(),
            "max_rel_error_vs_float32_dense": err32.max().item(),
            "max_rel_residual_all_inputs": (top.residual / top.value.abs()).max().item(),
            "upper_below_float64_lambda_max": int((upper < lmax).sum()),
            "upper_below_float32_lambda_max": int((upper < lmax32).sum()),
            "max_rel_shortfall_of_upper_vs_float64": ((lmax - upper) / lmax.abs()).max().item(),
        }
    text = json.dumps(result, indent=2)
    print(text)
    out = Path(args.out or f"benchmarks/results/lanczos-{device.type}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text + "\n")


if __name__ == "__main__":
    main()
