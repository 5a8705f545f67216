r"""Figure 5, redone: Theorem B against Monte Carlo on a quadratic GOE classifier (theory.md §5).

Binary classifier :math:`F(x+v)=q(v)=t+J^\top v+\tfrac12v^\top Av`, misclassified iff
:math:`q<0`, with :math:`A=\mu I+\sigma W` (one fixed-seed GOE draw ``W`` per dimension) and a
random unit ``J``. For each dimension ``d`` and shift ``mu`` the panel holds the Monte-Carlo
probability with a Clopper–Pearson interval, the corrected bound (E17) with Imhof (E13) and
Chernoff (E14) :math:`\beta`, the closed form (E16) against the exact ``W``-averaged probability,
the poster's formula (**not a bound**), the lower bound (E2) and the exact distance (§3,
:mod:`seqrobust.bounds.quadratic`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from seqrobust._safeio import write_text_atomic
from seqrobust.bounds.beta import beta_chernoff, beta_goe, beta_imhof
from seqrobust.bounds.curvature import curvature_lower_bound
from seqrobust.bounds.quadratic import exact_distance
from seqrobust.bounds.random_noise import (
    closed_form,
    goe_average_probability,
    kappa_grid,
    poster_formula,
    theorem_b,
    theorem_b_kappa,
)
from seqrobust.measure.montecarlo import (
    FloatArray,
    clopper_pearson,
    count_negative,
    quadratic_direction_stats,
)
from seqrobust.runs.outputs import check_targets, save_figure, write_json


@dataclass(frozen=True)
class Figure5Config:
    """Protocol of theory.md §5 (defaults) — :meth:`quick` gives a seconds-long version."""

    dims: tuple[int, ...] = (100, 1000)
    """Dimensions ``d``, one row of panels each."""
    samples: tuple[int, ...] = (1_000_000, 400_000)
    """Monte-Carlo directions per dimension (same order as ``dims``)."""
    mu_factors: tuple[float, ...] = (1.5, 0.0, -1.5)
    r"""Shifts :math:`\mu=f\,\sigma\sqrt{2/d}`, one panel each (plateaus ~0.07, 0.5, 0.93)."""
    sigma: float = 1.0
    t: float = 1.0
    jnorm: float = 1.0
    rho_min: float = 0.5
    rho_max: float = 300.0
    num_rho: int = 30
    num_kappa: int = 300
    plateau_rho: float = 20.0
    """Radii at or above this (in units ``t/|J|``) count as the plateau."""
    seed: int = 0

    def __post_init__(self) -> None:
        if len(self.dims) != len(self.samples) or not self.dims:
            raise ValueError("dims and samples must be non-empty and of equal length")
        if any(d < 3 for d in self.dims) or any(n < 1 for n in self.samples):
            raise ValueError("every d must be >= 3 and every sample count >= 1")
        if not (0 < self.rho_min < self.rho_max) or self.num_rho < 2 or self.num_kappa < 2:
            raise ValueError("need 0 < rho_min < rho_max, num_rho >= 2 and num_kappa >= 2")
        if self.sigma <= 0 or self.t <= 0 or self.jnorm <= 0:
            raise ValueError("sigma, t and jnorm must be > 0")
        if self.seed < 0:
            raise ValueError(f"seed must be >= 0, got {self.seed}")

    @classmethod
    def quick(cls, *, seed: int = 0) -> Figure5Config:
        """Small dimensions and sample counts: runs in a few seconds."""
        return cls(dims=(30, 100), samples=(40_000, 20_000), num_rho=16, num_kappa=60, seed=seed)

    def radii(self) -> FloatArray:
        """The log-spaced radius grid ``(num_rho,)`` in units of ``t/|J|``."""
        return np.geomspace(self.rho_min, self.rho_max, self.num_rho) * self.t / self.jnorm


@dataclass
class Panel:
    """Every number of one ``(d, mu)`` panel (arrays are over the radius grid)."""

    d: int
    mu: float
    n: int
    lam_min: float
    lam_max: float
    r_lower: float
    r_star: float
    beta_at_zero: dict[str, float]
    rho: list[float]
    count: list[int]
    p_hat: list[float]
    ci_low: list[float]
    ci_high: list[float]
    bound_imhof: list[float]
    bound_chernoff: list[float]
    kappa_imhof: list[float]
    closed_form: list[float]
    p_avg: list[float]
    poster: list[float]
    poster_min: list[float]
    checks: dict[str, bool] = field(default_factory=dict)
    ratios: dict[str, float] = field(default_factory=dict)


def goe(d: int, rng: np.random.Generator) -> FloatArray:
    r"""A GOE matrix :math:`W=(G+G^\top)/\sqrt{2d}` (E15), ``(d, d)``, spectrum ~ [-2, 2]."""
    g = rng.standard_normal((d, d))
    return (g + g.T) / math.sqrt(2.0 * d)


def poster_curves(
    d: int, rho: FloatArray, kappa: FloatArray, beta: FloatArray, k_star: FloatArray
) -> tuple[FloatArray, FloatArray]:
    r"""The poster's formula (E22), **not a bound**, in two readings, both capped at 1.

    In the poster's variables (``t = |J| = 1``) its ``kappa_p`` is an upper bound on half the
    toward-curvature, i.e. ``kappa_p = -kappa / 2`` for our signed lower bound ``kappa`` on
    :math:`\theta^\top A\theta`, failing with probability ``beta(kappa)``.

    Returns:
        ``(same, minimised)``, each ``(R,)``: ``same`` evaluates it at the ``kappa`` (and beta)
        that minimises the valid bound at each radius, so differences come from the formula
        alone; ``minimised`` takes the minimum over the grid points the poster admits
        (``kappa_p > 0`` and ``1 - 2 kappa_p > 0`` as its derivation (E18) needs, i.e.
        ``-1 < kappa < 0``; 1 if there are none).
    """
    idx = np.searchsorted(kappa, k_star).clip(0, kappa.size - 1)
    same = poster_formula(d, rho, kappa=-0.5 * kappa[idx], beta=beta[idx])
    keep = (kappa > -1.0) & (kappa < 0.0)
    if not keep.any():
        return np.minimum(1.0, same), np.ones_like(rho)
    kp, bp = -0.5 * kappa[keep], beta[keep]
    values = poster_formula(d, rho[:, None], kappa=kp[None, :], beta=bp[None, :])
    return np.minimum(1.0, same), np.minimum(1.0, values.min(axis=1))


def run_panel(
    cfg: Figure5Config,
    *,
    d: int,
    mu: float,
    w_eigenvalues: FloatArray,
    gamma: FloatArray,
    a: FloatArray,
    b: FloatArray,
) -> Panel:
    """One ``(d, mu)`` panel from the draw's spectrum and the shared direction statistics."""
    rho, t, jn = cfg.radii(), cfg.t, cfg.jnorm
    lam = mu + cfg.sigma * w_eigenvalues
    kappa = kappa_grid(lam, num=cfg.num_kappa)
    b_imhof = beta_imhof(lam, kappa)
    b_chern = beta_chernoff(lam, kappa)
    bound_i = theorem_b(d, rho, t=t, jnorm=jn, kappa=kappa, beta=b_imhof)
    bound_c = theorem_b(d, rho, t=t, jnorm=jn, kappa=kappa, beta=b_chern)
    k_star = theorem_b_kappa(d, rho, t=t, jnorm=jn, kappa=kappa, beta=b_imhof)
    poster, poster_min = poster_curves(d, rho, kappa, b_imhof, k_star)
    count = count_negative(a, b, rho, t=t, shift=mu)
    n = a.size
    lo, hi = clopper_pearson(count, n)
    r_lower = float(curvature_lower_bound(t, jn, float(-lam.min())))
    r_star = exact_distance(t, gamma, np.diag(lam)).radius  # in A's eigenbasis
    panel = Panel(
        d=d, mu=mu, n=n, lam_min=float(lam.min()), lam_max=float(lam.max()),
        r_lower=r_lower, r_star=r_star,
        beta_at_zero={
            "imhof": float(beta_imhof(lam, 0.0)),
            "chernoff": float(beta_chernoff(lam, 0.0)),
            "goe_average": float(beta_goe(d, 0.0, mu=mu, sigma=cfg.sigma)),
        },
        rho=rho.tolist(), count=count.tolist(), p_hat=(count / n).tolist(),
        ci_low=lo.tolist(), ci_high=hi.tolist(),
        bound_imhof=bound_i.tolist(), bound_chernoff=bound_c.tolist(),
        kappa_imhof=k_star.tolist(),
        closed_form=closed_form(d, rho, t=t, jnorm=jn, mu=mu, sigma=cfg.sigma).tolist(),
        p_avg=goe_average_probability(d, rho, t=t, jnorm=jn, mu=mu, sigma=cfg.sigma).tolist(),
        poster=poster.tolist(), poster_min=poster_min.tolist(),
    )
    _assess(panel, cfg)
    return panel


