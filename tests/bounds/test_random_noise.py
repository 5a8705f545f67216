"""Theorem B and its ingredients (theory.md §4; tests T5, T6, T7, T9)."""

import math

import numpy as np
import pytest
from scipy import integrate, special

from seqrobust.bounds import (
    b2_bound,
    beta_2d,
    beta_chernoff,
    beta_goe,
    beta_imhof,
    cap_bound,
    closed_form,
    goe_average_probability,
    kappa_grid,
    poster_formula,
    sphere_tail,
    theorem_b,
    theorem_b_kappa,
    threshold,
    union_bound,
)
from seqrobust.bounds.quadratic import exact_distance


def _sphere(rng, n, d):
    g = rng.standard_normal((n, d))
    return g / np.linalg.norm(g, axis=1, keepdims=True)


def _goe(rng, d):
    g = rng.standard_normal((d, d))
    return (g + g.T) / math.sqrt(2 * d)


def _within(p_exact, hits, n, k=3.0):
    p_exact = np.asarray(p_exact, dtype=float)
    se = np.sqrt(np.maximum(p_exact * (1 - p_exact), 1e-12) / n)
    return np.abs(hits / n - p_exact) <= k * se + 1.0 / n


# ---- T5: the sphere tail -------------------------------------------------------------------


def test_sphere_tail_closed_forms_in_two_and_three_dimensions():
    s = np.linspace(-1.2, 1.2, 49)
    cs = np.clip(s, -1, 1)
    np.testing.assert_allclose(sphere_tail(3, s), (1 - cs) / 2, atol=1e-14)  # Archimedes
    np.testing.assert_allclose(sphere_tail(2, s), np.arccos(cs) / np.pi, atol=1e-12)


@pytest.mark.parametrize("d", [2, 5, 30, 200])
def test_sphere_tail_matches_monte_carlo(d):
    rng = np.random.default_rng(d)
    n = 100_000 if d < 100 else 40_000
    first = _sphere(rng, n, d)[:, 0]
    s = np.array([-0.5, -0.1, 0.0, 0.05, 0.1, 0.2, 0.3, 0.6]) * (1 if d < 30 else 0.5)
    hits = (first[:, None] >= s[None]).sum(axis=0)
    assert np.all(_within(sphere_tail(d, s), hits, n))


def test_sphere_tail_below_cap_bound_on_a_grid():
    s = np.concatenate([np.linspace(0, 0.2, 101), np.linspace(0.2, 1.0, 81)])
    for d in [2, 3, 4, 7, 10, 31, 100, 316, 1000, 3162, 10_000, 31_623, 100_000]:
        tail, cap = sphere_tail(d, s), cap_bound(d, s)
        assert np.all(tail <= cap * (1 + 1e-12) + 1e-300), d
        assert np.all(np.diff(tail) <= 1e-15)  # non-increasing
    np.testing.assert_allclose(sphere_tail(50, -s) + sphere_tail(50, s), 1.0, atol=1e-14)
    assert sphere_tail(10, 1.0) == 0 and sphere_tail(10, -np.inf) == 1.0
    assert np.all(cap_bound(10, [-0.5, -1e-9]) == 1.0)


# ---- T6: GOE curvature ---------------------------------------------------------------------


def test_goe_quadratic_form_variance_and_beta_goe():
    rng = np.random.default_rng(6)
    d, n = 20, 20_000
    g = rng.standard_normal((n, d, d))
    w = (g + np.swapaxes(g, 1, 2)) / math.sqrt(2 * d)
    theta = _sphere(rng, n, d)
    form = np.einsum("ni,nij,nj->n", theta, w, theta)
    assert abs(form.var() * d / 2 - 1) < 0.05
    mu, sigma = 0.1, 0.7
    curv = mu + sigma * form
    for kappa in [-0.2, 0.0, 0.1, 0.3]:
        assert _within(beta_goe(d, kappa, mu=mu, sigma=sigma), np.sum(curv < kappa), n)


