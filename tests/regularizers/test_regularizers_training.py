"""The regularisers inside the real training step and the CLI."""

from __future__ import annotations

import json
import math

import pytest
import torch
from reg_cases import dense_r

from seqrobust.cli import main
from seqrobust.data import load_dataset
from seqrobust.models import RecurrentClassifier
from seqrobust.regularizers import make_regularizer
from seqrobust.training.loop import batch_indices, train_step


def _zeros_and_ones(split: str) -> tuple[torch.Tensor, torch.Tensor]:
    data = load_dataset("mnist-subset", split=split)
    keep = data.labels < 2
    return data.inputs[keep], data.labels[keep]


def _train(lam: float, x: torch.Tensor, y: torch.Tensor) -> RecurrentClassifier:
    torch.manual_seed(0)
    model = RecurrentClassifier(input_size=28, num_classes=2, hidden_size=16, num_layers=1)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    reg = make_regularizer("hessian", estimator="fd")
    step = 0
    for epoch in range(3):
        for idx in batch_indices(len(x), 32, generator=torch.Generator().manual_seed(epoch)):
            train_step(
                model, x[idx], y[idx], opt, lam=lam, clip=1.0, penalty_inputs=16,
                penalty=reg if lam else None,
                generator=torch.Generator().manual_seed(step),
            )
            step += 1
    return model.eval()


def test_hessian_regularised_model_has_lower_curvature_at_comparable_accuracy():
    x, y = _zeros_and_ones("train")
    x_test, y_test = _zeros_and_ones("test")
    results = {}
    for lam in (0.0, 1e-3):
        model = _train(lam, x, y)
        with torch.no_grad():
            acc = float((model(x_test).argmax(-1) == y_test).double().mean())
        results[lam] = acc, float(dense_r(model, x_test[:4]).mean())
    (acc_plain, r_plain), (acc_reg, r_reg) = results[0.0], results[1e-3]
    assert acc_plain > 0.9 and acc_reg > acc_plain - 0.05, results
    assert r_reg < r_plain / 10, results


MODES = [
    ["--reg", "hessian", "--lam", "1e-3"],
    ["--reg", "hessian", "--lam", "1e-3", "--estimator", "hutchinson", "--probes", "2"],
    ["--reg", "hessian", "--lam", "1e-3", "--estimator", "central", "--reg-fraction", "0.5"],
    ["--reg", "hessian", "--lam", "1e-3", "--estimator", "exact"],
    ["--reg", "jacobian", "--lam", "1e-2"],
    ["--reg", "cure", "--lam", "1e-1"],
    ["--reg", "pgd-at", "--lam", "1", "--at-steps", "2"],
]


@pytest.mark.parametrize("mode", MODES, ids=lambda m: "-".join(m[1::2][:1] + m[7:8]))
def test_every_mode_trains_from_the_cli(tmp_path, mode):
    out = tmp_path / "run"
    code = main([
        "train", "--dataset", "mnist-subset", "--train-limit", "64", "--test-limit", "32",
        "--batch-size", "32", "--hidden", "8", "--layers", "1", "--epochs", "1",
        "--out", str(out), "--quiet", *mode,
    ])
    assert code == 0
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    regs = [r["reg"] for r in records if "reg" in r]
    assert len(regs) == 1 and all(math.isfinite(v) and v > 0 for v in regs), records
