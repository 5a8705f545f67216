"""Figures 3 and 4 on a classifier whose margin is exactly quadratic."""

import numpy as np
import torch

from seqrobust.bounds import exact_distance
from seqrobust.measure.slices import boundary_slice, taylor_agreement

T, F = 2, 2
D = T * F


def _quadratic_classifier(seed=0):
    gen = torch.Generator().manual_seed(seed)
    a = torch.randn(D, D, generator=gen, dtype=torch.float64)
    a = 0.5 * (a + a.T)
    g = torch.randn(D, generator=gen, dtype=torch.float64)
    t = 1.5

    def q(x):  # (B, T, F) -> (B,)
        z = x.flatten(1)
        return t + z @ g + 0.5 * ((z @ a) * z).sum(1)

    def f(x):  # F = f_0 - f_1 = q: class 0 while q > 0
        v = q(x)
        return torch.stack([0.5 * v, -0.5 * v], dim=1)

    return f, q, t, g, a


def test_slice_draws_the_exact_boundary():
    f, q, t, g, a = _quadratic_classifier()
    exact = exact_distance(t, g.numpy(), a.numpy())
    delta = torch.as_tensor(exact.delta).reshape(T, F)
    x = torch.zeros(T, F, dtype=torch.float64)
    for second in ("curvature", "random"):
        s = boundary_slice(
            f, x, delta, second=second, grid=41, generator=torch.Generator().manual_seed(1)
        )
        torch.testing.assert_close(s.margin, s.quadratic, rtol=1e-9, atol=1e-9)
        # the grid values are those of the analytic q at the plane's points
        aa, bb = torch.meshgrid(s.a, s.b, indexing="xy")
        pts = aa[..., None, None] * s.d1 + bb[..., None, None] * s.d2
        torch.testing.assert_close(s.quadratic, q(pts.reshape(-1, T, F)).reshape(41, 41))
        assert abs(float((s.d1 * s.d2).sum())) < 1e-12
        # the measured perturbation ends on the zero set
        assert abs(float(q((x + delta)[None]))) < 1e-8
        assert s.pred == 0 and set(s.predicted.unique().tolist()) <= {0, 1}


def test_taylor_agreement_is_perfect_for_a_quadratic():
    f, q, *_ = _quadratic_classifier(seed=3)
    x = torch.zeros(T, F, dtype=torch.float64)
    radii = torch.logspace(-1, 1.5, 8, dtype=torch.float64)
    res = taylor_agreement(f, x, radii, directions=64, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(res.margin, res.quadratic, rtol=1e-9, atol=1e-9)
    assert bool((res.agreement == 1).all()) and bool((res.h1_violations == 0).all())
    assert 0 < float(res.changed.double().mean()) < 1


def test_slice_on_a_recurrent_model_differs_from_its_quadratic_model():
    from seqrobust.models import RecurrentClassifier

    torch.manual_seed(0)
    model = RecurrentClassifier(input_size=3, num_classes=3, hidden_size=8).double().eval()
    f = model.forward_twice_differentiable
    x = torch.randn(4, 3, dtype=torch.float64)
    s = boundary_slice(f, x, torch.randn(4, 3, dtype=torch.float64), grid=21)
    center = 10  # the grid's middle point is x itself: q(0) = t = F(x)
    torch.testing.assert_close(s.quadratic[center, center], s.margin[center, center])
    assert not np.allclose(s.margin.numpy(), s.quadratic.numpy(), atol=1e-3)


def test_plot_commands_on_a_tiny_run(tmp_path):
    import json

    from seqrobust.cli import main
    from seqrobust.training import TrainConfig, train

    run = tmp_path / "tiny"
    cfg = TrainConfig(dataset="mnist-subset", hidden=8, epochs=1, train_limit=200, test_limit=20)
    train(cfg, run, progress=False)
    assert main(["plot", "boundary", str(run), "--index", "1", "--grid", "9"]) == 0
    summary = json.loads((run / "figures" / "boundary-1.json").read_text())
    assert summary["unit"] == "pixel (0-255)" and summary["delta_norm"] > 0
    assert (run / "figures" / "boundary-1.png").stat().st_size > 1000
    assert main(["plot", "taylor", str(run), "--index", "1", "--directions", "8"]) == 0
    taylor = json.loads((run / "figures" / "taylor-1.json").read_text())
    assert len(taylor["agreement"]) == 16
    assert main(["plot", "boundary", str(run), "--index", "10000"]) == 2