def test_beta_2d_at_zero_and_against_monte_carlo():
    assert float(beta_2d(100, 0.0, mu=0.0, sigma=1.0)) == pytest.approx((2 + math.sqrt(2)) / 4)
    rng = np.random.default_rng(7)
    d, n, mu, sigma = 50, 100_000, 0.05, 1.0
    # The GOE restricted to a fixed plane is the 2x2 block: variances 2/d (diagonal), 1/d.
    a = rng.standard_normal(n) * math.sqrt(2 / d)
    c = rng.standard_normal(n) * math.sqrt(2 / d)
    b = rng.standard_normal(n) * math.sqrt(1 / d)
    lam_min = mu + sigma * ((a + c) / 2 - np.sqrt(((a - c) / 2) ** 2 + b**2))
    kappas = np.array([-0.3, -0.1, 0.0, 0.05, 0.2])
    hits = (lam_min[:, None] < kappas[None]).sum(axis=0)
    assert np.all(_within(beta_2d(d, kappas, mu=mu, sigma=sigma), hits, n))
    grid = np.linspace(-1, 1, 41)
    assert np.all(beta_2d(d, grid, mu=mu, sigma=sigma) >= beta_goe(d, grid, mu=mu, sigma=sigma))


# ---- T7: beta for one fixed Hessian -------------------------------------------------------


@pytest.mark.parametrize("d", [2, 3, 100])
def test_imhof_matches_monte_carlo_and_chernoff_is_above(d):
    rng = np.random.default_rng(100 + d)
    lam = np.linalg.eigvalsh(_goe(rng, d))
    n = 200_000 if d < 100 else 50_000
    z2 = np.square(rng.standard_normal((n, d)))
    curv = (z2 @ lam) / z2.sum(axis=1)  # theta^T A theta in the eigenbasis
    kappas = np.quantile(lam, [0.1, 0.5, 0.9]) if d < 10 else np.array([-0.3, -0.1, 0.0, 0.1])
    exact = beta_imhof(lam, kappas, floor_chernoff=False)
    hits = (curv[:, None] < kappas[None]).sum(axis=0)
    assert np.all(_within(exact, hits, n)), (exact, hits / n)
    grid = np.linspace(lam.min(), lam.max(), 25)
    raw = beta_imhof(lam, grid, floor_chernoff=False)
    chern = beta_chernoff(lam, grid)
    assert np.all(chern >= raw - 1e-9)
    assert beta_imhof(lam, lam.min()) == 0.0 and beta_chernoff(lam, lam.min() - 1) == 0.0
    assert beta_imhof(lam, lam.max() + 1) == 1.0


def test_reference_structure_at_kappa_zero_for_one_draw():
    """theory.md reference (their seed): MC 0.110, Imhof 0.110, Chernoff 0.478, GOE 0.079."""
    rng = np.random.default_rng(11)
    d = 100
    mu = 1.5 * math.sqrt(2 / d)
    lam = mu + np.linalg.eigvalsh(_goe(rng, d))
    n = 100_000
    z2 = np.square(rng.standard_normal((n, d)))
    p_mc = np.mean((z2 @ lam) < 0)
    imhof = float(beta_imhof(lam, 0.0, floor_chernoff=False))
    chern = float(beta_chernoff(lam, 0.0))
    assert _within(imhof, p_mc * n, n)
    assert 2.5 * imhof < chern < 12 * imhof  # "about 5-10x looser"
    assert float(beta_goe(d, 0.0, mu=mu, sigma=1.0)) == pytest.approx(special.ndtr(-1.5))


# ---- Theorem B ------------------------------------------------------------------------------


def test_theorem_b_holds_for_random_quadratics():
    rng = np.random.default_rng(5)
    d, n = 12, 20_000
    rho = np.geomspace(0.3, 30, 12)
    for trial in range(3):
        a = _goe(rng, d) + rng.normal(0, 0.3) * np.eye(d)
        lam, q = np.linalg.eigh(a)
        j = rng.standard_normal(d) * rng.uniform(0.2, 2)
        t = float(rng.uniform(0.1, 2))
        z = _sphere(rng, n, d)
        lin, quad = z @ (q.T @ j), 0.5 * (np.square(z) @ lam)
        hits = np.array([(t + r * lin + r * r * quad < 0).sum() for r in rho])
        kappa = kappa_grid(lam, num=40)
        jn = float(np.linalg.norm(j))
        exact_b = theorem_b(d, rho, t=t, jnorm=jn, kappa=kappa, beta=beta_imhof(lam, kappa))
        beta = beta_imhof(lam, kappa)
        cap_b = theorem_b(d, rho, t=t, jnorm=jn, kappa=kappa, beta=beta, tail="cap")
        p = hits / n
        assert np.all(exact_b >= p - 3 * np.sqrt(p * (1 - p) / n) - 1e-12), trial
        assert np.all(cap_b >= exact_b) and np.all(exact_b <= 1)
        v = -lam[0]
        r_lo = 2 * t / (jn + math.sqrt(jn**2 + 2 * v * t)) if jn**2 + 2 * v * t >= 0 else math.inf
        assert np.all(exact_b[rho < r_lo] == 0)  # kappa = lambda_min is on the grid
        assert np.all(hits[rho < exact_distance(t, j, a).radius] == 0)


