"""Figure-5 protocol at small sizes (theory.md §5, test T8) and its CLI."""

import json
import math

import numpy as np
import pytest
from scipy import stats

from seqrobust.cli import main
from seqrobust.measure.montecarlo import (
    clopper_pearson,
    count_negative,
    quadratic_direction_stats,
)
from seqrobust.studies.figure5 import Figure5Config, goe, run_figure5


def test_clopper_pearson_against_closed_forms_and_coverage():
    n, alpha = 50, 0.05
    lo, hi = clopper_pearson([0, n], n)
    assert lo[0] == 0 and hi[1] == 1
    assert hi[0] == pytest.approx(1 - (alpha / 2) ** (1 / n))  # k = 0: solve (1 - p)^n = alpha/2
    assert lo[1] == pytest.approx((alpha / 2) ** (1 / n))
    # exact coverage >= 95 % for a binomial with p = 0.3, n = 40 (sum over all outcomes)
    k = np.arange(41)
    lo, hi = clopper_pearson(k, 40)
    covered = (lo <= 0.3) & (0.3 <= hi)
    assert stats.binom.pmf(k, 40, 0.3)[covered].sum() >= 0.95
    with pytest.raises(ValueError):
        clopper_pearson(5, 4)


def test_direction_statistics_match_explicit_quadratic():
    rng = np.random.default_rng(1)
    d = 6
    w = goe(d, rng)
    lam, q = np.linalg.eigh(w)
    j = rng.standard_normal(d)
    gen = np.random.default_rng(2)
    a, b = quadratic_direction_stats(lam, q.T @ j, 40_000, rng=gen, chunk_elements=60)
    # moments over the sphere: E[a] = 0, E[a^2] = |J|^2/d, E[b] = tr(A)/(2d)
    n = a.size
    assert abs(a.mean()) < 4 * math.sqrt(j @ j / d / n)
    assert a.var() * d / (j @ j) == pytest.approx(1, abs=0.04)
    assert b.mean() == pytest.approx(lam.sum() / (2 * d), abs=4 * b.std() / math.sqrt(n))
    # the same directions in the original basis give the same q
    z = np.random.default_rng(2).standard_normal((10, d))
    z /= np.linalg.norm(z, axis=1, keepdims=True)
    theta = z @ q.T
    a2, b2 = quadratic_direction_stats(lam, q.T @ j, 10, rng=np.random.default_rng(2))
    np.testing.assert_allclose(a2, theta @ j, atol=1e-12)
    np.testing.assert_allclose(b2, 0.5 * np.einsum("ni,ij,nj->n", theta, w, theta), atol=1e-12)
    rho = np.array([0.5, 2.0])
    expect = [(1.0 + r * a2 + r * r * (b2 + 0.05) < 0).sum() for r in rho]
    assert count_negative(a2, b2, rho, t=1.0, shift=0.1).tolist() == expect


@pytest.fixture(scope="module")
def small_panels():
    cfg = Figure5Config(dims=(20, 60), samples=(30_000, 10_000), num_rho=12, num_kappa=40, seed=3)
    return cfg, run_figure5(cfg)


def test_every_must_hold_item_at_small_sizes(small_panels):
    cfg, panels = small_panels
    assert len(panels) == 6
    for p in panels:
        rho, p_hat = np.array(p.rho), np.array(p.p_hat)
        imhof, chern = np.array(p.bound_imhof), np.array(p.bound_chernoff)
        assert np.all(imhof >= np.array(p.ci_low)) and np.all(chern >= np.array(p.ci_low))
        assert np.all(chern >= imhof - 1e-12)
        assert np.all(p_hat[rho < p.r_star] == 0) and p.r_lower <= p.r_star
        assert np.all(np.array(p.closed_form) >= np.array(p.p_avg))
        assert all(v for k, v in p.checks.items() if not k.startswith("poster")), p.checks
        # the plateau is reached and the bound is not vacuous there (finite-d tightness)
        assert p_hat[-1] > 0.02 and imhof[-1] <= min(1.0, 2 * p_hat[-1] + 0.05)
    # plateaus follow mu: ~Phi(-1.5), 1/2, Phi(1.5) at large rho
    for d in cfg.dims:
        tops = [p.p_hat[-1] for p in panels if p.d == d]
        assert tops[0] < tops[1] < tops[2]
    # the poster's formula, minimised over the curvatures it admits, falls below Monte Carlo
    assert any(p.checks["poster_min_below_ci_low_somewhere"] for p in panels)


def test_cli_quick_writes_png_csv_json(tmp_path, capsys):
    assert main(["figure5", "--quick", "--out", str(tmp_path), "--quiet", "--seed", "1"]) == 0
    assert "all checks pass" in capsys.readouterr().out
    record = json.loads((tmp_path / "figure5.json").read_text())
    cfg = Figure5Config.quick(seed=1)
    assert record["all_checks_pass"] and len(record["panels"]) == 3 * len(cfg.dims)
    rows = (tmp_path / "figure5.csv").read_text().strip().splitlines()
    assert len(rows) == 1 + 3 * len(cfg.dims) * cfg.num_rho
    assert (tmp_path / "figure5.png").stat().st_size > 10_000


def test_config_rejects_bad_values():
    with pytest.raises(ValueError):
        Figure5Config(dims=(100,), samples=(10, 10))
    with pytest.raises(ValueError):
        Figure5Config(rho_min=0.0)
    assert main(["figure5", "--quick", "--seed", "-1"]) == 2
