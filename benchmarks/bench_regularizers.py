"""Cost of one regularised training step, as a ratio to a plain step of the same model.

Every variant runs the real ``train_step`` (forward, penalty, backward, clipping, Adam) on the
same batch of MNIST rows (``mnist-subset`` inputs, batch 128), for a 2-layer RNN and LSTM with
hidden 128. Variants run in interleaved rounds; medians of wall-clock and process-CPU time are
reported (CPU time is steadier on a shared machine), and the ratio of the fastest rounds.
Levers measured side by side:

- Hessian estimators: forward differences (``fd``), central differences, Hutchinson (double
  backward), and with ``--exact`` the estimator exact over the 10 outputs;
- Hutchinson by forward-over-reverse (``torch.func.jvp`` of ``torch.func.grad``) instead of
  double backward;
- the fast ``nn.RNN``/``nn.LSTM`` kernels (what the library picks on CPU) against the
  twice-differentiable cell loop;
- regularising a random subset of each batch (``--reg-fraction`` 0.5 / 0.25);
- reusing the clean forward pass: one forward of ``[x; x[:k] + h w]`` that serves both the
  cross-entropy and the finite difference;
- Jacobian (1 projection), CURE and PGD-AT (7 steps) for reference.

Prints JSON and writes ``benchmarks/results/regularizers-<device>.json``.

Usage: python benchmarks/bench_regularizers.py [--rounds 7] [--cells rnn lstm] [--quick] [--exact]
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
import torch.nn.functional as F
from torch import Tensor, nn

from seqrobust.data import load_dataset
from seqrobust.models import RecurrentClassifier
from seqrobust.regularizers import DEFAULT_FD_STEP, make_regularizer
from seqrobust.training.loop import train_step

Step = Callable[[torch.Generator], None]


def _penalty_step(model: nn.Module, opt: torch.optim.Optimizer, x: Tensor, y: Tensor,
                  penalty: Callable[..., Tensor] | None, *, lam: float = 1e-3,
                  fraction: float = 1.0) -> Step:
    k = max(1, round(x.shape[0] * fraction))

    def step(gen: torch.Generator) -> None:
        train_step(model, x, y, opt, penalty=penalty, lam=lam, penalty_inputs=k,
                   generator=gen, clip=1.0)

    return step


def _registered(name: str, **options: object) -> Callable[..., Tensor]:
    reg = make_regularizer(name, **options)  # type: ignore[arg-type]
    return lambda m, xb, yb, gen: reg(m, xb, yb, generator=gen)


def _forward_over_reverse(m: nn.Module, x: Tensor, y: Tensor, gen: torch.Generator) -> Tensor:
    """Hutchinson sample with the HVP as ``jvp(grad)`` (the library uses double backward)."""
    w = torch.randn(x.shape, generator=gen)
    e = torch.randn(x.shape[0], 10, generator=gen)

    def grad_e(z: Tensor) -> Tensor:
        return torch.func.grad(lambda zz: (m(zz) * e).sum())(z)

    hv = torch.func.jvp(grad_e, (x.detach(),), (w,))[1]
    return hv.pow(2).flatten(1).sum(1).mean()


def _cell_loop(name: str, **options: object) -> Callable[..., Tensor]:
    reg = make_regularizer(name, **options)  # type: ignore[arg-type]
    return lambda m, xb, yb, gen: reg(m.forward_twice_differentiable, xb, yb, generator=gen)


def _shared_forward_step(model: RecurrentClassifier, opt: torch.optim.Optimizer, x: Tensor,
                         y: Tensor, *, lam: float = 1e-3, fraction: float = 1.0) -> Step:
    """Forward differences with the clean forward reused: one pass over ``[x; x[:k] + h w]``."""
    batch, k, h = x.shape[0], max(1, round(x.shape[0] * fraction)), DEFAULT_FD_STEP["fd"]
    dim = x[0].numel()

    def step(gen: torch.Generator) -> None:
        opt.zero_grad(set_to_none=True)
        w = torch.randn(x[:k].shape, generator=gen)
        w = w / w.flatten(1).norm(dim=1).view(-1, 1, 1)
        points = torch.cat([x, x[:k] + h * w]).requires_grad_(True)
        out = model(points)
        loss = F.cross_entropy(out[:batch], y)
        e = torch.randn(k, out.shape[1], generator=gen)
        (g,) = torch.autograd.grad((out[:k] * e).sum() + (out[batch:] * e).sum(), points,
                                   create_graph=True)
        value = dim * ((g[batch:] - g[:k]) / h).pow(2).flatten(1).sum(1).mean()
        (loss + lam * value).backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    return step


def _variants(model: RecurrentClassifier, opt: torch.optim.Optimizer, x: Tensor, y: Tensor,
              quick: bool, exact: bool) -> dict[str, Step]:
    s = lambda pen, **kw: _penalty_step(model, opt, x, y, pen, **kw)  # noqa: E731
    v: dict[str, Step] = {
        "plain": s(None),
        "jacobian-1proj": s(_registered("jacobian"), lam=1e-2),
        "hessian-fd": s(_registered("hessian", estimator="fd")),
        "hessian-central": s(_registered("hessian", estimator="central")),
        "hessian-hutchinson": s(_registered("hessian", estimator="hutchinson")),
        "hessian-fd-frac0.5": s(_registered("hessian", estimator="fd"), fraction=0.5),
        "hessian-fd-frac0.25": s(_registered("hessian", estimator="fd"), fraction=0.25),
        "hessian-fd-shared-forward": _shared_forward_step(model, opt, x, y),
        "hessian-fd-shared-forward-frac0.5": _shared_forward_step(model, opt, x, y,
                                                                  fraction=0.5),
    }
    if not quick:
        v.update({
            "hessian-fd-cell-loop": s(_cell_loop("hessian", estimator="fd")),
            "hessian-hutchinson-fwd-over-rev": s(_forward_over_reverse),
            "cure": s(_registered("cure"), lam=0.1),
            "pgd-at-7": s(_registered("pgd-at", at_eps=8 / 255, at_steps=7,
                                      at_alpha=2 / 255), lam=1.0),
        })
    if exact:
        v["hessian-exact-10hvp"] = s(_registered("hessian", estimator="exact"))
    return v


def _measure(cell: str, rounds: int, quick: bool, batch: int, exact: bool) -> dict[str, object]:
    data = load_dataset("mnist-subset", split="train", limit=batch)
    x, y = data.inputs, data.labels
    torch.manual_seed(0)
    model = RecurrentClassifier(input_size=28, num_classes=10, cell=cell,  # type: ignore[arg-type]
                                hidden_size=128, num_layers=2).train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    variants = _variants(model, opt, x, y, quick, exact)
    wall: dict[str, list[float]] = {k: [] for k in variants}
    cpu: dict[str, list[float]] = {k: [] for k in variants}
    for fn in variants.values():  # warm-up
        fn(torch.Generator().manual_seed(0))
    for r in range(rounds):
        for name, fn in variants.items():
            gen = torch.Generator().manual_seed(r + 1)
            t0, c0 = time.perf_counter(), time.process_time()
            fn(gen)
            wall[name].append(time.perf_counter() - t0)
            cpu[name].append(time.process_time() - c0)
    med_w = {k: statistics.median(v) for k, v in wall.items()}
    med_c = {k: statistics.median(v) for k, v in cpu.items()}
    min_w = {k: min(v) for k, v in wall.items()}
    return {
        "plain_step_ms": 1e3 * med_w["plain"],
        "plain_step_cpu_ms": 1e3 * med_c["plain"],
        "ratio_wall": {k: round(v / med_w["plain"], 2) for k, v in med_w.items()},
        "ratio_cpu": {k: round(v / med_c["plain"], 2) for k, v in med_c.items()},
        "ratio_min": {k: round(v / min_w["plain"], 2) for k, v in min_w.items()},
        "step_ms": {k: round(1e3 * v, 1) for k, v in med_w.items()},
        "step_ms_min": {k: round(1e3 * min(v), 1) for k, v in wall.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--cells", nargs="+", default=["rnn", "lstm"])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--quick", action="store_true", help="only the cheaper variants")
    parser.add_argument("--exact", action="store_true", help="also the 10-HVP exact estimator")
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    results: dict[str, object] = {
        "device": "cpu",
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "load_average_start": os.getloadavg(),
        "batch": args.batch,
        "rounds": args.rounds,
        "model": "2-layer, hidden 128, MNIST rows (28 x 28), Adam, clip 1",
        "fd_steps": DEFAULT_FD_STEP,
    }
    for cell in args.cells:
        results[cell] = _measure(cell, args.rounds, args.quick, args.batch, args.exact)
    results["load_average_end"] = os.getloadavg()
    text = json.dumps(results, indent=1)
    print(text)
    out = Path(args.out or Path(__file__).parent / "results" / "regularizers-cpu.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text + "\n")


if __name__ == "__main__":
    main()
