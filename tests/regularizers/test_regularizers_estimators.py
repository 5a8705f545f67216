"""T10 (theory.md §7): the estimators of R = sum_k ||Hess f_k||_F^2 against dense float64
Hessians of a tiny tanh RNN."""

from __future__ import annotations

import math

import pytest
import torch
from reg_cases import dense_hessians, tiny_inputs, tiny_model

from seqrobust.regularizers import hessian_frobenius
from seqrobust.regularizers.hessian_frobenius import (
    finite_difference_samples,
    hutchinson_samples,
)


@pytest.fixture(scope="module")
def case() -> tuple:
    model = tiny_model()
    x = tiny_inputs(1)
    hess = dense_hessians(model, x[0])  # (L, d, d)
    return model, x, hess


def _e20(hess: torch.Tensor) -> tuple[float, float, float]:
    """R, Var of the Hutchinson sample (E20), Var of the exact-over-outputs sample."""
    s = torch.einsum("kij,kjl->il", hess, hess)
    gram = torch.einsum("aij,bij->ab", hess, hess)
    c = torch.einsum("aij,bjk,akl,bli->", hess, hess, hess, hess)
    r = float(gram.trace())
    var_h = float(4 * (s @ s).trace() + 2 * c + 2 * gram.pow(2).sum())
    var_exact = float(2 * s.pow(2).sum())
    return r, var_h, var_exact


def test_hutchinson_sample_is_the_dense_quadratic_form(case):
    model, x, hess = case
    xs = x.repeat(5, 1, 1)
    got = hutchinson_samples(model, xs, generator=torch.Generator().manual_seed(7))
    gen = torch.Generator().manual_seed(7)  # replay the draws: w first, then e
    w = torch.randn(xs.shape, generator=gen, dtype=xs.dtype).flatten(1)
    e = torch.randn(5, 3, generator=gen, dtype=xs.dtype)
    expected = torch.einsum("bk,kij,bj->bi", e, hess, w).pow(2).sum(1)
    torch.testing.assert_close(got, expected, rtol=1e-10, atol=0)


@pytest.mark.parametrize("all_outputs", [False, True])
def test_hutchinson_mean_and_variance_match_e20(case, all_outputs):
    model, x, hess = case
    r, var_h, var_exact = _e20(hess)
    n = 200_000
    samples = hutchinson_samples(
        model, x.expand(n, -1, -1), all_outputs=all_outputs,
        generator=torch.Generator().manual_seed(11), create_graph=False,
    )
    var_formula = var_exact if all_outputs else var_h
    assert var_h <= 8 * r**2 + 1e-12  # the bound quoted with (E20)
    mean, var = float(samples.mean()), float(samples.var())
    assert abs(mean - r) < 4 * math.sqrt(var / n), (mean, r)
    assert abs(var / var_formula - 1) < 0.05, (var, var_formula)


def _reflected(model, x):
    """``z -> f(2x - z)``: its forward difference along ``w`` is the one of ``f`` along ``-w``."""
    anchor = x[:1]  # every row of x is the same input
    return lambda z: model(2 * anchor - z)


def _fd_bias(model, x, hess, step: float, *, central: bool = False, antithetic: bool = True):
    n = x.shape[0]
    gen = lambda: torch.Generator().manual_seed(5)  # noqa: E731 - same probes for every step
    fd = finite_difference_samples(model, x, step=step, central=central, generator=gen(),
                                   create_graph=False)
    if antithetic:
        fd = 0.5 * (fd + finite_difference_samples(_reflected(model, x), x, step=step,
                                                   central=central, generator=gen(),
                                                   create_graph=False))
    g = gen()
    w = torch.randn(x.shape, generator=g, dtype=x.dtype).flatten(1)
    w = w / w.norm(dim=1, keepdim=True)
    e = torch.randn(n, hess.shape[0], generator=g, dtype=x.dtype)
    exact = w.shape[1] * torch.einsum("bk,kij,bj->bi", e, hess, w).pow(2).sum(1)
    return fd - exact


def test_forward_difference_bias_shrinks_quadratically(case):
    model, x, hess = case
    xs = x.expand(4000, -1, -1)
    bias = [float(_fd_bias(model, xs, hess, h).mean()) for h in (1e-1, 1e-2, 1e-3)]
    assert abs(bias[0]) > 1e-6 * float(hess.pow(2).sum())
    for coarse, fine in zip(bias, bias[1:], strict=False):
        assert 70 < coarse / fine < 140, bias
    # Without pairing, the per-sample error is O(h) (odd in w): much larger than the bias.
    single = _fd_bias(model, xs, hess, 1e-2, antithetic=False)
    assert single.abs().mean() > 10 * abs(bias[1])


def test_central_difference_per_sample_error_is_second_order(case):
    model, x, hess = case
    xs = x.expand(64, -1, -1)
    err = [float(_fd_bias(model, xs, hess, h, central=True, antithetic=False).abs().max())
           for h in (1e-1, 1e-2, 1e-3)]
    for coarse, fine in zip(err, err[1:], strict=False):
        assert 50 < coarse / fine < 200, err


@pytest.mark.parametrize("estimator", ["hutchinson", "exact", "fd", "central"])
def test_probes_average_to_r(estimator):
    model = tiny_model(layers=2)
    x = tiny_inputs(2)
    exact = torch.stack([dense_hessians(model, row).pow(2).sum() for row in x])
    est = hessian_frobenius(model, x, estimator=estimator, probes=20_000,
                            generator=torch.Generator().manual_seed(3), create_graph=False)
    assert est.shape == (2,)
    torch.testing.assert_close(est, exact, rtol=0.06, atol=0)
