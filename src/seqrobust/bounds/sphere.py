r"""Tails of one coordinate of a uniform point on the sphere (theory.md §4, (E10)–(E11)).

If ``theta`` is uniform on the unit sphere :math:`S^{d-1}\subset\mathbb R^d`, every fixed unit
direction ``e`` gives a coordinate :math:`e^\top\theta` with density
:math:`\propto(1-x^2)^{(d-3)/2}` on ``[-1, 1]``. Theorem B needs its upper tail
:math:`T_d(s)=P(\theta_1\ge s)` and the spherical-cap bound :math:`e^{-ds^2/2}`.

All functions are numpy/scipy float64 and broadcast over their array arguments.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

FloatArray = NDArray[np.float64]


def check_dim(d: int) -> None:
    """Require an integer dimension ``d >= 2``.

    Raises:
        ValueError: if ``d`` is not an integer of at least 2.
    """
    if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 2:
        raise ValueError(f"dimension d must be an integer >= 2, got {d!r}")


def check_finite(value: ArrayLike, *, name: str) -> FloatArray:
    """``value`` as a float64 array, required finite.

    Raises:
        ValueError: if any entry is NaN or infinite (or not a number).
    """
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a real number or array, got {value!r}") from None
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return arr


def check_rho(rho: ArrayLike) -> FloatArray:
    """Radii as a float64 array, required finite and ``> 0``.

    Raises:
        ValueError: if a radius is not positive or not finite.
    """
    arr = check_finite(rho, name="rho")
    if np.any(arr <= 0):
        raise ValueError(f"rho must be > 0, got {rho!r}")
    return arr


def sphere_tail(d: int, s: ArrayLike) -> FloatArray:
    r"""Exact tail :math:`T_d(s)=P(\theta_1\ge s)` for ``theta`` uniform on :math:`S^{d-1}` (E11).

    :math:`T_d(s)=\tfrac12 I_{1-s^2}(\tfrac{d-1}2,\tfrac12)` for ``0 <= s < 1``, 0 for
    ``s >= 1``, and :math:`T_d(-s)=1-T_d(s)`. ``s`` may be ``±inf``.

    Args:
        d: dimension, ``>= 2``.
        s: thresholds, any shape.

    Returns:
        Probabilities, the shape of ``s``.

    Raises:
        ValueError: if ``d < 2`` or ``s`` holds NaN.

    >>> float(sphere_tail(3, 0.5))  # uniform on [-1, 1] in three dimensions (Archimedes)
    0.25
    """
    check_dim(d)
    s_arr = np.asarray(s, dtype=np.float64)
    if np.any(np.isnan(s_arr)):
        raise ValueError("s must not be NaN")
    a = np.abs(s_arr)
    inside = a < 1.0
    x = np.where(inside, 1.0 - a * a, 0.0)
    upper = np.where(inside, 0.5 * special.betainc(0.5 * (d - 1), 0.5, x), 0.0)
    out: FloatArray = np.where(s_arr >= 0, upper, 1.0 - upper)
    return out


def cap_bound(d: int, s: ArrayLike) -> FloatArray:
    r"""The spherical-cap bound :math:`e^{-ds^2/2}\ge T_d(s)` for ``s >= 0`` (E11); 1 for ``s < 0``.

    Args:
        d: dimension, ``>= 2``.
        s: thresholds, any shape.

    Returns:
        Upper bounds on :math:`T_d(s)`, the shape of ``s``.

    Raises:
        ValueError: if ``d < 2`` or ``s`` holds NaN.
    """
    check_dim(d)
    s_arr = np.asarray(s, dtype=np.float64)
    if np.any(np.isnan(s_arr)):
        raise ValueError("s must not be NaN")
    out: FloatArray = np.where(s_arr >= 0, np.exp(-0.5 * d * np.square(s_arr)), 1.0)
    return out


def threshold(rho: ArrayLike, kappa: ArrayLike, *, t: float, jnorm: float) -> FloatArray:
    r"""The threshold :math:`s(\rho,\kappa)=(t+\kappa\rho^2/2)/(\rho|J|)` of (E10).

    On the event :math:`\theta^\top A\theta\ge\kappa`, :math:`q(\rho\theta)\le0` requires
    :math:`-\hat J^\top\theta\ge s`. With ``jnorm == 0`` the threshold is ``+inf`` where the
    numerator is positive and ``-inf`` otherwise (conservative).

    Args:
        rho: radii ``> 0``, broadcast against ``kappa``.
        kappa: signed curvature lower bounds.
        t: margin ``F(x) >= 0``.
        jnorm: gradient norm ``|J| >= 0``.

    Returns:
        ``s`` with the broadcast shape of ``rho`` and ``kappa``.

    Raises:
        ValueError: on ``rho <= 0``, ``t < 0``, ``jnorm < 0`` or non-finite values.
    """
    r = check_rho(rho)
    k = check_finite(kappa, name="kappa")
    check_margin(t=t, jnorm=jnorm)
    num = t + 0.5 * k * r * r
    if jnorm == 0:
        out: FloatArray = np.where(num > 0, np.inf, -np.inf)
        return out
    return num / (r * jnorm)


def check_margin(*, t: float, jnorm: float) -> None:
    """Require a finite margin ``t >= 0`` and gradient norm ``jnorm >= 0``.

    Raises:
        ValueError: naming the bad value.
    """
    for name, value in (("t", t), ("jnorm", jnorm)):
        if not (isinstance(value, (int, float, np.floating)) and math.isfinite(value)) or value < 0:
            raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
