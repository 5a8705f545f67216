"""The trained-network noise experiment, on a quadratic classifier where (H1) holds exactly, on
a small recurrent model, and through the CLI on a tiny trained run."""

import json
import math

import numpy as np
import pytest
import torch
from torch import nn

from seqrobust.bounds.quadratic import exact_distance
from seqrobust.cli import main
from seqrobust.measure.montecarlo import clopper_pearson
from seqrobust.measure.noise import NoiseConfig, analyse_input, crossing_radius
from seqrobust.measure.noise_bound import run_noise
from seqrobust.models import RecurrentClassifier
from seqrobust.runs.noise import summarise, write_noise
from seqrobust.training import TrainConfig, save_checkpoint

T, F = 4, 6
D = T * F


class Quadratic(nn.Module):
    """Two logits (q/2, -q/2) with q(x) = t + J.(x - x0) + (x - x0).A(x - x0)/2 (float64)."""

    def __init__(self, x0, t, j, a):
        super().__init__()
        self.x0 = nn.Parameter(x0.reshape(1, -1), requires_grad=False)
        self.t = t
        self.j = nn.Parameter(j, requires_grad=False)
        self.a = nn.Parameter(a, requires_grad=False)

    def forward(self, x):
        v = x.reshape(x.shape[0], -1) - self.x0
        q = self.t + v @ self.j + 0.5 * ((v @ self.a) * v).sum(1)
        return torch.stack([q / 2, -q / 2], dim=1)


@pytest.fixture(scope="module")
def quadratic():
    gen = torch.Generator().manual_seed(4)
    g = torch.randn(D, D, generator=gen, dtype=torch.float64)
    a = 0.8 * (g + g.T) / math.sqrt(2 * D) + 0.1 * torch.eye(D, dtype=torch.float64)
    j = torch.randn(D, generator=gen, dtype=torch.float64)
    j = 0.7 * j / j.norm()
    x0 = torch.rand(1, T, F, generator=gen, dtype=torch.float64)
    return Quadratic(x0, 0.9, j, a), x0


def test_quadratic_classifier_h1_holds_and_bound_is_valid(quadratic):
    model, x0 = quadratic
    cfg = NoiseConfig(rho=tuple(255 * np.geomspace(0.3, 40, 12)), samples=3000, num_kappa=40,
                      eps_scale=1 / 255)
    gen = torch.Generator().manual_seed(0)
    rec = analyse_input(model, x0, index=0, label=0, cfg=cfg, generator=gen)
    a, j = model.a.numpy(), model.j.numpy()
    lam = np.linalg.eigvalsh(a)
    assert rec.d == D and rec.pred == 0 and rec.runner_up == 1
    assert rec.t == pytest.approx(0.9) and rec.jnorm == pytest.approx(0.7)
    assert rec.lam_min == pytest.approx(lam[0]) and rec.lam_max == pytest.approx(lam[-1])
    assert rec.r_star == pytest.approx(exact_distance(0.9, j, a).radius, rel=1e-9)
    assert rec.r_linear == pytest.approx(0.9 / 0.7) and rec.r_lower <= rec.r_star
    # H1 and its converse hold exactly: the prediction changes iff q < 0
    assert rec.p_unclipped == rec.p_quadratic
    assert sum(rec.changed_q_positive) == 0 and sum(rec.q_nonpositive_unchanged) == 0
    assert rec.changed_to_runner_up == rec.changed  # two classes
    p = np.array(rec.p_unclipped)
    assert p[0] == 0 and p[-1] > 0.1  # the transition is inside the grid
    lo, _ = clopper_pearson(np.array(rec.changed), cfg.samples)
    bound = np.array(rec.bound_imhof)
    assert np.all(bound >= lo) and np.all(np.array(rec.bound_chernoff) >= bound - 1e-12)
    rho = cfg.rho_model()
    assert np.all(bound[rho < rec.r_lower] == 0)
    assert rec.rho_half_unclipped == crossing_radius(rho, p)


def test_union_bound_with_two_classes_is_the_runner_up_bound(quadratic):
    model, x0 = quadratic
    cfg = NoiseConfig(rho=(100.0, 400.0, 2000.0), samples=200, num_kappa=20, union=True,
                      eps_scale=1 / 255)
    rec = analyse_input(model, x0, index=0, label=0, cfg=cfg, generator=torch.Generator())
    np.testing.assert_allclose(rec.bound_union, rec.bound_imhof, rtol=1e-12)
    assert rec.changed_all_q_positive == rec.changed_q_positive == [0, 0, 0]


def test_crossing_radius_interpolates_in_log_radius():
    rho = np.array([1.0, 4.0, 16.0])
    assert crossing_radius(rho, np.array([0.0, 0.25, 0.75])) == pytest.approx(8.0)
    assert crossing_radius(rho, np.array([0.6, 0.7, 0.8])) == 1.0
    assert crossing_radius(rho, np.array([0.0, 0.1, 0.2])) == math.inf


