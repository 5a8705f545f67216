"""Error of the finite-difference Hessian-vector product against the step ``h`` (float32).

For each run and step ``h`` (the Euclidean length of the input displacement, model units),
compares ``(g_e(x + h w) - g_e(x)) / h`` (forward) and ``(g_e(x + h w) - g_e(x - h w)) / (2h)``
(central), ``g_e = grad_x (e^T f)``, computed in float32 on the fast path the regulariser uses,
against the exact product ``H_e w`` from double backward in float64, on the first ``--n`` test
inputs with ``w`` uniform on the unit sphere and ``e ~ N(0, I)``. Reports the median and mean
relative error and the relative bias of the squared norm (what the penalty averages). The
defaults in ``seqrobust.regularizers.DEFAULT_FD_STEP`` were chosen from this table.

Prints JSON and writes ``benchmarks/results/regularizers-fd-step-cpu.json``.

Usage: python benchmarks/bench_regularizers_fd_step.py --runs runs/rnn-default [RUN ...]
       (``init`` as a run name means a freshly initialised default model)
"""

from __future__ import annotations

import argparse
import copy
import json
from pathlib import Path

import torch
from torch import Tensor, nn

from seqrobust.data import load_dataset
from seqrobust.models import RecurrentClassifier
from seqrobust.training import load_model

STEPS = (1e-1, 3e-2, 1e-2, 3e-3, 1e-3, 3e-4, 1e-4, 3e-5, 1e-5, 1e-6)


def _grad_e(model: nn.Module, x: Tensor, e: Tensor) -> Tensor:
    x = x.detach().requires_grad_(True)
    return torch.autograd.grad((model(x) * e).sum(), x)[0]


def _table(model: RecurrentClassifier, x: Tensor, seed: int) -> dict[str, dict[str, float]]:
    model.train()
    gen = torch.Generator().manual_seed(seed)
    w = torch.randn(x.shape, generator=gen)
    w = w / w.flatten(1).norm(dim=1).view(-1, 1, 1)
    e = torch.randn(x.shape[0], model.num_classes, generator=gen)
    m64 = copy.deepcopy(model).double()
    x64 = x.double().requires_grad_(True)
    (g,) = torch.autograd.grad((m64.forward_twice_differentiable(x64) * e.double()).sum(), x64,
                               create_graph=True)
    exact = torch.autograd.grad((g * w.double()).sum(), x64)[0].flatten(1)
    norm = exact.norm(dim=1)
    rows: dict[str, dict[str, float]] = {}
    g0 = _grad_e(model, x, e)
    for h in STEPS:
        gp, gm = _grad_e(model, x + h * w, e), _grad_e(model, x - h * w, e)
        row: dict[str, float] = {}
        for name, approx in (("fd", (gp - g0) / h), ("central", (gp - gm) / (2 * h))):
            a = approx.double().flatten(1)
            rel = (a - exact).norm(dim=1) / norm
            row[f"{name}_median_rel_err"] = float(rel.median())
            row[f"{name}_mean_rel_err"] = float(rel.mean())
            row[f"{name}_sq_norm_bias"] = float(a.pow(2).sum(1).mean() / norm.pow(2).mean() - 1)
        rows[f"{h:g}"] = row
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", nargs="+", default=["runs/rnn-default", "init"])
    parser.add_argument("--n", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    results: dict[str, object] = {"n": args.n, "dtype": "float32", "steps": list(STEPS)}
    for run in args.runs:
        if run == "init":
            torch.manual_seed(0)
            model = RecurrentClassifier(input_size=28, num_classes=10)
            dataset, root = "mnist-subset", None
        else:
            model, cfg = load_model(run)
            dataset, root = cfg.dataset, cfg.data_root
        x = load_dataset(dataset, split="test", root=root, limit=args.n).inputs  # type: ignore[arg-type]
        results[run] = _table(model, x, args.seed)
    text = json.dumps(results, indent=1)
    print(text)
    out = Path(args.out or Path(__file__).parent / "results" / "regularizers-fd-step-cpu.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text + "\n")


if __name__ == "__main__":
    main()
