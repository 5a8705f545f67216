"""Exact minimal distance to the zero set of a quadratic (theory.md §3), float64 numpy.

Given ``q(δ) = t + gᵀδ + ½ δᵀAδ`` with ``t ≥ 0``, find ``δ* = argmin{|δ| : q(δ) ≤ 0}`` and
``r* = |δ*|`` (``∞`` if ``q > 0`` everywhere). This is the trust-region subproblem read
backwards: with ``A = Q diag(a) Qᵀ``, ``γ = Qᵀg``, ``σ_lo = max(0, −a₁)``, the path
``δ(σ) = −(A + σI)⁻¹g`` has (E5)

    φ(σ) = q(δ(σ)) = t − Σ γᵢ² (aᵢ + 2σ) / (2 (aᵢ + σ)²),   φ'(σ) = σ δᵀ(A + σI)⁻¹δ > 0,

and ``r* = |δ(σ*)|`` at the unique root of ``φ`` (E6), found in ``log(σ − σ_lo)`` by bracketing
and Brent's method; the hard case (E7) and the empty case are handled in closed form. Cost
``O(d³)``: meant for tests and small models, not for network-sized inputs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import brentq

Case = Literal["zero", "root", "hard", "boundary", "empty"]
_HARD_RTOL = 1e-10  # theory.md §3 step 5(b)
_CLUSTER_RTOL = 1e-12  # eigenvalues this close (relative to max|a|) to a₁ form I₀
_EPS = float(np.finfo(np.float64).eps)
_LOG_TINY = math.log(float(np.finfo(np.float64).tiny))
_LOG_MAX = math.log(1e300)

__all__ = ["Certificate", "QuadraticDistance", "certify", "exact_distance", "quadratic_value"]


@dataclass(frozen=True)
class QuadraticDistance:
    """Result of :func:`exact_distance`.

    Attributes:
        delta: ``(d,)`` minimiser ``δ*`` (``NaN`` when ``radius = ∞``).
        radius: ``r* = |δ*|`` (``∞`` when ``q > 0`` everywhere, ``0`` when ``t = 0``).
        sigma: multiplier ``σ*`` with ``∇q(δ*) = −σ*δ*`` (``∞`` when ``t = 0``, ``NaN`` when
            ``radius = ∞``).
        case: ``"zero"`` (``t = 0``), ``"root"`` (E6), ``"hard"`` (E7), ``"boundary"``
            (``φ(σ_lo) = 0``, convex), ``"empty"`` (``r* = ∞``).
    """

    delta: NDArray[np.float64]
    radius: float
    sigma: float
    case: Case


def quadratic_value(t: float, g: ArrayLike, a: ArrayLike, delta: ArrayLike) -> float:
    """``q(δ) = t + gᵀδ + ½ δᵀAδ`` (theory.md E1)."""
    gv, av, dv = (np.asarray(x, dtype=np.float64) for x in (g, a, delta))
    return float(t + gv @ dv + 0.5 * dv @ av @ dv)


def _validate(t: float, g: ArrayLike, a: ArrayLike) -> tuple[NDArray[np.float64], ...]:
    gv = np.asarray(g, dtype=np.float64)
    av = np.asarray(a, dtype=np.float64)
    if gv.ndim != 1 or av.shape != (gv.size, gv.size):
        raise ValueError(f"need g of shape (d,) and A of shape (d, d), got {gv.shape}, {av.shape}")
    if not (np.isfinite(t) and np.all(np.isfinite(gv)) and np.all(np.isfinite(av))):
        raise ValueError("t, g and A must be finite")
    if t < 0:
        raise ValueError(f"t must be non-negative, got {t}")
    if not np.allclose(av, av.T, rtol=1e-10, atol=1e-12 * max(1.0, float(np.abs(av).max()))):
        raise ValueError("A must be symmetric")
    return gv, 0.5 * (av + av.T)


def exact_distance(t: float, g: ArrayLike, a: ArrayLike) -> QuadraticDistance:
    """Exact ``δ*``, ``r*``, ``σ*`` for ``min |δ|`` s.t. ``q(δ) ≤ 0`` (theory.md §3, E5–E7).

    Args:
        t: ``q(0) ≥ 0`` (the margin).
        g: ``(d,)`` gradient ``J``.
        a: ``(d, d)`` symmetric Hessian ``A`` of the margin (``A = −M``).

    Returns:
        A :class:`QuadraticDistance`.

    Raises:
        ValueError: on bad shapes, non-finite input, asymmetric ``A`` or ``t < 0``.
    """
    gv, av = _validate(t, g, a)
    d = gv.size
    t = float(t)
    if t == 0.0:
        return QuadraticDistance(np.zeros(d), 0.0, math.inf, "zero")
    evals, q_mat = np.linalg.eigh(av)
    gamma = q_mat.T @ gv
    a1 = float(evals[0])
    amax = float(np.abs(evals).max())
    sigma_lo = max(0.0, -a1)
    in_i0 = evals <= a1 + _CLUSTER_RTOL * amax
    offset = np.where(in_i0, 0.0, evals + sigma_lo)  # aᵢ + σ_lo, exactly 0 on I₀
    if a1 > 0:  # σ_lo = 0 and φ(0) is finite: I₀ keeps its own (positive) offsets
        offset = evals.copy()
    g_i0 = float(np.linalg.norm(gamma[in_i0]))
    scale = float(np.linalg.norm(gv)) + math.sqrt(t * amax)
    hard_zero = g_i0 <= _HARD_RTOL * scale
    gamma2 = gamma * gamma

    def phi(y: float) -> float:
        """φ(σ_lo + y) with every aᵢ + σ evaluated as offsetᵢ + y."""
        den = offset + y
        return t - float(np.sum(gamma2 * (den + sigma_lo + y) / (2.0 * den * den)))

    def delta_at(y: float) -> NDArray[np.float64]:
        return np.asarray(q_mat @ (-gamma / (offset + y)), dtype=np.float64)

    # φ_lo: limit as σ ↓ σ_lo (theory.md §3 step 3).
    if a1 > 0:
        phi_lo = phi(0.0)
    elif not hard_zero:
        phi_lo = -math.inf
    else:
        keep = ~in_i0
        den = offset[keep]
        phi_lo = t - float(np.sum(gamma2[keep] * (den + sigma_lo) / (2.0 * den * den)))

    if phi_lo < 0:
        y_star = _solve_log(phi, start=max(amax, scale * scale / t, 1e-300))
        if y_star is not None:
            delta = delta_at(y_star)
            return QuadraticDistance(delta, float(np.linalg.norm(delta)), sigma_lo + y_star, "root")
        phi_lo = 0.0  # φ < 0 only below the float range of y: the continuous limit φ_lo = 0
    # φ_lo ≥ 0
    keep = ~in_i0 if a1 <= 0 else np.ones(d, dtype=bool)
    coef = np.zeros(d)
    coef[keep] = -gamma[keep] / offset[keep]
    delta_lo = q_mat @ coef
    if a1 >= 0:  # (a): convex, q ≥ φ_lo
        if phi_lo > 0:
            return QuadraticDistance(np.full(d, np.nan), math.inf, math.nan, "empty")
        return QuadraticDistance(delta_lo, float(np.linalg.norm(delta_lo)), sigma_lo, "boundary")
    # (b) hard case (E7); a tiny γ_I₀ below the threshold is kept in the step along z, solving
    # ½|a₁|τ² + |γ_I₀|τ = φ_lo exactly, which is (E7) when γ_I₀ = 0.
    gamma_i0 = np.where(in_i0, gamma, 0.0)
    if g_i0 > 0:
        z_coef = -gamma_i0 / g_i0
    else:
        z_coef = np.zeros(d)
        z_coef[int(np.argmax(in_i0))] = 1.0
    tau = 2.0 * phi_lo / (g_i0 + math.sqrt(g_i0 * g_i0 + 2.0 * (-a1) * phi_lo))
    delta = delta_lo + tau * (q_mat @ z_coef)
    return QuadraticDistance(delta, float(np.linalg.norm(delta)), sigma_lo, "hard")


def _solve_log(phi: Callable[[float], float], *, start: float) -> float | None:
    """Root ``y*`` of the increasing ``φ(σ_lo + y)``, searched in ``log y``: bracket by steps
    that double, then Brent. ``None`` if ``φ < 0`` only below the smallest float ``y``."""
    s0 = math.log(start)
    f0 = phi(start)
    if f0 == 0.0:
        return start
    lo = hi = s0
    step = 1.0
    for _ in range(64):
        if f0 < 0:  # φ → t > 0 as y → ∞
            lo, hi = hi, hi + step
            if hi > _LOG_MAX or phi(math.exp(hi)) >= 0:
                hi = min(hi, _LOG_MAX)
                break
        else:  # φ → φ_lo < 0 as y → 0
            hi, lo = lo, lo - step
            if lo < _LOG_TINY:
                return None
            if phi(math.exp(lo)) <= 0:
                break
        step *= 2.0
    else:  # pragma: no cover - 64 doublings span every float
        raise RuntimeError("could not bracket the root of phi")
    if phi(math.exp(lo)) == 0.0:
        return math.exp(lo)
    root = brentq(lambda s: phi(math.exp(s)), lo, hi, xtol=1e-14, rtol=4 * _EPS, maxiter=500)
    return math.exp(float(root))


@dataclass(frozen=True)
class Certificate:
    """Optimality certificate (theory.md E8) of a :class:`QuadraticDistance`.

    Attributes:
        q_residual: ``|q(δ*)|`` relative to ``t + |g| r* + ½ |A| r*²``.
        stationarity: ``|∇q(δ*) + σ*δ*|`` relative to ``|g| + |A| r*``.
        sigma_ok: ``σ* ≥ σ_lo`` (up to rounding).
        psd_ok: ``A + σ*I ⪰ 0`` (up to rounding).
        ok: all four hold within the tolerance (for ``r* = ∞``: ``A ⪰ 0`` and ``inf q > 0``).
    """

    q_residual: float
    stationarity: float
    sigma_ok: bool
    psd_ok: bool
    ok: bool


def certify(
    t: float, g: ArrayLike, a: ArrayLike, result: QuadraticDistance, *, rtol: float = 1e-8
) -> Certificate:
    """Check (E8): ``q(δ*) = 0``, ``∇q(δ*) = −σ*δ*``, ``σ* ≥ σ_lo``, ``A + σ*I ⪰ 0``.

    Together these make ``δ*`` a global minimiser of ``q`` on the ball of radius ``r*`` with
    ``q = 0`` there, hence the minimal distance. Case ``"zero"`` is certified by ``t = 0``;
    ``"empty"`` by ``A ⪰ 0`` and ``inf q = t − ½ gᵀA⁺g > 0`` with ``g ∈ range(A)``.

    Args:
        t, g, a: the quadratic, as for :func:`exact_distance`.
        result: what :func:`exact_distance` returned.
        rtol: relative tolerance of every check.

    Returns:
        A :class:`Certificate`.
    """
    gv, av = _validate(t, g, a)
    evals, q_mat = np.linalg.eigh(av)
    amax = max(float(np.abs(evals).max()), 1e-300)
    if result.case == "zero":
        ok = t == 0.0 and result.radius == 0.0
        return Certificate(0.0 if ok else math.inf, 0.0, ok, ok, ok)
    if result.case == "empty":
        gamma = q_mat.T @ gv
        flat = evals <= rtol * amax
        psd = bool(evals[0] >= -rtol * amax)
        in_range = bool(np.linalg.norm(gamma[flat]) <= rtol * (np.linalg.norm(gv) + 1e-300))
        inf_q = t - 0.5 * float(np.sum(gamma[~flat] ** 2 / evals[~flat]))
        ok = psd and in_range and inf_q > 0 and not math.isfinite(result.radius)
        return Certificate(math.nan, math.nan, psd, psd, ok)
    delta, sigma, r = result.delta, result.sigma, result.radius
    q_scale = t + float(np.linalg.norm(gv)) * r + 0.5 * amax * r * r
    q_res = abs(quadratic_value(t, gv, av, delta)) / q_scale
    grad = gv + av @ delta
    stat = float(np.linalg.norm(grad + sigma * delta)) / (float(np.linalg.norm(gv)) + amax * r)
    sigma_lo = max(0.0, -float(evals[0]))
    sigma_ok = sigma >= sigma_lo - rtol * amax
    psd_ok = float(evals[0]) + sigma >= -rtol * amax
    ok = q_res <= rtol and stat <= rtol and sigma_ok and psd_ok
    return Certificate(q_res, stat, bool(sigma_ok), bool(psd_ok), bool(ok))
