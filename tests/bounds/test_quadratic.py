"""Exact distance to the zero set of a quadratic (theory.md §3, T2)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from seqrobust.bounds.quadratic import certify, exact_distance, quadratic_value


def _random_quadratic(
    rng: np.random.Generator, d: int, *, hard: bool
) -> tuple[float, np.ndarray, np.ndarray]:
    q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    lam = np.sort(rng.normal(size=d) * rng.choice([0.3, 1.0, 5.0]))
    g = rng.normal(size=d) * rng.choice([0.1, 1.0, 3.0])
    t = float(rng.exponential()) + 0.01
    if hard:  # no weight on the bottom eigenvector, and t above phi(sigma_lo)
        lam[0] = -abs(lam[0]) - 0.1
        lam[1:] = np.maximum(lam[1:], lam[0] + 0.05)
        g = g - q[:, 0] * (q[:, 0] @ g)
        off = lam[1:] - lam[0]
        gam = q[:, 1:].T @ g
        t += float(np.sum(gam**2 * (off - lam[0]) / (2 * off**2)))
    a = q @ np.diag(lam) @ q.T
    return t, g, (a + a.T) / 2


def _ray_min(t: float, g: np.ndarray, a: np.ndarray, dirs: np.ndarray) -> float:
    """Smallest s > 0 with q(s w) <= 0 over unit directions w (rows of dirs)."""
    b = -(dirs @ g)
    c = -np.einsum("nd,de,ne->n", dirs, a, dirs)
    rad = b * b + 2 * c * t
    den = b + np.sqrt(np.maximum(rad, 0.0))
    with np.errstate(divide="ignore"):
        s = np.where((rad >= 0) & (den > 0), 2 * t / np.where(den > 0, den, 1.0), np.inf)
    return float(s.min())


def test_worked_hard_case() -> None:
    a, g = np.diag([-1.0, 2.0]), np.array([0.0, 1.0])
    res = exact_distance(1.0, g, a)
    assert res.case == "hard"
    assert res.radius == pytest.approx(math.sqrt(15) / 3, rel=1e-12)
    assert res.radius == pytest.approx(1.290994, abs=1e-6)
    assert abs(res.delta[0]) == pytest.approx(math.sqrt(14) / 3, rel=1e-12)
    assert res.delta[1] == pytest.approx(-1 / 3, rel=1e-12)
    assert res.sigma == pytest.approx(1.0)
    assert certify(1.0, g, a, res).ok


def test_convex_with_positive_minimum_is_infinite() -> None:
    res = exact_distance(1.0, [-1.0, 0.0], np.eye(2))
    assert res.radius == math.inf and res.case == "empty"
    assert certify(1.0, [-1.0, 0.0], np.eye(2), res).ok


def test_zero_margin_and_linear_and_pure_curvature() -> None:
    assert exact_distance(0.0, [1.0, 2.0], np.eye(2)).radius == 0.0
    lin = exact_distance(2.0, [3.0, 4.0], np.zeros((2, 2)))
    assert lin.radius == pytest.approx(0.4) and certify(2.0, [3.0, 4.0], np.zeros((2, 2)), lin).ok
    curv = exact_distance(2.0, [0.0, 0.0, 0.0], np.diag([-4.0, 1.0, 3.0]))
    assert curv.radius == pytest.approx(1.0)  # sqrt(2t/v)


def test_near_hard_case_is_continuous_across_threshold() -> None:
    a = np.diag([-1.0, 2.0])
    hard = exact_distance(1.0, [0.0, 1.0], a).radius
    for eps in (1e-4, 1e-7, 1e-9, 1e-11, 1e-13):
        res = exact_distance(1.0, [eps, 1.0], a)
        assert certify(1.0, [eps, 1.0], a, res, rtol=1e-9).ok, eps
        assert abs(res.radius - hard) <= 10 * eps, eps
    # a repeated bottom eigenvalue in a rotated basis (eigh returns it only to rounding)
    rng = np.random.default_rng(3)
    q, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    a4 = q @ np.diag([-2.0, -2.0, 1.0, 3.0]) @ q.T
    g4 = q[:, 2] * 0.7 + q[:, 3] * 1.1
    res = exact_distance(0.5, g4, (a4 + a4.T) / 2)
    assert res.case == "hard" and certify(0.5, g4, (a4 + a4.T) / 2, res).ok


def test_certificate_and_zero_value_on_random_problems() -> None:
    rng = np.random.default_rng(7)
    cases: dict[str, int] = {}
    for i in range(600):
        d = int(rng.integers(2, 9))
        t, g, a = _random_quadratic(rng, d, hard=i % 3 == 0)
        if i % 5 == 1 and i % 3:
            a = a + (abs(np.linalg.eigvalsh(a)[0]) + rng.exponential()) * np.eye(d)  # convex
        res = exact_distance(t, g, a)
        cases[res.case] = cases.get(res.case, 0) + 1
        cert = certify(t, g, a, res, rtol=1e-10)
        assert cert.ok, (i, res.case, cert)
        if math.isfinite(res.radius):
            scale = t + np.linalg.norm(g) * res.radius + 0.5 * np.abs(a).max() * res.radius**2
            assert abs(quadratic_value(t, g, a, res.delta)) <= 1e-10 * scale
    assert cases.get("hard", 0) >= 150 and cases.get("root", 0) >= 150 and cases.get("empty", 0) > 0


def test_never_beaten_by_ray_casting() -> None:
    rng = np.random.default_rng(2024)
    n_dirs = 100_000
    kinds: dict[str, int] = {}
    for i in range(200):
        d = 2 + i % 2
        t, g, a = _random_quadratic(rng, d, hard=i % 3 == 0)
        if i % 7 == 3 and i % 3:
            a = a + (abs(np.linalg.eigvalsh(a)[0]) + 0.5) * np.eye(d)
        res = exact_distance(t, g, a)
        kinds[res.case] = kinds.get(res.case, 0) + 1
        if d == 2:
            ang = np.linspace(0, 2 * np.pi, n_dirs, endpoint=False)
            dirs = np.stack([np.cos(ang), np.sin(ang)], axis=1)
        else:
            dirs = rng.normal(size=(n_dirs, d))
            dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
        ray = _ray_min(t, g, a, dirs)
        if not math.isfinite(res.radius):
            assert ray == math.inf
            continue
        assert ray >= res.radius * (1 - 1e-9), (i, ray, res.radius)
        # the ray along delta* itself reaches the boundary at r*
        assert _ray_min(t, g, a, (res.delta / res.radius)[None]) == pytest.approx(
            res.radius, rel=1e-8
        )
        if d == 2:  # a fine angular grid comes close from above
            assert ray <= res.radius * (1 + 1e-3), (i, ray, res.radius)
    assert kinds.get("hard", 0) >= 60


@pytest.mark.parametrize(
    ("t", "g", "a", "match"),
    [
        (-1.0, [1.0], [[1.0]], "non-negative"),
        (1.0, [1.0, 2.0], [[1.0]], "shape"),
        (1.0, [1.0, 2.0], [[1.0, 2.0], [0.0, 1.0]], "symmetric"),
        (1.0, [np.nan], [[1.0]], "finite"),
    ],
)
def test_bad_input(t: float, g: list[float], a: list[list[float]], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        exact_distance(t, g, a)
