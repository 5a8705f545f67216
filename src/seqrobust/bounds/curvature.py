"""Theorem 1, corrected: curvature bounds on the distance to the decision boundary.

For the quadratic model ``q(δ) = t + Jᵀδ + ½ δᵀAδ`` of the margin ``F = f_k̂ − f_k'`` at ``x``
(theory.md E1), with ``M = −A = ∇²(−F)`` the curvature *toward* the boundary, ``v = λ_max(M)``
and ``u`` a unit top eigenvector, the model distance ``r* = min{|δ| : q(δ) ≤ 0}`` satisfies
(theory.md E2)::

    lower = 2t / (|J| + sqrt(|J|² + 2vt))  ≤  r*  ≤  upper = 2t / (|Jᵀu| + sqrt((Jᵀu)² + 2vt)).

Any unit ``w`` with ``c_w = wᵀMw`` gives a witness bound of the same form (E3). All radii are
computed in this stable form, the positive root ``r`` of ``(c/2) r² + b r = t``; no special case
is needed for ``v = 0`` or ``Jᵀu = 0`` and every limit of (E4) comes out by itself:
``t = 0 → 0``; ``b = c = 0 → ∞``; ``c < 0`` with ``b² + 2ct < 0 → ∞``.

**Multi-class.** Model every competitor ``k ≠ k̂`` separately; ``r* = min_k r*_k``, so
``min_k lower_k ≤ r* ≤ min_k upper_k`` (:func:`min_over_competitors`). The runner-up alone gives
a valid *upper* bound but **not** a valid lower bound: another class with a smaller margin
gradient ratio or stronger curvature can be closer.

The literal reading of the poster (``H = ∇²F`` instead of ``∇²(−F)``) is false (E9); every
function here takes the curvature of ``−F``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import overload

import torch
from torch import Tensor

__all__ = [
    "CurvatureBounds",
    "bounds_from_hessian",
    "curvature_lower_bound",
    "curvature_upper_bound",
    "min_over_competitors",
    "top_eigvector_toward",
    "witness_bound",
    "witness_vector",
]


def _root_pos_tensor(t: Tensor, b: Tensor, c: Tensor) -> Tensor:
    """Elementwise positive root of ``(c/2) r² + |b| r = t`` in the stable form (E2/E3)."""
    t, b, c = torch.broadcast_tensors(t, b.abs(), c)
    if bool((t < 0).any()):
        raise ValueError("margins t must be non-negative (t = f_pred - f_other >= 0)")
    radicand = b * b + 2.0 * c * t
    denom = b + torch.sqrt(radicand.clamp_min(0.0))
    r = (2.0 * t) / denom  # t > 0, denom = 0 -> +inf (b = c = 0: no descent at all)
    inf = torch.full_like(r, float("inf"))
    r = torch.where(radicand < 0, inf, r)  # c < 0 and the quadratic never reaches 0
    return torch.where(t == 0, torch.zeros_like(r), r)  # on the boundary (E4)


def _as_tensor(x: float | Tensor, like: Tensor | None) -> Tensor:
    if isinstance(x, Tensor):
        return x
    if like is not None:
        return torch.as_tensor(x, dtype=like.dtype, device=like.device)
    return torch.as_tensor(x, dtype=torch.float64)


def _root_pos(t: float | Tensor, b: float | Tensor, c: float | Tensor) -> float | Tensor:
    tensors = [x for x in (t, b, c) if isinstance(x, Tensor)]
    like = tensors[0] if tensors else None
    out = _root_pos_tensor(_as_tensor(t, like), _as_tensor(b, like), _as_tensor(c, like))
    return out if tensors else float(out)


@overload
def curvature_lower_bound(t: float, j_norm: float, v: float) -> float: ...
@overload
def curvature_lower_bound(t: Tensor, j_norm: Tensor | float, v: Tensor | float) -> Tensor: ...
@overload
def curvature_lower_bound(t: float, j_norm: Tensor, v: Tensor | float) -> Tensor: ...
@overload
def curvature_lower_bound(t: float, j_norm: float, v: Tensor) -> Tensor: ...
def curvature_lower_bound(
    t: float | Tensor, j_norm: float | Tensor, v: float | Tensor
) -> float | Tensor:
    """Lower bound ``2t / (|J| + sqrt(|J|² + 2vt))`` on the model distance (theory.md E2).

    Valid for every quadratic model with ``t ≥ 0`` and ``v`` **at least** ``λ_max(∇²(−F))``;
    pass an over-estimate (e.g. Lanczos Ritz value plus residual) when ``v`` is approximate.
    Edge cases (E4): ``t = 0 → 0``; ``J = 0, v > 0 → sqrt(2t/v)``; ``v = 0 → t/|J|``;
    ``J = 0, v ≤ 0 → ∞``; ``v < 0`` with ``|J|² + 2vt < 0 → ∞``.

    Args:
        t: margins ``f_k̂ − f_k' ≥ 0``, a float or a tensor of any shape.
        j_norm: ``|∇F|``, broadcastable against ``t``.
        v: top eigenvalue of ``M = ∇²(−F)``, broadcastable against ``t``.

    Returns:
        A float if every argument is a float, else a tensor of the broadcast shape with the
        dtype and device of the tensor arguments.

    Raises:
        ValueError: if any ``t`` is negative.
    """
    return _root_pos(t, j_norm, v)


@overload
def witness_bound(t: float, j_dot_w: float, c_w: float) -> float: ...
@overload
def witness_bound(t: Tensor, j_dot_w: Tensor | float, c_w: Tensor | float) -> Tensor: ...
@overload
def witness_bound(t: float, j_dot_w: Tensor, c_w: Tensor | float) -> Tensor: ...
@overload
def witness_bound(t: float, j_dot_w: float, c_w: Tensor) -> Tensor: ...
def witness_bound(
    t: float | Tensor, j_dot_w: float | Tensor, c_w: float | Tensor
) -> float | Tensor:
    """Upper bound from the witness direction ``w`` (theory.md E3).

    For any unit ``w`` with ``c_w = wᵀMw``, the point ``s·w`` with ``s = 2t / (|Jᵀw| +
    sqrt((Jᵀw)² + 2 c_w t))`` and the sign chosen so that ``Jᵀ(sw) ≤ 0`` satisfies ``q(sw) = 0``,
    so ``r* ≤ s``. ``∞`` when the radicand is negative or ``Jᵀw = c_w = 0`` (no descent along
    ``w``). With ``w = u`` this is the upper bound of (E2).

    Args:
        t: margins ``≥ 0`` (float or tensor).
        j_dot_w: ``Jᵀw`` (only its absolute value matters for the radius).
        c_w: curvature of ``−F`` along ``w``, ``wᵀMw``.

    Returns:
        The radius, float or tensor as in :func:`curvature_lower_bound`.

    Raises:
        ValueError: if any ``t`` is negative.
    """
    return _root_pos(t, j_dot_w, c_w)


@overload
def curvature_upper_bound(t: float, j_dot_u: float, v: float) -> float: ...
@overload
def curvature_upper_bound(t: Tensor, j_dot_u: Tensor | float, v: Tensor | float) -> Tensor: ...
@overload
def curvature_upper_bound(t: float, j_dot_u: Tensor, v: Tensor | float) -> Tensor: ...
@overload
def curvature_upper_bound(t: float, j_dot_u: float, v: Tensor) -> Tensor: ...
def curvature_upper_bound(
    t: float | Tensor, j_dot_u: float | Tensor, v: float | Tensor
) -> float | Tensor:
    """Upper bound ``2t / (|Jᵀu| + sqrt((Jᵀu)² + 2vt))`` (theory.md E2, the witness ``u``).

    ``u`` must be a unit vector with ``uᵀMu = v`` (an exact eigenvector or a Ritz vector with
    its Ritz value, by E3). Edge cases (E4): ``t = 0 → 0``; ``J = 0`` or ``Jᵀu = 0`` with
    ``v > 0 → sqrt(2t/v)`` (finite); ``v = 0 → t/|Jᵀu|``; ``v = Jᵀu = 0 → ∞``.
    For a degenerate top eigenvalue use :func:`top_eigvector_toward` (``u = P_E J/|P_E J|``).

    Args:
        t: margins ``≥ 0``.
        j_dot_u: ``Jᵀu``.
        v: ``uᵀMu``.

    Returns:
        The radius, float or tensor as in :func:`curvature_lower_bound`.

    Raises:
        ValueError: if any ``t`` is negative.
    """
    return _root_pos(t, j_dot_u, v)


def witness_vector(radius: Tensor, w: Tensor, j: Tensor) -> Tensor:
    """The witness point ``δ = radius · s · ŵ`` with the sign ``s`` making ``Jᵀδ ≤ 0`` (E2/E3).

    Args:
        radius: ``(B,)`` radii from :func:`witness_bound` (``∞`` rows give ``NaN``-free zeros
            scaled by ``∞``; mask them with ``torch.isfinite(radius)``).
        w: ``(B, ...)`` directions (normalised here).
        j: ``(B, ...)`` margin gradients, same shape as ``w``.

    Returns:
        ``(B, ...)`` perturbations with ``|δ| = radius``.
    """
    flat_w = w.flatten(1)
    unit = flat_w / flat_w.norm(dim=1, keepdim=True).clamp_min(torch.finfo(w.dtype).tiny)
    sign = torch.where((unit * j.flatten(1)).sum(1) > 0, -1.0, 1.0).to(w.dtype)
    scale = torch.where(torch.isfinite(radius), radius, torch.zeros_like(radius))
    return (unit * (sign * scale)[:, None]).reshape(w.shape)


def top_eigvector_toward(m: Tensor, j: Tensor, *, rtol: float = 1e-8) -> tuple[Tensor, Tensor]:
    """Top eigenpair of dense symmetric ``M``, with ``u = P_E J / |P_E J|`` on a degenerate
    top eigenspace ``E`` (theory.md §2), which maximises ``|Jᵀu|`` and so minimises the upper
    bound over unit eigenvectors.

    Args:
        m: ``(B, D, D)`` symmetric matrices ``M = ∇²(−F)``.
        j: ``(B, D)`` gradients.
        rtol: eigenvalues within ``rtol · max(|λ|)`` of ``λ_max`` form ``E``.

    Returns:
        ``v (B,)`` and ``u (B, D)`` (the first eigenvector of ``E`` when ``P_E J = 0``).
    """
    evals, evecs = torch.linalg.eigh(m)
    v = evals[:, -1]
    scale = evals.abs().amax(dim=1).clamp_min(torch.finfo(m.dtype).tiny)
    in_top = evals >= (v - rtol * scale)[:, None]  # (B, D)
    coeff = torch.einsum("bdk,bd->bk", evecs, j) * in_top  # components of J on E
    proj = torch.einsum("bdk,bk->bd", evecs, coeff)
    norm = proj.norm(dim=1, keepdim=True)
    fallback = evecs[:, :, -1]
    u = torch.where(norm > 0, proj / norm.clamp_min(torch.finfo(m.dtype).tiny), fallback)
    return v, u


@dataclass(frozen=True)
class CurvatureBounds:
    """Bounds on the model distance for one competitor class (or the min over competitors).

    Attributes:
        lower: ``(B,)`` lower bound (E2).
        upper: ``(B,)`` upper bound from the top eigenvector (E2).
        best: ``(B,)`` best witness bound ``min(upper, witness(−Ĵ), ...)`` (E3).
        witness: ``(B, D)`` a point ``δ`` with ``q(δ) = 0`` and ``|δ| = best`` (zeros where
            ``best = ∞``).
        v: ``(B,)`` ``λ_max(M)``.
        j_dot_u: ``(B,)`` ``Jᵀu``.
    """

    lower: Tensor
    upper: Tensor
    best: Tensor
    witness: Tensor
    v: Tensor
    j_dot_u: Tensor


def bounds_from_hessian(t: Tensor, j: Tensor, m: Tensor, *, rtol: float = 1e-8) -> CurvatureBounds:
    """All (E2)/(E3) bounds for dense quadratic models (tests, small inputs).

    Candidate witnesses: the top eigenvector toward ``J`` (degenerate rule) and ``−Ĵ``.

    Args:
        t: ``(B,)`` margins ``≥ 0``.
        j: ``(B, D)`` gradients ``∇F``.
        m: ``(B, D, D)`` symmetric ``M = ∇²(−F) = −A``.
        rtol: degeneracy tolerance of :func:`top_eigvector_toward`.

    Returns:
        A :class:`CurvatureBounds` with ``witness`` of shape ``(B, D)``.
    """
    v, u = top_eigvector_toward(m, j, rtol=rtol)
    j_dot_u = (j * u).sum(1)
    lower = curvature_lower_bound(t, j.norm(dim=1), v)
    upper = curvature_upper_bound(t, j_dot_u, v)
    j_norm = j.norm(dim=1, keepdim=True)
    w = torch.where(j_norm > 0, -j / j_norm.clamp_min(torch.finfo(j.dtype).tiny), u)
    c_w = torch.einsum("bd,bde,be->b", w, m, w)
    along_j = witness_bound(t, (j * w).sum(1), c_w)
    use_u = upper <= along_j
    best = torch.where(use_u, upper, along_j)
    witness = torch.where(
        use_u[:, None], witness_vector(upper, u, j), witness_vector(along_j, w, j)
    )
    return CurvatureBounds(
        lower=lower, upper=upper, best=best, witness=witness, v=v, j_dot_u=j_dot_u
    )


def min_over_competitors(per_class: Tensor, *, pred: Tensor | None = None) -> Tensor:
    """Minimum of per-competitor radii over the class axis (theory.md §2, multi-class).

    ``min_k lower_k`` is a valid lower bound and ``min_k upper_k`` a valid upper bound on the
    multi-class model distance; the runner-up's lower bound alone is **not** valid.

    Args:
        per_class: ``(B, L)`` radii, one column per class.
        pred: optional ``(B,)`` predicted classes whose column is ignored (set to ``∞``).

    Returns:
        ``(B,)`` minima.
    """
    if pred is not None:
        mask = torch.zeros_like(per_class, dtype=torch.bool)
        mask[torch.arange(per_class.shape[0], device=per_class.device), pred] = True
        per_class = per_class.masked_fill(mask, float("inf"))
    return per_class.amin(dim=-1)
