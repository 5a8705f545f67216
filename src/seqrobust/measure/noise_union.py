"""Multi-class version of the noise experiment: one quadratic model per competitor and the
union bound :math:`P\\le\\sum_{k\\ne\\hat k}[T_d(s_k)+\\beta_k]` (theory.md §4, multi-class).

Under the multi-class assumption (a changed prediction implies :math:`q_k\\le0` for *some*
competitor ``k``), the union bound is valid; the runner-up alone is not enough when noise
moves the prediction to a third class.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from seqrobust.bounds.beta import beta_imhof
from seqrobust.bounds.random_noise import kappa_grid, theorem_b, union_bound
from seqrobust.geometry.input_hessian import dense_logit_hessians
from seqrobust.measure.montecarlo import FloatArray
from seqrobust.types import ForwardFn


def union_terms(
    f64: ForwardFn,
    x64: Tensor,
    *,
    k_hat: int,
    theta: FloatArray,
    rho: FloatArray,
    num_kappa: int,
) -> tuple[FloatArray, np.ndarray]:
    """Union bound and the per-direction "some competitor's model is non-positive" event.

    Args:
        f64: float64, twice-differentiable forward ``(B, T, F) -> (B, L)``.
        x64: the input ``(1, T, F)`` in float64.
        k_hat: predicted class at ``x64``.
        theta: ``(S, D)`` unit directions.
        rho: ``(R,)`` radii in model units.
        num_kappa: curvature grid size per competitor.

    Returns:
        ``(bound, some_q_nonpositive)``: the union bound ``(R,)`` (Imhof beta, capped at 1)
        and a boolean ``(R, S)`` array, True where :math:`\\min_k q_k(\\rho\\theta)\\le0`.
    """
    x0 = x64[0].detach()
    with torch.no_grad():
        logits = f64(x64)[0].numpy()
    grads = torch.func.jacrev(lambda xb: f64(xb[None])[0])(x0).detach()
    grads = grads.reshape(logits.size, -1).numpy()
    hess = dense_logit_hessians(f64, x64)[0].numpy()
    d = grads.shape[1]
    bounds, some_neg = [], np.zeros((rho.size, theta.shape[0]), dtype=bool)
    for k in range(logits.size):
        if k == k_hat:
            continue
        t = float(logits[k_hat] - logits[k])
        j = grads[k_hat] - grads[k]
        a = hess[k_hat] - hess[k]
        a = 0.5 * (a + a.T)
        lam = np.linalg.eigvalsh(a)
        kappa = kappa_grid(lam, num=num_kappa, concentrate=True)
        jnorm = float(np.linalg.norm(j))
        bounds.append(
            theorem_b(d, rho, t=max(t, 0.0), jnorm=jnorm, kappa=kappa, beta=beta_imhof(lam, kappa))
        )
        lin = theta @ j
        quad = 0.5 * np.einsum("si,ij,sj->s", theta, a, theta)
        some_neg |= t + rho[:, None] * lin[None, :] + (rho**2)[:, None] * quad[None, :] <= 0
    return union_bound(np.stack(bounds)), some_neg
