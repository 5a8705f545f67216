"""Theorem 1 (corrected) bounds: edge cases (T1), random quadratics (T3), literal reading (T4)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from seqrobust.bounds.curvature import (
    bounds_from_hessian,
    curvature_lower_bound,
    curvature_upper_bound,
    min_over_competitors,
    top_eigvector_toward,
    witness_bound,
    witness_vector,
)
from seqrobust.bounds.quadratic import exact_distance, quadratic_value

INF = math.inf


# ---------------------------------------------------------------- T1: (E4) edge cases
@pytest.mark.parametrize(
    ("t", "j", "ju", "v", "lower", "upper"),
    [
        (0.0, 1.3, 0.4, 2.0, 0.0, 0.0),  # t = 0: on the boundary
        (0.0, 0.0, 0.0, 0.0, 0.0, 0.0),
        (2.0, 0.0, 0.0, 4.0, 1.0, 1.0),  # J = 0, v > 0: sqrt(2t/v), exact
        (3.0, 2.0, 0.5, 0.0, 1.5, 6.0),  # v = 0: linear limit t/|J|, t/|J.u|
        (2.0, 1.0, 0.0, 1.0, 2 * 2.0 / (1 + math.sqrt(5.0)), 2.0),  # J.u = 0, v > 0: finite
        (2.0, 1.0, 0.0, 0.0, 2.0, INF),  # v = 0, J.u = 0: upper infinite
        (1.0, 1.0, 1.0, -1.0, INF, INF),  # v < 0, negative radicand: r* = inf
        (1.0, 0.0, 0.0, -1.0, INF, INF),
        (1.0, 3.0, 2.0, -1.0, 2 / (3 + math.sqrt(7.0)), 2 / (2 + math.sqrt(2.0))),  # v < 0 valid
        (1.0, 2.0, -2.0, 0.5, 2 / (2 + math.sqrt(5.0)), 2 / (2 + math.sqrt(5.0))),  # sign of J.u
    ],
)
def test_edge_cases_float_and_tensor(
    t: float, j: float, ju: float, v: float, lower: float, upper: float
) -> None:
    assert curvature_lower_bound(t, j, v) == pytest.approx(lower, rel=1e-12)
    assert curvature_upper_bound(t, ju, v) == pytest.approx(upper, rel=1e-12)
    for dtype in (torch.float32, torch.float64):
        tt = torch.tensor([t], dtype=dtype)
        lo = curvature_lower_bound(
            tt, torch.tensor([j], dtype=dtype), torch.tensor([v], dtype=dtype)
        )
        up = curvature_upper_bound(tt, ju, v)
        assert lo.dtype == dtype and up.dtype == dtype
        assert float(lo) == pytest.approx(lower, rel=1e-6)
        assert float(up) == pytest.approx(upper, rel=1e-6)


def test_small_curvature_limit_and_float32_stability() -> None:
    one = torch.ones(1, dtype=torch.float32)
    assert float(curvature_lower_bound(one, one, torch.tensor([1e-8]))) == 1.0
    assert float(curvature_upper_bound(one, one, torch.tensor([1e-8]))) == 1.0
    poster = (1.0 / 1e-8) * (torch.sqrt(1 + 2 * 1e-8 * one) - 1)  # the unstable form
    assert float(poster) == 0.0
    # series t/|J| (1 - vt/(2|J|^2) + ...) in float64
    t, jn, v = 0.7, 1.9, 1e-5
    series = t / jn * (1 - v * t / (2 * jn**2) + (v * t / jn**2) ** 2 / 2)
    assert curvature_lower_bound(t, jn, v) == pytest.approx(series, rel=1e-12)


def test_negative_margin_is_rejected() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        curvature_lower_bound(torch.tensor([-1.0]), 1.0, 1.0)


def test_broadcast_batch_matches_scalar_calls() -> None:
    gen = torch.Generator().manual_seed(1)
    t, j, v = (torch.rand(50, generator=gen, dtype=torch.float64) for _ in range(3))
    v = v - 0.2
    batch = witness_bound(t, j, v)
    for i in range(50):
        assert float(batch[i]) == witness_bound(float(t[i]), float(j[i]), float(v[i])) or (
            math.isinf(float(batch[i]))
            and math.isinf(witness_bound(float(t[i]), float(j[i]), float(v[i])))
        )


def test_multiclass_min_ignores_predicted_column() -> None:
    per_class = torch.tensor([[0.1, 3.0, 2.0], [5.0, 4.0, 0.2]])
    out = min_over_competitors(per_class, pred=torch.tensor([0, 2]))
    assert out.tolist() == [2.0, 4.0]


def test_runner_up_lower_bound_is_not_a_multiclass_lower_bound() -> None:
    # linear logits: runner-up (class 1) has the smaller margin but the larger gradient gap
    t = torch.tensor([[1.0, 1.2]])  # margins to classes 1, 2
    jn = torch.tensor([[0.5, 10.0]])
    v = torch.zeros(1, 2)
    per_class = curvature_lower_bound(t, jn, v)  # 2.0 and 0.12
    r_star = float(per_class.min())  # exact for linear models
    assert float(per_class[0, 0]) > r_star
    assert float(min_over_competitors(per_class)) == pytest.approx(r_star)


# ---------------------------------------------------------------- T3: random quadratics
def _random_problems(
    rng: np.random.Generator, n: int
) -> list[tuple[str, float, np.ndarray, np.ndarray]]:
    """(kind, t, J, M) with v = lambda_max(M) >= 0; A = -M."""
    out = []
    kinds = ["generic", "j_zero", "t_zero", "degenerate", "hard", "parallel", "v_zero"]
    for i in range(n):
        kind = kinds[i % len(kinds)]
        d = int(rng.integers(2, 7))
        q, _ = np.linalg.qr(rng.normal(size=(d, d)))
        lam = np.sort(rng.normal(size=d) * rng.choice([0.1, 1.0, 10.0]))
        lam = lam - lam[-1] + abs(rng.normal()) * rng.choice([0.01, 1.0])  # v >= 0
        if kind == "degenerate":
            k = int(rng.integers(2, d + 1))
            lam[-k:] = lam[-1]
        if kind == "v_zero":
            lam = lam - lam[-1]
        m = q @ np.diag(lam) @ q.T
        m = (m + m.T) / 2
        j = rng.normal(size=d) * rng.choice([0.1, 1.0, 10.0])
        t = float(rng.exponential())
        if kind == "j_zero":
            j = np.zeros(d)
        elif kind == "t_zero":
            t = 0.0
        elif kind == "hard":
            top = np.isclose(lam, lam[-1])
            j = j - q[:, top] @ (q[:, top].T @ j)
        elif kind == "parallel":
            j = q[:, -1] * rng.normal() * 3
            lam[-1] += 0.5  # keep the top eigenvalue simple
            m = q @ np.diag(lam) @ q.T
            m = (m + m.T) / 2
        out.append((kind, t, j, m))
    return out


def test_bounds_bracket_exact_distance_on_random_quadratics() -> None:
    rng = np.random.default_rng(12345)
    problems = _random_problems(rng, 3150)
    counts: dict[str, int] = {}
    for dim in range(2, 7):
        group = [p for p in problems if p[2].size == dim]
        t = torch.tensor([p[1] for p in group], dtype=torch.float64)
        j = torch.tensor(np.stack([p[2] for p in group]))
        m = torch.tensor(np.stack([p[3] for p in group]))
        b = bounds_from_hessian(t, j, m)
        for i, (kind, ti, ji, mi) in enumerate(group):
            exact = exact_distance(ti, ji, -mi)
            r, lo, up, best = exact.radius, float(b.lower[i]), float(b.upper[i]), float(b.best[i])
            tol = 1e-8 * max(r, 1e-300) if math.isfinite(r) else 0.0
            assert lo <= r + tol, (kind, lo, r)
            assert r <= min(up, best) + tol, (kind, r, up, best)
            assert best <= up
            if kind in ("parallel", "j_zero", "t_zero"):
                assert lo == pytest.approx(r, rel=1e-8, abs=1e-12), kind
                assert up == pytest.approx(r, rel=1e-8, abs=1e-12), kind
            if math.isfinite(best):  # the witness is a real point on q = 0
                w = b.witness[i].numpy()
                assert np.linalg.norm(w) == pytest.approx(best, rel=1e-10, abs=1e-300)
                scale = ti + np.linalg.norm(ji) * best + np.abs(mi).max() * best**2
                assert abs(quadratic_value(ti, ji, -mi, w)) <= 1e-10 * scale
            counts[kind] = counts.get(kind, 0) + 1
    assert sum(counts.values()) >= 3000 and min(counts.values()) >= 400
    assert counts["hard"] >= 400


def test_degenerate_top_eigenvalue_uses_projected_gradient() -> None:
    m = torch.diag(torch.tensor([2.0, 2.0, -1.0], dtype=torch.float64))[None]
    j = torch.tensor([[0.3, 0.4, 5.0]], dtype=torch.float64)
    v, u = top_eigvector_toward(m, j)
    assert float(v) == pytest.approx(2.0)
    assert u[0].tolist() == pytest.approx([0.6, 0.8, 0.0])
    b = bounds_from_hessian(torch.tensor([1.0], dtype=torch.float64), j, m)
    assert float(b.j_dot_u) == pytest.approx(0.5)
    assert float(b.upper) == pytest.approx(2.0 / (0.5 + math.sqrt(0.25 + 4.0)))


def test_witness_vector_steps_against_gradient() -> None:
    j = torch.tensor([[1.0, 0.0], [0.0, -2.0]])
    w = torch.tensor([[3.0, 0.0], [0.0, 1.0]])
    out = witness_vector(torch.tensor([2.0, INF]), w, j)
    assert out.tolist() == [[-2.0, 0.0], [0.0, 0.0]]


# ---------------------------------------------------------------- T4: literal reading (E9)
def _literal_bounds(t: float, j: np.ndarray, a: np.ndarray) -> tuple[float, float]:
    """The poster read literally: H = Hessian of F (not of -F)."""
    v_t, u_t = top_eigvector_toward(torch.tensor(a)[None], torch.tensor(j)[None])
    v, u = float(v_t), u_t[0].numpy()
    return curvature_lower_bound(t, float(np.linalg.norm(j)), v), curvature_upper_bound(
        t, float(j @ u), v
    )


def test_literal_reading_counterexamples_fail_and_corrected_hold() -> None:
    # (i) A = diag(1, -10), J = 0, t = 1: r* = sqrt(0.2), literal lower sqrt(2)
    a1, j1 = np.diag([1.0, -10.0]), np.zeros(2)
    r1 = exact_distance(1.0, j1, a1).radius
    assert r1 == pytest.approx(math.sqrt(0.2))
    lit_lower, _ = _literal_bounds(1.0, j1, a1)
    assert lit_lower == pytest.approx(math.sqrt(2.0)) and lit_lower > r1
    ok = bounds_from_hessian(
        torch.ones(1, dtype=torch.float64), torch.tensor(j1)[None], torch.tensor(-a1)[None]
    )
    assert float(ok.lower) == pytest.approx(r1) and float(ok.upper) == pytest.approx(r1)
    # (ii) A = I, J = (-1, 0), t = 1: q > 0 everywhere, literal upper 0.732
    a2, j2 = np.eye(2), np.array([-1.0, 0.0])
    assert exact_distance(1.0, j2, a2).radius == INF
    _, lit_upper = _literal_bounds(1.0, j2, a2)
    assert lit_upper == pytest.approx(math.sqrt(3.0) - 1.0) and lit_upper < INF
    ok = bounds_from_hessian(
        torch.ones(1, dtype=torch.float64), torch.tensor(j2)[None], torch.tensor(-a2)[None]
    )
    assert float(ok.lower) == INF and float(ok.upper) == INF and float(ok.best) == INF
