r"""Probability of misclassification under random noise on a sphere: corrected Theorem B
(theory.md §4, (E12), (E16)–(E18)).

Setting: margin ``t = F(x) >= 0``, gradient norm ``|J|``, Hessian ``A`` of ``F`` at ``x``; noise
:math:`v=\rho\theta`, ``theta`` uniform on the unit sphere of :math:`\mathbb R^d`. Under (H1)
(a changed prediction implies :math:`q(v)\le0`) and (H3) (:math:`P(\theta^\top A\theta<\kappa)\le
\beta(\kappa)`), for every real :math:`\kappa`

.. math:: P(\hat k(x+v)\ne\hat k(x))\le T_d(s(\rho,\kappa))+\beta(\kappa),\qquad
   s=(t+\kappa\rho^2/2)/(\rho|J|).

:func:`theorem_b` minimises this over a grid of :math:`\kappa` and caps it at 1 (E17).
:func:`poster_formula` is the poster's expression, kept **only as a labelled comparison: it is
not a bound** (theory.md (E22)).
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from seqrobust.bounds.sphere import (
    FloatArray,
    cap_bound,
    check_dim,
    check_finite,
    check_margin,
    check_rho,
    sphere_tail,
    threshold,
)

Tail = Literal["exact", "cap"]


def kappa_grid(eigenvalues: ArrayLike, *, num: int = 300, concentrate: bool = False) -> FloatArray:
    r"""``num`` curvatures in :math:`[\lambda_{\min}(A),\lambda_{\max}(A)]`, ascending.

    The grid always contains :math:`\lambda_{\min}`, where :math:`\beta=0` and Theorem B is the
    deterministic bound (0 for :math:`\rho\le\underline r` of (E2)). Evenly spaced by default;
    with ``concentrate`` half the points go to :math:`m\pm8s`, where
    :math:`\theta^\top A\theta` concentrates (:math:`m=\mathrm{tr}A/d`,
    :math:`s^2=2\sum_i(\lambda_i-m)^2/(d(d+2))`, its exact variance), which is where
    :math:`\beta` moves from 0 to 1 for large ``d``. Any grid gives a valid bound.

    Raises:
        ValueError: on empty or non-finite eigenvalues, or ``num < 2``.
    """
    lam = check_finite(eigenvalues, name="eigenvalues").reshape(-1)
    if lam.size == 0:
        raise ValueError("eigenvalues must not be empty")
    if num < 2:
        raise ValueError(f"num must be >= 2, got {num}")
    lo, hi = float(lam.min()), float(lam.max())
    if not concentrate:
        return np.linspace(lo, hi, num)
    d, m = lam.size, float(lam.mean())
    s = math.sqrt(2.0 * float(np.sum(np.square(lam - m))) / (d * (d + 2)))
    inner = np.linspace(max(lo, m - 8 * s), min(hi, m + 8 * s), num - num // 2)
    return np.unique(np.concatenate([np.linspace(lo, hi, num // 2), inner]))


def _terms(
    d: int, rho: ArrayLike, t: float, jnorm: float, kappa: ArrayLike, beta: ArrayLike, tail: Tail
) -> tuple[FloatArray, FloatArray]:
    check_dim(d)
    r = check_rho(rho)
    k = check_finite(kappa, name="kappa").reshape(-1)
    b = check_finite(beta, name="beta").reshape(-1)
    if k.size == 0 or k.shape != b.shape:
        raise ValueError(f"kappa and beta must be non-empty, of equal size; got {k.size}, {b.size}")
    if np.any((b < 0) | (b > 1)):
        raise ValueError("beta must lie in [0, 1]")
    if tail not in ("exact", "cap"):
        raise ValueError(f"unknown tail {tail!r}; choose one of exact, cap")
    s = threshold(r[..., None], k, t=t, jnorm=jnorm)
    first = sphere_tail(d, s) if tail == "exact" else cap_bound(d, s)
    return r, first + b


def theorem_b(
    d: int,
    rho: ArrayLike,
    *,
    t: float,
    jnorm: float,
    kappa: ArrayLike,
    beta: ArrayLike,
    tail: Tail = "exact",
) -> FloatArray:
    r"""Corrected Theorem B (E12)/(E17), :math:`\min(1,\min_\kappa[T_d(s(\rho,\kappa))+\beta])`.

    Valid for any grid of :math:`\kappa` as long as each ``beta[j]`` bounds
    :math:`P(\theta^\top A\theta<\kappa_j)` (use :func:`~seqrobust.bounds.beta.beta_imhof` or
    :func:`~seqrobust.bounds.beta.beta_chernoff` for a fixed ``A``).

    Args:
        d: dimension ``>= 2``.
        rho: noise radii ``> 0``, any shape.
        t: margin ``F(x) >= 0``.
        jnorm: gradient norm ``|J| >= 0``.
        kappa: curvature grid ``(K,)``.
        beta: :math:`\beta(\kappa)` on that grid ``(K,)``, in ``[0, 1]``.
        tail: ``"exact"`` uses :math:`T_d` (E11); ``"cap"`` its bound :math:`e^{-ds^2/2}`.

    Returns:
        Upper bounds on the misclassification probability, the shape of ``rho``.

    Raises:
        ValueError: on ``d < 2``, ``rho <= 0``, negative ``t``/``jnorm``, mismatched or
            non-finite grids.
    """
    r, terms = _terms(d, rho, t, jnorm, kappa, beta, tail)
    return np.minimum(1.0, terms.min(axis=-1)).reshape(r.shape)


def theorem_b_kappa(
    d: int,
    rho: ArrayLike,
    *,
    t: float,
    jnorm: float,
    kappa: ArrayLike,
    beta: ArrayLike,
    tail: Tail = "exact",
) -> FloatArray:
    r"""The minimising :math:`\kappa` of :func:`theorem_b` at each radius (same arguments)."""
    r, terms = _terms(d, rho, t, jnorm, kappa, beta, tail)
    k = np.asarray(kappa, dtype=np.float64).reshape(-1)
    return k[terms.argmin(axis=-1)].reshape(r.shape)


def union_bound(per_class: ArrayLike) -> FloatArray:
    r"""Multi-class union bound :math:`\min(1,\sum_{k\ne\hat k}B_k)` (theory.md §4).

    Args:
        per_class: Theorem B bounds for each competitor ``k``, shape ``(K, ...)``, each computed
            from that competitor's margin :math:`t_k`, gradient and Hessian.

    Returns:
        Bounds of shape ``(...)``.

    Raises:
        ValueError: on values outside ``[0, 1]`` or NaN.
    """
    b = check_finite(per_class, name="per_class")
    if b.ndim == 0 or np.any((b < 0) | (b > 1)):
        raise ValueError("per_class must be an array of probabilities with a class axis first")
    return np.minimum(1.0, b.sum(axis=0))


def closed_form(
    d: int, rho: ArrayLike, *, t: float, jnorm: float, mu: float, sigma: float
) -> FloatArray:
    r"""Fully closed-form bound (E16) for the ``W``-averaged probability, :math:`A=\mu I+\sigma W`.

    :math:`P\le\tfrac32\exp(-\tfrac d2s^{\star2})`,
    :math:`s^\star=(t+\mu\rho^2/2)/(\rho|J|+\rho^2\sigma/\sqrt2)`, and 1 where
    :math:`t+\mu\rho^2/2<0`; capped at 1.

    Raises:
        ValueError: on ``d < 2``, ``rho <= 0``, ``sigma <= 0`` or bad ``t``/``jnorm``.
    """
    check_dim(d)
    r = check_rho(rho)
    check_margin(t=t, jnorm=jnorm)
    check_finite(mu, name="mu")
    if not (math.isfinite(sigma) and sigma > 0):
        raise ValueError(f"sigma must be a finite number > 0, got {sigma!r}")
    num = t + 0.5 * mu * r * r
    s_star = num / (r * jnorm + r * r * sigma / math.sqrt(2.0))
    out = np.where(num >= 0, 1.5 * np.exp(-0.5 * d * np.square(s_star)), 1.0)
    return np.minimum(1.0, out)


def goe_average_probability(
    d: int, rho: ArrayLike, *, t: float, jnorm: float, mu: float, sigma: float, points: int = 20001
) -> FloatArray:
    r"""Exact ``W``-averaged misclassification probability of the quadratic GOE classifier.

    :math:`P_{\rm avg}(\rho)=\int p_\theta(x)\,\Phi(-\sqrt{2d}(t+\rho|J|x+\mu\rho^2/2)/
    (\rho^2\sigma))\,dx`, :math:`p_\theta\propto(1-x^2)^{(d-3)/2}` on ``[-1, 1]`` (theory.md §5,
    step 4), by the trapezoidal rule on ``points`` nodes in the log domain, so that rare-event
    values (1e-100) keep their relative accuracy.

    Returns:
        Probabilities, the shape of ``rho``.

    Raises:
        ValueError: on ``d < 3`` (the density is then not bounded), ``rho <= 0``, ``sigma <= 0``.
    """
    check_dim(d)
    if d < 3:
        raise ValueError(f"goe_average_probability needs d >= 3, got {d}")
    r = check_rho(rho)
    check_margin(t=t, jnorm=jnorm)
    if not (math.isfinite(sigma) and sigma > 0):
        raise ValueError(f"sigma must be a finite number > 0, got {sigma!r}")
    x = np.linspace(-1.0, 1.0, points)[1:-1]
    h = x[1] - x[0]
    log_p = 0.5 * (d - 3) * np.log1p(-x * x) - special.betaln(0.5, 0.5 * (d - 1))
    rr = r.reshape(-1, 1)
    arg = -math.sqrt(2.0 * d) * (t + rr * jnorm * x + 0.5 * mu * rr * rr) / (rr * rr * sigma)
    total = special.logsumexp(log_p + special.log_ndtr(arg), axis=-1) + math.log(h)
    return np.minimum(1.0, np.exp(total)).reshape(r.shape)


def poster_formula(d: int, rho: ArrayLike, *, kappa: ArrayLike, beta: ArrayLike) -> FloatArray:
    r"""The poster's expression :math:`2\exp(-d(\kappa\rho^2-1)^2/(2\rho^2(1-2\kappa)^2))+\beta`.

    **Not a bound** (theory.md (E22)): the square hides the sign of :math:`1-\kappa\rho^2`, and
    both poster counterexamples exceed it. Provided only to plot it, labelled as such. Units
    ``t = |J| = 1``; ``kappa`` and ``beta`` broadcast against ``rho``.

    Raises:
        ValueError: on ``d < 2``, ``rho <= 0`` or non-finite values.
    """
    check_dim(d)
    r = check_rho(rho)
    k = check_finite(kappa, name="kappa")
    b = check_finite(beta, name="beta")
    with np.errstate(divide="ignore"):
        expo = d * np.square(k * r * r - 1.0) / (2.0 * r * r * np.square(1.0 - 2.0 * k))
    return 2.0 * np.exp(-expo) + b


def b2_bound(
    d: int,
    rho: ArrayLike,
    *,
    r_star: float,
    g_b: float,
    kappa: ArrayLike,
    beta_b: ArrayLike,
) -> FloatArray:
    r"""Variant B2 (E18), expanded at the boundary point :math:`x+\delta^\star`: a diagnostic,
    **not rigorous** (``beta_b`` depends on ``A`` through :math:`\delta^\star`).

    :math:`T_d(s_b)+\beta_b`, :math:`s_b=(g_br^\star+\kappa(\rho^2+r^{\star2})/2)/
    (\rho(g_b+\kappa r^\star))` where :math:`g_b+\kappa r^\star>0`, else 1; minimised over the
    ``kappa`` grid and capped at 1.

    Args:
        d: dimension.
        rho: radii ``> 0``, any shape.
        r_star: exact model distance :math:`r^\star>0`.
        g_b: gradient norm at the boundary point ``> 0``.
        kappa: grid ``(K,)``; ``beta_b`` (``(K,)``) the Monte-Carlo probability of its failure.

    Raises:
        ValueError: on bad dimensions, radii or non-finite values.
    """
    check_dim(d)
    r = check_rho(rho)[..., None]
    k = check_finite(kappa, name="kappa").reshape(-1)
    b = check_finite(beta_b, name="beta_b").reshape(-1)
    for name, value in (("r_star", r_star), ("g_b", g_b)):
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    den = g_b + k * r_star
    ok = den > 0
    s_b = (g_b * r_star + 0.5 * k * (r * r + r_star**2)) / (r * np.where(ok, den, 1.0))
    terms = np.where(ok, sphere_tail(d, s_b) + b, 1.0)
    return np.minimum(1.0, terms.min(axis=-1))
