r"""The curvature-event probability :math:`\beta(\kappa)` of Theorem B, four ways (theory.md §4).

:math:`\beta(\kappa)` bounds :math:`P(\theta^\top A\theta<\kappa)` for ``theta`` uniform on the
sphere (assumption (H3)). Writing :math:`\theta=g/|g|` with Gaussian ``g`` in ``A``'s eigenbasis,
:math:`\theta^\top A\theta<\kappa \iff \sum_i(\lambda_i-\kappa)g_i^2<0`, so given the spectrum

- :func:`beta_imhof` is the exact probability by Imhof's formula (E13);
- :func:`beta_chernoff` is the rigorous Chernoff bound (E14), 5–10x looser;

and for the shifted GOE model :math:`A=\mu I+\sigma W` averaged over ``W``

- :func:`beta_goe` is exact for the 1-D event (E15);
- :func:`beta_2d` is exact for the poster's 2-D event (looser, still valid).

All functions are float64 numpy/scipy and take ``kappa`` as a scalar or an array.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from numpy.typing import ArrayLike
from scipy import integrate, optimize, special

from seqrobust.bounds.sphere import FloatArray, check_dim, check_finite

_SQRT2 = math.sqrt(2.0)


def _spectrum(eigenvalues: ArrayLike) -> FloatArray:
    lam = check_finite(eigenvalues, name="eigenvalues").reshape(-1)
    if lam.size == 0:
        raise ValueError("eigenvalues must not be empty")
    return lam


def _imhof_one(c: FloatArray, *, epsabs: float) -> float:
    if np.all(c >= 0):
        return 0.0
    if np.all(c <= 0):
        return 1.0
    c = c[c != 0] / np.max(np.abs(c))  # P(sum c g^2 < 0) is scale invariant

    def integrand(u: float) -> float:
        if u == 0.0:
            return 0.5 * float(np.sum(c))
        cu = c * u
        theta = 0.5 * float(np.sum(np.arctan(cu)))
        log_den = math.log(u) + 0.25 * float(np.sum(np.log1p(cu * cu)))
        return math.sin(theta) * math.exp(-log_den)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", integrate.IntegrationWarning)
        head = integrate.quad(integrand, 0.0, 8.0, epsabs=epsabs, epsrel=1e-10, limit=400)[0]
        tail = integrate.quad(integrand, 8.0, np.inf, epsabs=epsabs, epsrel=1e-10, limit=400)[0]
    return min(1.0, max(0.0, 0.5 - (head + tail) / math.pi))


def beta_imhof(
    eigenvalues: ArrayLike,
    kappa: ArrayLike,
    *,
    epsabs: float = 1e-13,
    floor_chernoff: bool = True,
) -> FloatArray:
    r"""Exact :math:`\beta(\kappa)=P(\sum_i(\lambda_i-\kappa)g_i^2<0)` by Imhof's integral (E13).

    :math:`\beta=\tfrac12-\tfrac1\pi\int_0^\infty
    \sin(\tfrac12\sum_i\arctan(c_iu))\,/\,(u\prod_i(1+c_i^2u^2)^{1/4})\,du` with
    :math:`c_i=\lambda_i-\kappa`; the denominator is evaluated in the log domain; ``beta = 0``
    when every :math:`c_i\ge0` and 1 when every :math:`c_i\le0` (some negative). The quadrature's
    absolute accuracy is about ``epsabs``, so values below ~1e-12 are not resolved; with
    ``floor_chernoff`` (default) the result is ``min(Imhof, Chernoff)``, which is never further
    from the true value than Imhof alone because the Chernoff bound (E14) is rigorous.

    Args:
        eigenvalues: spectrum of ``A`` (``d`` values, multiplicities repeated).
        kappa: curvature thresholds, any shape.
        epsabs: absolute tolerance of :func:`scipy.integrate.quad`.
        floor_chernoff: take the minimum with :func:`beta_chernoff`.

    Returns:
        Probabilities clipped to ``[0, 1]``, the shape of ``kappa``.

    Raises:
        ValueError: on empty or non-finite input.
    """
    lam = _spectrum(eigenvalues)
    k = check_finite(kappa, name="kappa")
    out = np.array([_imhof_one(lam - kk, epsabs=epsabs) for kk in k.reshape(-1)])
    if floor_chernoff:
        out = np.minimum(out, [_chernoff_one(lam - kk) for kk in k.reshape(-1)])
    return out.reshape(k.shape)


def _chernoff_one(c: FloatArray) -> float:
    if np.all(c >= 0):
        return 0.0  # sum c g^2 >= 0 surely
    if float(np.sum(c)) <= 0:
        return 1.0  # the log-MGF slope at 0 is >= 0: the minimum is at lambda = 0
    hi = 0.5 / float(np.max(-c))  # 1 + 2 lambda c_i > 0 for lambda < hi

    def slope(lam: float) -> float:  # derivative of -log bound, decreasing in lambda
        return float(np.sum(c / (1.0 + 2.0 * lam * c)))

    top = hi * (1.0 - 1e-12)
    lam_star = top if slope(top) > 0 else optimize.brentq(slope, 0.0, top, xtol=1e-300, rtol=1e-14)
    value = math.exp(-0.5 * float(np.sum(np.log1p(2.0 * lam_star * c))))
    return min(1.0, value)


def beta_chernoff(eigenvalues: ArrayLike, kappa: ArrayLike) -> FloatArray:
    r"""Rigorous Chernoff bound on :math:`\beta(\kappa)` given ``A``'s spectrum (E14).

    :math:`\beta\le\min_{0\le\lambda<1/(2\max_i(\kappa-\lambda_i)_+)}
    \prod_i(1+2\lambda(\lambda_i-\kappa))^{-1/2}`; the minimiser is the unique root of the
    derivative of the (convex) log objective, found by Brent's method.

    Args:
        eigenvalues: spectrum of ``A``.
        kappa: curvature thresholds, any shape.

    Returns:
        Upper bounds on :math:`\beta`, in ``[0, 1]``, the shape of ``kappa``.

    Raises:
        ValueError: on empty or non-finite input.
    """
    lam = _spectrum(eigenvalues)
    k = check_finite(kappa, name="kappa")
    out = np.array([_chernoff_one(lam - kk) for kk in k.reshape(-1)])
    return out.reshape(k.shape)


def _goe_args(d: int, mu: float, sigma: float, kappa: ArrayLike) -> FloatArray:
    check_dim(d)
    check_finite(mu, name="mu")
    if not (math.isfinite(sigma) and sigma > 0):
        raise ValueError(f"sigma must be a finite number > 0, got {sigma!r}")
    k = check_finite(kappa, name="kappa")
    return (mu - k) / sigma


def beta_goe(d: int, kappa: ArrayLike, *, mu: float, sigma: float) -> FloatArray:
    r"""``W``-averaged :math:`\beta` for :math:`A=\mu I+\sigma W`, GOE ``W`` (E15).

    :math:`\theta^\top W\theta\sim N(0,2/d)` exactly, so
    :math:`\beta_{\rm GOE}(\kappa)=\Phi(-\sqrt{d/2}\,(\mu-\kappa)/\sigma)`. Averages over ``W``:
    for one fixed draw use :func:`beta_imhof` or :func:`beta_chernoff`.

    Args:
        d: dimension ``>= 2``.
        kappa: curvature thresholds, any shape.
        mu: shift of the spectrum.
        sigma: scale ``> 0`` (semicircle on :math:`[\mu-2\sigma,\mu+2\sigma]`).

    Returns:
        Probabilities, the shape of ``kappa``.

    Raises:
        ValueError: on ``d < 2``, ``sigma <= 0`` or non-finite input.
    """
    z = _goe_args(d, mu, sigma, kappa)
    return special.ndtr(-math.sqrt(0.5 * d) * z)


def beta_2d(d: int, kappa: ArrayLike, *, mu: float, sigma: float) -> FloatArray:
    r"""``W``-averaged probability that the GOE Hessian restricted to a random plane has
    :math:`\lambda_{\min}<\kappa` (the poster's 2-D event, theory.md §4 after (E15)).

    :math:`\beta_{\rm 2D}=\Phi(-y)+\tfrac1{\sqrt2}e^{-y^2/4}\Phi(y/\sqrt2)`,
    :math:`y=\sqrt d(\mu-\kappa)/\sigma`; :math:`\beta_{\rm 2D}(y=0)=(2+\sqrt2)/4`.

    Args:
        d: dimension ``>= 2``.
        kappa: curvature thresholds, any shape.
        mu: shift of the spectrum.
        sigma: scale ``> 0``.

    Returns:
        Probabilities (``>= beta_goe``), the shape of ``kappa``.

    Raises:
        ValueError: on ``d < 2``, ``sigma <= 0`` or non-finite input.
    """
    y = math.sqrt(d) * _goe_args(d, mu, sigma, kappa)
    out = special.ndtr(-y) + np.exp(-0.25 * y * y) * special.ndtr(y / _SQRT2) / _SQRT2
    return np.minimum(out, 1.0)