def test_theorem_b_is_zero_below_the_lower_bound_and_picks_grid_kappa():
    lam = np.array([-1.0, 0.5, 2.0])
    kappa = kappa_grid(lam, num=7)
    beta = beta_imhof(lam, kappa)
    t, jn = 1.0, 1.0
    r_lo = 2 * t / (jn + math.sqrt(jn**2 + 2 * 1.0 * t))  # (E2), v = 1
    assert theorem_b(3, 0.99 * r_lo, t=t, jnorm=jn, kappa=kappa, beta=beta) == 0
    assert theorem_b(3, 1.2 * r_lo, t=t, jnorm=jn, kappa=kappa, beta=beta) > 0
    k = theorem_b_kappa(3, [0.5, 5.0], t=t, jnorm=jn, kappa=kappa, beta=beta)
    assert set(k.tolist()) <= set(kappa.tolist())
    np.testing.assert_allclose(threshold(2.0, 0.5, t=1.0, jnorm=2.0), (1 + 0.5 * 4 / 2) / 4)
    assert threshold(1.0, 0.0, t=1.0, jnorm=0.0) == np.inf


def test_union_bound_sums_and_caps():
    per = np.array([[0.1, 0.5], [0.2, 0.7]])
    np.testing.assert_allclose(union_bound(per), [0.3, 1.0])


def test_closed_form_dominates_the_exact_goe_average():
    rho = np.geomspace(0.5, 300, 30)
    for d in (50, 100, 1000):
        for f in (1.5, 0.0, -1.5):
            mu = f * math.sqrt(2 / d)
            exact = goe_average_probability(d, rho, t=1, jnorm=1, mu=mu, sigma=1)
            assert np.all(closed_form(d, rho, t=1, jnorm=1, mu=mu, sigma=1) >= exact)
    # the trapezoid against adaptive quadrature, and against Monte Carlo over W and theta
    d, mu = 40, 0.2

    def integrand(x, r):
        log_p = 0.5 * (d - 3) * np.log1p(-x * x) - special.betaln(0.5, 0.5 * (d - 1))
        return np.exp(log_p) * special.ndtr(-math.sqrt(2 * d) * (1 + r * x + mu * r * r / 2) / r**2)

    for r in (1.5, 4.0, 40.0):
        ref = integrate.quad(integrand, -1, 1, args=(r,), epsabs=0, epsrel=1e-10, limit=200)[0]
        value = goe_average_probability(d, r, t=1, jnorm=1, mu=mu, sigma=1)
        assert value == pytest.approx(ref, rel=1e-7)
    rng = np.random.default_rng(3)
    d, n = 20, 10_000
    g = rng.standard_normal((n, d, d))
    w = (g + np.swapaxes(g, 1, 2)) / math.sqrt(2 * d)
    theta = _sphere(rng, n, d)
    lin, form = theta[:, 0], np.einsum("ni,nij,nj->n", theta, w, theta)
    for r in (2.0, 10.0):
        hits = np.sum(1 + r * lin + 0.5 * r * r * (mu + form) < 0)
        assert _within(goe_average_probability(d, r, t=1, jnorm=1, mu=mu, sigma=1), hits, n)


# ---- T9: the poster's formula is not a bound ----------------------------------------------


