"""Minimal-L2 attacks: DeepFool, FMN and their combination (exact on linear and quadratic
classifiers; data range; cross-check against torchattacks)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import Tensor, nn

from seqrobust.attacks import boundary_search, deepfool, fmn_l2, minimal_l2
from seqrobust.bounds.quadratic import exact_distance
from seqrobust.models import RecurrentClassifier

T, F, L = 2, 3, 4


class Linear(nn.Module):
    """Logits ``W x + b`` on flattened ``(B, T, F)`` inputs."""

    def __init__(self, gen: torch.Generator) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.randn(L, T * F, generator=gen, dtype=torch.float64))
        self.b = nn.Parameter(torch.randn(L, generator=gen, dtype=torch.float64) * 0.1)

    def forward(self, x: Tensor) -> Tensor:
        return x.flatten(1) @ self.w.T + self.b


class Quadratic(nn.Module):
    """Binary logits ``(F(x), 0)``, ``F(x) = t + gᵀ(x−c) + ½(x−c)ᵀA(x−c)``."""

    def __init__(self, t: float, g: np.ndarray, a: np.ndarray, c: Tensor) -> None:
        super().__init__()
        self.t = t
        self.g = nn.Parameter(torch.tensor(g))
        self.a = nn.Parameter(torch.tensor(a))
        self.c = c

    def forward(self, x: Tensor) -> Tensor:
        d = (x - self.c).flatten(1)
        val = self.t + d @ self.g + 0.5 * ((d @ self.a) * d).sum(1)
        return torch.stack([val, torch.zeros_like(val)], dim=1)


def _linear_distance(model: Linear, x: Tensor) -> Tensor:
    """Exact multi-class distance of a linear classifier (no box): min_k t_k / |w_p − w_k|."""
    with torch.no_grad():
        logits = model(x)
    pred = logits.argmax(1)
    gaps = logits.gather(1, pred[:, None]) - logits
    dw = (model.w[pred][:, None, :] - model.w[None]).norm(dim=2)
    dist = (gaps / dw).scatter(1, pred[:, None], float("inf"))
    return dist.min(1).values.detach()


@pytest.fixture
def linear_case() -> tuple[Linear, Tensor]:
    gen = torch.Generator().manual_seed(0)
    model = Linear(gen)
    x = 0.45 + 0.1 * torch.rand(32, T, F, generator=gen, dtype=torch.float64)
    x = x[_linear_distance(model, x) < 0.3]  # the box is >= 0.45 away: never reached
    assert x.shape[0] >= 4
    return model, x


@pytest.mark.parametrize("box", ["project", "clip"])
def test_deepfool_is_exact_on_linear_classifier(
    linear_case: tuple[Linear, Tensor], box: str
) -> None:
    model, x = linear_case
    exact = _linear_distance(model, x)
    res = deepfool(model, x, box=box)  # type: ignore[arg-type]
    assert bool(res.success.all())
    torch.testing.assert_close(res.norms, 1.02 * exact, rtol=1e-9, atol=0)
    refined = boundary_search(model, x, res, steps=40)
    torch.testing.assert_close(refined.norms, exact, rtol=1e-9, atol=1e-12)


def test_fmn_finds_linear_distance(linear_case: tuple[Linear, Tensor]) -> None:
    model, x = linear_case
    res = fmn_l2(model, x, steps=200)
    assert bool(res.success.all())
    exact = _linear_distance(model, x)
    assert bool((res.norms >= exact * (1 - 1e-9)).all())
    torch.testing.assert_close(res.norms, exact, rtol=2e-3, atol=0)


def _tiny_rnn(seed: int) -> RecurrentClassifier:
    torch.manual_seed(seed)
    model = RecurrentClassifier(input_size=F, num_classes=L, hidden_size=8, num_layers=1)
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(4.0)  # strongly nonlinear
    return model.double().eval()


def test_combination_never_worse_and_inside_bounds() -> None:
    model = _tiny_rnn(1)
    gen = torch.Generator().manual_seed(2)
    x = torch.rand(24, T, F, generator=gen, dtype=torch.float64)
    for bounds in ((0.0, 1.0), (-1.0, 2.0)):
        res = minimal_l2(model, x, bounds=bounds, fmn_steps=60)
        for part in (res.deepfool, res.deepfool_refined, res.fmn, res.best):
            assert float(part.adversarials.min()) >= bounds[0]
            assert float(part.adversarials.max()) <= bounds[1]
            with torch.no_grad():
                flipped = model(part.adversarials).argmax(1) != model(x).argmax(1)
            assert bool((flipped == part.success).all())
            norms = (part.adversarials - x).flatten(1).norm(dim=1)
            torch.testing.assert_close(norms[part.success], part.norms[part.success])
        assert bool((res.deepfool_refined.norms <= res.deepfool.norms).all())
        assert bool((res.fmn.norms <= res.deepfool_refined.norms).all())  # warm start
        assert bool((res.best.norms <= res.deepfool.norms).all())
        assert float(res.best.success.float().mean()) >= 0.9
        # FMN alone from the clean input is typically better than plain DeepFool
        clean = fmn_l2(model, x, steps=60, bounds=bounds)
        both = clean.success & res.deepfool.success
        assert float(clean.norms[both].median()) <= float(res.deepfool.norms[both].median())


def test_measured_distance_is_at_least_exact_quadratic_distance() -> None:
    rng = np.random.default_rng(5)
    c = torch.full((1, T, F), 0.5, dtype=torch.float64)
    ratios = []
    for i in range(12):
        d = T * F
        b = rng.normal(size=(d, d))
        a = (b + b.T) / 2 * (2.0 if i % 2 else 0.5)
        g = rng.normal(size=d)
        t = 0.05 + 0.1 * rng.random()
        exact = exact_distance(t, g, a).radius
        model = Quadratic(t, g, a, c)
        res = minimal_l2(model, c.clone(), fmn_steps=100)
        if not bool(res.best.success.all()):
            continue
        meas = float(res.best.norms[0])
        assert meas >= exact * (1 - 1e-9), (i, meas, exact)
        ratios.append(meas / exact)
    assert len(ratios) >= 10
    assert float(np.median(ratios)) <= 1.02  # the attacks get close to the exact distance


def test_bad_options() -> None:
    model = _tiny_rnn(0)
    x = torch.rand(2, T, F, dtype=torch.float64)
    with pytest.raises(ValueError, match="steps"):
        deepfool(model, x, steps=0)
    with pytest.raises(ValueError, match="box"):
        deepfool(model, x, box="nope")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="bounds"):
        fmn_l2(model, x + 2.0)
    with pytest.raises(ValueError, match="init"):
        fmn_l2(model, x, init=x[:1])


def test_cross_check_against_torchattacks_deepfool(linear_case: tuple[Linear, Tensor]) -> None:
    ta = pytest.importorskip("torchattacks")
    model, x = linear_case
    labels = model(x).argmax(1)
    theirs = ta.DeepFool(model, steps=50, overshoot=0.02)(x, labels)
    ours = deepfool(model, x, box="clip")
    torch.testing.assert_close(ours.adversarials, theirs.to(x.dtype), rtol=0, atol=1e-10)
    # a nonlinear model: same success, norms within a few percent (torchattacks compounds
    # the overshoot at every step, the reference code applies it to the total)
    rnn = _tiny_rnn(3)
    gen = torch.Generator().manual_seed(4)
    xs = 0.3 + 0.4 * torch.rand(6, T, F, generator=gen, dtype=torch.float64)
    labels = rnn(xs).argmax(1)
    theirs = ta.DeepFool(rnn, steps=50, overshoot=0.02)(xs, labels).to(xs.dtype)
    ours = deepfool(rnn, xs, box="clip")
    ok_theirs = rnn(theirs).argmax(1) != labels
    assert bool((ok_theirs == ours.success).all())
    their_norms = (theirs - xs).flatten(1).norm(dim=1)
    torch.testing.assert_close(ours.norms[ours.success], their_norms[ok_theirs], rtol=0.1, atol=0)
