"""Every built-in architecture through every capability on tiny padded data: analyze, the PGD
curve, APGD and Square, the noise bound, a Hessian / Jacobian / CURE training step, the report,
and a run folder that saves and loads it (``seqrobust train --arch``)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import seqrobust as sr
from seqrobust.cli import main
from seqrobust.models import ARCHS

T, F, L = 6, 3, 3
LENGTHS = torch.tensor([6, 4, 5, 6, 3, 6, 2, 5])


def _data() -> sr.SequenceData:
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(len(LENGTHS), T, F, generator=gen)
    x[torch.arange(T)[None, :] >= LENGTHS[:, None]] = 0.0
    y = torch.arange(len(LENGTHS)) % L
    return sr.SequenceData.from_arrays(x, y, lengths=LENGTHS, unit="training std")


def _model(arch: str) -> torch.nn.Module:
    torch.manual_seed(0)
    extra = {"max_len": T} if arch == "tcn" else {}
    return sr.build_classifier(arch, input_size=F, num_classes=L, hidden_size=8,
                               num_layers=None if arch == "tcn" else 1, heads=2, **extra)


@pytest.mark.parametrize("arch", ARCHS)
def test_every_capability(arch: str, tmp_path: Path) -> None:
    data, model = _data(), _model(arch)
    for reg in ("hessian", "jacobian", "cure"):
        fitted = sr.fit(model, data, reg=reg, lam=1e-2, epochs=1, batch_size=4,
                        at_eps=0.1, progress=False)
        assert fitted.steps == 2 and all(torch.isfinite(p).all() for p in model.parameters())
    model.eval()
    # padding is provably ignored by the built-in models: inputs are trimmed
    assert sr.Classifier(model).resolved_padding(data.inputs, data.lengths) == "trim"
    analysis = sr.analyze(model, data, n=3, lanczos_iters=T * F, fmn_steps=5)
    lanczos = analysis.column("lanczos_rel_residual")
    assert len(analysis.rows) == 3 and max(lanczos) < 1e-4  # full Krylov space
    curve = sr.robustness_curve(model, data, eps=[0.1, 0.5],
                                settings=sr.AttackSettings(steps=5))
    with torch.no_grad():
        own = (model(data.inputs, data.lengths).argmax(1) == data.labels).double().mean()
    assert curve.clean_accuracy == pytest.approx(float(own))
    worst = sr.worst_case(model, data, eps=[0.5], attacks=(
        sr.AttackSettings(attack="pgd", steps=3), sr.AttackSettings(attack="apgd-ce", steps=3),
        sr.AttackSettings(attack="square", queries=20)))
    assert worst.at(0.5) <= min(c.at(0.5) for c in worst.curves)
    noise = sr.noise_bound(model, data, n=1, samples=10)
    assert noise.records[0].d == int(LENGTHS[0]) * F
    report = sr.report({arch: [curve, worst, analysis, noise]}, tmp_path / "r.html")
    assert "<img" in report.read_text()


@pytest.mark.parametrize("arch", ["transformer", "tcn"])
def test_run_folder_round_trip(arch: str, tmp_path: Path) -> None:
    out = tmp_path / arch
    assert main(["train", "--arch", arch, "--dataset", "mnist-subset", "--epochs", "1",
                 "--hidden", "8", "--heads", "2", "--train-limit", "64", "--test-limit", "16",
                 "--batch-size", "32", "--out", str(out), "--quiet", "--device", "cpu"]) == 0
    model, cfg = sr.load_model(out)
    assert cfg.cell == arch and type(model).__name__.lower().startswith(arch[:3])
    data = sr.load_dataset("mnist-subset", split="test", limit=16)
    curve = sr.robustness_curve(model, data, eps=[8.0])
    with torch.no_grad():
        own = (model(data.inputs).argmax(1) == data.labels).double().mean()
    assert curve.clean_accuracy == pytest.approx(float(own))