def test_poster_counterexamples():
    rng = np.random.default_rng(9)
    d, n = 100, 100_000
    first = _sphere(rng, n, d)[:, 0]  # -J_hat^T theta, by symmetry
    # toward: grad^2(-F) = 0.4 I, t = 0.8, |J| = 0.6, rho = 3 (poster kappa = 0.2)
    t, jn, rho = 0.8, 0.6, 3.0
    p_toward = np.mean(t - rho * jn * first - 0.2 * rho**2 <= 0)
    exact = 1 - float(sphere_tail(d, (0.2 * rho**2 - t) / (rho * jn)))
    assert p_toward == pytest.approx(exact, abs=1e-4) and exact > 0.9999
    poster = float(poster_formula(d, rho, kappa=0.2, beta=0.0))
    assert poster == pytest.approx(1.0e-4, rel=0.05) and poster < 1e-3 * exact
    # Theorem B with A = -0.4 I (beta = 0 at kappa = -0.4) is exact here
    assert float(theorem_b(d, rho, t=t, jnorm=jn, kappa=[-0.4], beta=[0.0])) == pytest.approx(exact)
    # away: grad^2 F = 0.02 I, t = |J| = 1, rho = 20
    rho = 20.0
    p_away = np.mean(1 - rho * first + 0.01 * rho**2 <= 0)
    exact = float(sphere_tail(d, 0.25))
    assert exact == pytest.approx(5.8e-3, rel=0.01) and _within(exact, p_away * n, n)
    poster = float(poster_formula(d, rho, kappa=0.02, beta=0.0))
    assert poster == pytest.approx(2.6e-3, rel=0.01) and poster < exact - 5 * math.sqrt(exact / n)
    assert float(theorem_b(d, rho, t=1, jnorm=1, kappa=[0.02], beta=[0.0])) == pytest.approx(exact)


def test_b2_bound_holds_for_isotropic_curvature():
    d, c, t = 50, 0.3, 1.0
    j = np.zeros(d)
    j[0] = 1.0
    a = c * np.eye(d)
    dist = exact_distance(t, j, a)
    g_b = float(np.linalg.norm(j + a @ dist.delta))
    rho = np.geomspace(dist.radius * 1.01, 50, 15)
    exact = sphere_tail(d, (t + 0.5 * c * rho**2) / rho)
    b2 = b2_bound(d, rho, r_star=dist.radius, g_b=g_b, kappa=[c], beta_b=[0.0])
    assert np.all(b2 >= exact - 1e-12) and np.all(b2 <= 1)


# ---- input checks --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda: sphere_tail(1, 0.1),
        lambda: sphere_tail(2.5, 0.1),
        lambda: sphere_tail(5, np.nan),
        lambda: theorem_b(10, 0.0, t=1, jnorm=1, kappa=[0], beta=[0.1]),
        lambda: theorem_b(10, -1.0, t=1, jnorm=1, kappa=[0], beta=[0.1]),
        lambda: theorem_b(10, np.inf, t=1, jnorm=1, kappa=[0], beta=[0.1]),
        lambda: theorem_b(10, 1.0, t=-1, jnorm=1, kappa=[0], beta=[0.1]),
        lambda: theorem_b(10, 1.0, t=1, jnorm=np.nan, kappa=[0], beta=[0.1]),
        lambda: theorem_b(10, 1.0, t=1, jnorm=1, kappa=[0, 1], beta=[0.1]),
        lambda: theorem_b(10, 1.0, t=1, jnorm=1, kappa=[0], beta=[1.5]),
        lambda: theorem_b(10, 1.0, t=1, jnorm=1, kappa=[0], beta=[0.1], tail="gauss"),
        lambda: beta_imhof([], 0.0),
        lambda: beta_imhof([1.0, np.nan], 0.0),
        lambda: beta_chernoff([1.0, 2.0], np.inf),
        lambda: beta_goe(10, 0.0, mu=0.0, sigma=0.0),
        lambda: closed_form(1, 1.0, t=1, jnorm=1, mu=0, sigma=1),
        lambda: goe_average_probability(2, 1.0, t=1, jnorm=1, mu=0, sigma=1),
        lambda: poster_formula(10, 0.0, kappa=0.1, beta=0.0),
        lambda: kappa_grid([np.inf, 1.0]),
        lambda: union_bound([0.5, np.nan]),
        lambda: b2_bound(10, 1.0, r_star=0.0, g_b=1.0, kappa=[0.1], beta_b=[0.0]),
    ],
)
def test_bad_input_raises_one_line_value_error(call):
    with pytest.raises(ValueError) as info:
        call()
    assert "\n" not in str(info.value)