def _assess(p: Panel, cfg: Figure5Config) -> None:
    """Fill the "must hold" checks of theory.md §5 step 5 and the tightness ratios."""
    rho, p_hat = np.array(p.rho), np.array(p.p_hat)
    bi, bc, lo = np.array(p.bound_imhof), np.array(p.bound_chernoff), np.array(p.ci_low)
    p.checks = {
        "imhof_bound_ge_ci_low": bool(np.all(bi >= lo)),
        "chernoff_bound_ge_ci_low": bool(np.all(bc >= lo)),
        "chernoff_ge_imhof": bool(np.all(bc >= bi - 1e-12)),
        "p_hat_zero_below_r_star": bool(np.all(p_hat[rho < p.r_star] == 0)),
        "closed_form_ge_p_avg": bool(np.all(np.array(p.closed_form) >= np.array(p.p_avg))),
        "poster_below_ci_low_somewhere": bool(np.any(np.array(p.poster) < lo)),
        "poster_min_below_ci_low_somewhere": bool(np.any(np.array(p.poster_min) < lo)),
    }
    seen = p_hat > 0
    plateau = seen & (rho >= cfg.plateau_rho * cfg.t / cfg.jnorm)
    rare = seen & (p_hat < 1e-2)
    ratio = bi[seen] / p_hat[seen]
    p.ratios = {
        "plateau_bound_over_p_hat_min": float(np.min(bi[plateau] / p_hat[plateau]))
        if plateau.any() else math.nan,
        "plateau_bound_over_p_hat_max": float(np.max(bi[plateau] / p_hat[plateau]))
        if plateau.any() else math.nan,
        "worst_bound_over_p_hat": float(ratio.min()) if seen.any() else math.nan,
        "bound_over_p_hat_at_rho_max": float(bi[-1] / p_hat[-1]) if seen[-1] else math.nan,
        "worst_bound_over_ci_high": float(np.min(bi[seen] / np.array(p.ci_high)[seen]))
        if seen.any() else math.nan,
        "rare_log_ratio_min": float(np.min(np.log(bi[rare]) / np.log(p_hat[rare])))
        if rare.any() and np.all(bi[rare] < 1) else math.nan,
        "closed_over_p_avg_min": float(np.min(_safe_ratio(p.closed_form, p.p_avg))),
    }


