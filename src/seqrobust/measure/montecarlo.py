r"""Monte Carlo over uniform directions on the sphere, for quadratic classifiers (theory.md §5).

For :math:`q(\rho z)=t+\rho\gamma^\top z+\tfrac12\rho^2\sum_i\lambda_iz_i^2` in ``A``'s
eigenbasis (``gamma = Q^T J``), each direction ``z`` needs only two numbers,
:math:`a=\gamma^\top z` and :math:`b=\tfrac12\sum_i\lambda_iz_i^2`; every radius then reuses
them (common random numbers), and so does every spectral shift :math:`A+\mu I`
(:math:`b\mapsto b+\mu/2` since :math:`|z|=1`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from tqdm import tqdm

FloatArray = NDArray[np.float64]


def clopper_pearson(
    k: ArrayLike, n: ArrayLike, *, level: float = 0.95
) -> tuple[FloatArray, FloatArray]:
    """Exact (Clopper–Pearson) two-sided confidence interval for a binomial proportion.

    Args:
        k: successes, any shape.
        n: trials, broadcast against ``k``.
        level: confidence level in ``(0, 1)``.

    Returns:
        ``(lower, upper)`` arrays of the broadcast shape; ``lower = 0`` where ``k = 0`` and
        ``upper = 1`` where ``k = n``.

    Raises:
        ValueError: on ``k`` outside ``[0, n]`` or a level outside ``(0, 1)``.
    """
    kk = np.asarray(k, dtype=np.float64)
    nn = np.asarray(n, dtype=np.float64)
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    if np.any(kk < 0) or np.any(kk > nn) or np.any(nn < 1):
        raise ValueError("need 0 <= k <= n and n >= 1")
    from scipy import stats  # about a second at import: only when an interval is asked for

    alpha = 1.0 - level
    with np.errstate(invalid="ignore"):
        lo = np.where(kk > 0, stats.beta.ppf(alpha / 2, kk, nn - kk + 1), 0.0)
        hi = np.where(kk < nn, stats.beta.ppf(1 - alpha / 2, kk + 1, nn - kk), 1.0)
    return lo, hi


def quadratic_direction_stats(
    eigenvalues: ArrayLike,
    gamma: ArrayLike,
    num: int,
    *,
    rng: np.random.Generator,
    chunk_elements: int = 1 << 22,
    progress: bool = False,
) -> tuple[FloatArray, FloatArray]:
    r"""Draw ``num`` uniform unit directions ``z`` in the eigenbasis and reduce each to
    :math:`a=\gamma^\top z` and :math:`b=\tfrac12\sum_i\lambda_iz_i^2`.

    Directions are generated in chunks of about ``chunk_elements`` numbers, so memory stays
    bounded (``num`` may be 1e6 at ``d = 1000``).

    Args:
        eigenvalues: ``(d,)`` spectrum of ``A``.
        gamma: ``(d,)`` gradient in the eigenbasis.
        num: number of directions ``>= 1``.
        rng: numpy generator (the only source of randomness).
        chunk_elements: generated numbers per chunk.
        progress: show a tqdm bar.

    Returns:
        ``(a, b)``, each ``(num,)`` float64.

    Raises:
        ValueError: on mismatched shapes or ``num < 1``.
    """
    lam = np.asarray(eigenvalues, dtype=np.float64).reshape(-1)
    g = np.asarray(gamma, dtype=np.float64).reshape(-1)
    if lam.shape != g.shape or lam.size < 2:
        raise ValueError(f"eigenvalues and gamma must be (d,), d >= 2; got {lam.shape}, {g.shape}")
    if num < 1:
        raise ValueError(f"num must be >= 1, got {num}")
    d = lam.size
    rows = max(1, chunk_elements // d)
    a = np.empty(num)
    b = np.empty(num)
    starts = range(0, num, rows)
    for start in tqdm(starts, desc=f"directions d={d}", disable=not progress, leave=False):
        stop = min(num, start + rows)
        z = rng.standard_normal((stop - start, d))
        z2 = np.square(z)
        norm2 = z2.sum(axis=1)
        a[start:stop] = (z @ g) / np.sqrt(norm2)
        b[start:stop] = 0.5 * (z2 @ lam) / norm2
    return a, b


def count_negative(
    a: FloatArray, b: FloatArray, rho: ArrayLike, *, t: float, shift: float = 0.0
) -> NDArray[np.int64]:
    r"""Number of directions with :math:`q=t+\rho a+\rho^2(b+\mu/2)<0`, per radius.

    Args:
        a: ``(N,)`` values of :math:`\gamma^\top z`.
        b: ``(N,)`` values of :math:`\tfrac12 z^\top\Lambda z`.
        rho: ``(R,)`` radii.
        t: margin.
        shift: spectral shift ``mu`` (``A + mu I``).

    Returns:
        ``(R,)`` counts.
    """
    r = np.asarray(rho, dtype=np.float64).reshape(-1)
    bb = b + 0.5 * shift
    return np.array([int(np.count_nonzero(t + rr * a + rr * rr * bb < 0)) for rr in r])