def test_recurrent_model_margin_and_gradient_match_finite_differences():
    torch.manual_seed(0)
    model = RecurrentClassifier(input_size=F, num_classes=3, cell="gru", hidden_size=7).eval()
    x = torch.rand(2, T, F)
    cfg = NoiseConfig(n_inputs=2, rho=(100.0, 1000.0, 30000.0), samples=64, num_kappa=12,
                      union=True, eps_scale=1 / 255, bounds=(0.0, 1.0))
    recs = run_noise(model, x, torch.tensor([0, 1]), cfg)
    f64 = RecurrentClassifier(input_size=F, num_classes=3, cell="gru", hidden_size=7)
    f64.load_state_dict(model.state_dict())
    f64 = f64.double().eval()
    for rec, xi in zip(recs, x.double(), strict=True):
        with torch.no_grad():
            logits = f64(xi[None])[0]
        top = logits.topk(2)
        assert rec.pred == int(top.indices[0]) and rec.runner_up == int(top.indices[1])
        assert rec.t == pytest.approx(float(top.values[0] - top.values[1]), abs=1e-10)
        # |J| from central differences along the gradient direction of a second evaluation
        xg = xi[None].clone().requires_grad_(True)
        out = f64(xg)[0]
        (grad,) = torch.autograd.grad(out[rec.pred] - out[rec.runner_up], xg)
        u, h = grad / grad.norm(), 1e-5
        with torch.no_grad():
            fp, fm = f64(xi[None] + h * u)[0], f64(xi[None] - h * u)[0]
        slope = ((fp[rec.pred] - fp[rec.runner_up]) - (fm[rec.pred] - fm[rec.runner_up])) / (2 * h)
        assert rec.jnorm == pytest.approx(float(slope), rel=1e-6)
        assert all(0 <= v <= 1 for v in rec.p_unclipped + rec.p_clipped + rec.bound_imhof)
        # the union sums the runner-up's term (same grid) and the other competitor's
        assert all(u >= b - 1e-12 for u, b in zip(rec.bound_union, rec.bound_imhof, strict=True))
        assert all(a <= b for a, b in
                   zip(rec.changed_all_q_positive, rec.changed_q_positive, strict=True))
    summary = summarise(recs, cfg, run="memory")
    assert summary["d"] == D and summary["n_inputs"] == 2
    assert len(summary["h1_failure_given_changed"]) == 3
    assert len(summary["union_h1_failure_given_changed"]) == 3


def _untrained_run(folder):
    """A run folder as ``seqrobust train`` writes it, with untrained weights (no training cost)."""
    folder.mkdir()
    cfg = TrainConfig(dataset="mnist-subset", hidden=4, layers=1)
    (folder / "config.json").write_text(json.dumps(cfg.to_json()))
    model = RecurrentClassifier(input_size=28, num_classes=10, hidden_size=4, num_layers=1)
    save_checkpoint(folder / "model", model=model, meta={"step": 0})
    return folder


def _check_cli_noise(run, out, capsys):
    capsys.readouterr()
    args = ["noise", str(run), "--n", "1", "--samples", "32", "--rho", "2000", "--rho", "20000",
            "--num-kappa", "10", "--out", str(out), "--quiet"]
    assert main(args) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["d"] == 784 and printed["sqrt_d"] == 28.0 and printed["n_inputs"] == 1
    record = json.loads((out / "noise.json").read_text())
    assert len(record["inputs"]) == 1 and record["summary"]["rho"] == [2000.0, 20000.0]
    assert record["summary"]["unit"] == "pixel (0-255)"
    assert len((out / "noise.csv").read_text().strip().splitlines()) == 1 + 2
    assert (out / "noise.png").stat().st_size > 10_000


def test_cli_noise_on_a_run_folder(tmp_path, capsys):
    run = _untrained_run(tmp_path / "run")
    _check_cli_noise(run, tmp_path / "noise", capsys)
    assert main(["noise", str(run), "--rho", "-3"]) == 2
    assert main(["noise", str(tmp_path / "missing")]) == 2


@pytest.mark.slow
def test_cli_noise_on_a_tiny_trained_run(tmp_path, capsys):
    run = tmp_path / "run"
    args = ["train", "--dataset", "mnist-subset", "--epochs", "1", "--hidden", "8",
            "--train-limit", "256", "--test-limit", "20", "--out", str(run), "--quiet"]
    assert main(args) == 0
    _check_cli_noise(run, tmp_path / "noise", capsys)


def test_write_noise_roundtrip(tmp_path, quadratic):
    model, x0 = quadratic
    cfg = NoiseConfig(rho=(200.0, 2000.0), samples=50, num_kappa=10, eps_scale=1 / 255,
                      bounds=(0.0, 1.0))
    recs = run_noise(model, x0.float(), torch.tensor([0]), cfg)
    summary = summarise(recs, cfg, run="quadratic")
    write_noise(recs, summary, cfg, tmp_path)
    saved = json.loads((tmp_path / "noise.json").read_text())
    assert saved["inputs"][0]["t"] == pytest.approx(0.9)
    assert saved["summary"]["bound_below_ci_low_fraction"] == [0.0, 0.0]
    with pytest.raises(ValueError):
        summarise([], cfg, run="none")
    with pytest.raises(ValueError):
        NoiseConfig(rho=(0.0,))