def _safe_ratio(num: list[float], den: list[float]) -> FloatArray:
    n, dd = np.array(num), np.array(den)
    ok = dd > 1e-300
    return n[ok] / dd[ok] if ok.any() else np.array([math.nan])


def run_figure5(cfg: Figure5Config, *, progress: bool = False) -> list[Panel]:
    """All panels: one GOE draw and one random ``J`` per dimension, shared by its ``mu`` panels
    (and, via common random numbers, one set of directions for all radii and shifts)."""
    panels = []
    for d, num in zip(cfg.dims, cfg.samples, strict=True):
        rng = np.random.default_rng([cfg.seed, d])
        w = goe(d, rng)
        w_eig, q = np.linalg.eigh(w)
        j = rng.standard_normal(d)
        j *= cfg.jnorm / np.linalg.norm(j)
        gamma = q.T @ j
        a, b = quadratic_direction_stats(cfg.sigma * w_eig, gamma, num, rng=rng, progress=progress)
        for f in cfg.mu_factors:
            mu = f * cfg.sigma * math.sqrt(2.0 / d)
            panels.append(run_panel(cfg, d=d, mu=mu, w_eigenvalues=w_eig, gamma=gamma, a=a, b=b))
    return panels


_CSV_COLUMNS = (
    "rho", "count", "p_hat", "ci_low", "ci_high", "bound_imhof", "bound_chernoff",
    "kappa_imhof", "closed_form", "p_avg", "poster", "poster_min",
)


def write_figure5(panels: list[Panel], cfg: Figure5Config, out: Path) -> dict[str, Any]:
    """Write ``figure5.json`` (every number), ``figure5.csv`` and ``figure5.png`` to ``out``
    (inside it, never through a symlink).

    Returns:
        The summary (config, per-panel checks and ratios) that is also in the JSON.
    """
    from seqrobust.reporting.plots_noise import plot_figure5

    check_targets(out, "figure5.json", "figure5.csv", "figure5.png")
    out.mkdir(parents=True, exist_ok=True)
    summary = {
        "config": asdict(cfg),
        "all_checks_pass": all(
            v for p in panels for k, v in p.checks.items() if not k.startswith("poster")
        ),
        "panels": [
            {"d": p.d, "mu": p.mu, "r_lower": p.r_lower, "r_star": p.r_star,
             "beta_at_zero": p.beta_at_zero, "checks": p.checks, "ratios": p.ratios}
            for p in panels
        ],
    }
    record = {**summary, "panels": [asdict(p) for p in panels]}
    write_json(out, "figure5.json", record)
    lines = [",".join(("d", "mu", *_CSV_COLUMNS))]
    for p in panels:
        cols = [getattr(p, c) for c in _CSV_COLUMNS]
        for row in zip(*cols, strict=True):
            lines.append(",".join([str(p.d), repr(p.mu), *(repr(v) for v in row)]))
    write_text_atomic(out, "figure5.csv", "\n".join(lines) + "\n")
    save_figure(out, "figure5.png", lambda path: plot_figure5([asdict(p) for p in panels], path))
    return summary
