"""R(x) = Σ_k ‖∇²f_k‖_F²: exact against dense Hessians, Hutchinson unbiased (T10, first part)."""

from __future__ import annotations

import math

import pytest
import torch
from geometry_cases import CELLS, dense_logits, tiny_case

from seqrobust.geometry import (
    hessian_frobenius_exact,
    hessian_frobenius_hutchinson,
    hessian_frobenius_samples,
)


@pytest.mark.parametrize("cell", CELLS)
def test_exact_matches_dense(cell: str) -> None:
    case = tiny_case(cell)
    dense = dense_logits(cell)
    expected = dense.pow(2).sum(dim=(1, 2, 3))
    got = hessian_frobenius_exact(case.f, case.x, chunk_size=5)  # 12 = 5 + 5 + 2 coordinates
    torch.testing.assert_close(got, expected, rtol=1e-10, atol=0)
    assert bool((got > 0).all())


@pytest.mark.parametrize("outputs", ["random", "exact"])
def test_hutchinson_is_unbiased_on_tiny_tanh_rnn(outputs: str) -> None:
    case = tiny_case("rnn")
    exact = hessian_frobenius_exact(case.f, case.x)
    probes = 2000
    gen = torch.Generator().manual_seed(7)
    samples = hessian_frobenius_samples(
        case.f, case.x, probes=probes, outputs=outputs, generator=gen
    )
    assert samples.shape == (probes, 3) and bool((samples >= 0).all())
    mean, stderr = samples.mean(0), samples.std(0) / math.sqrt(probes)
    assert bool(((mean - exact).abs() <= 4 * stderr).all()), (mean, exact, stderr)
    # (E20): relative standard deviation of one random-output sample is at most √8
    assert bool((samples.std(0) <= math.sqrt(8) * exact * 1.1).all())
    if outputs == "exact":  # Var X = 2‖S‖_F², S = Σ_k H_k²
        dense = dense_logits("rnn")
        s = (dense @ dense).sum(dim=1)
        variance = 2 * s.pow(2).sum(dim=(1, 2))
        ratio = samples.var(0) / variance  # sample variance of heavy-tailed X: a wide band
        assert bool(((ratio - 1).abs() < 0.3).all()), ratio


def test_hutchinson_mean_and_generator() -> None:
    case = tiny_case("gru")
    a = hessian_frobenius_hutchinson(
        case.f, case.x, probes=4, generator=torch.Generator().manual_seed(3)
    )
    samples = hessian_frobenius_samples(
        case.f, case.x, probes=4, generator=torch.Generator().manual_seed(3)
    )
    torch.testing.assert_close(a, samples.mean(0))
