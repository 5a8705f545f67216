"""The poster's Figure 3 and Figure 4 for one real input.

Figure 3 (:func:`boundary_slice`): a 2-D plane through x spanned by the direction of the
measured minimal perturbation δ and a second direction (the top curvature eigenvector u made
orthogonal to δ, or a random orthogonal direction). On a grid in that plane: the true decision
regions and boundary, and the zero set of the second-order model
q(δ) = t + Jᵀδ + ½ δᵀAδ (A = ∇²F = −M, theory.md (E1)), exact in the plane from J·d_i and
d_iᵀ A d_j (two Hessian-vector products).

Figure 4 (:func:`taylor_agreement`): along random unit directions θ at growing radius ρ, the
true margin F(x + ρθ) (runner-up re-chosen at each point) against q(ρθ), and the fraction of
directions where "q < 0" and "prediction changed" agree — assumption (H1) of the noise bound,
measured instead of assumed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor

from seqrobust.geometry import (
    hvp_neg_margin,
    margin_gradient,
    margins,
    neg_margin_hvp_operator,
    top_curvature,
)
from seqrobust.types import ForwardFn

SecondDirection = Literal["curvature", "random"]


@dataclass(frozen=True)
class BoundarySlice:
    """A 2-D slice through one input (all lengths in model units).

    Attributes:
        a, b: ``(G,)`` grid coordinates along ``d1`` (toward δ) and ``d2``.
        margin: ``(G, G)`` true margin f_k̂ − max_{k≠k̂} f_k at x + a d1 + b d2 (row = b).
        predicted: ``(G, G)`` predicted class on the grid.
        quadratic: ``(G, G)`` the second-order model q in the plane.
        d1, d2: ``(T, F)`` orthonormal directions.
        delta_norm: ``|δ|`` of the measured minimal perturbation.
        pred: the class predicted at x.
    """

    a: Tensor
    b: Tensor
    margin: Tensor
    predicted: Tensor
    quadratic: Tensor
    d1: Tensor
    d2: Tensor
    delta_norm: float
    pred: int


def _unit(v: Tensor) -> Tensor:
    norm = v.norm()
    if not bool(norm > 0):
        raise ValueError("direction has zero norm")
    return v / norm


def plane_directions(
    f: ForwardFn,
    x: Tensor,
    delta: Tensor,
    *,
    second: SecondDirection = "curvature",
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """Orthonormal ``(d1, d2)`` for one input ``x`` ``(T, F)``: d1 = δ/|δ|; d2 the top
    eigenvector u of M (or a random direction) with its d1 component removed."""
    d1 = _unit(delta)
    if second == "curvature":
        m = margins(f, x[None])
        top = top_curvature(f, x[None], pred=m.pred, other=m.runner_up, generator=generator)
        raw = top.vector[0]
    elif second == "random":
        raw = torch.randn(x.shape, generator=generator, dtype=x.dtype).to(x.device)
    else:
        raise ValueError(f"unknown second direction {second!r}; choose curvature or random")
    d2 = raw - (raw * d1).sum() * d1
    if float(d2.norm()) < 1e-8 * float(raw.norm()):  # u parallel to δ: fall back to random
        raw = torch.randn(x.shape, generator=generator, dtype=x.dtype).to(x.device)
        d2 = raw - (raw * d1).sum() * d1
    return d1, _unit(d2)


def _margin_and_class(f: ForwardFn, points: Tensor, pred: int) -> tuple[Tensor, Tensor]:
    with torch.no_grad():
        logits = f(points)
    others = logits.clone()
    others[:, pred] = -torch.inf
    return logits[:, pred] - others.max(dim=1).values, logits.argmax(dim=1)


def boundary_slice(
    f: ForwardFn,
    x: Tensor,
    delta: Tensor,
    *,
    second: SecondDirection = "curvature",
    extent: float = 2.0,
    grid: int = 81,
    batch_size: int = 1024,
    generator: torch.Generator | None = None,
) -> BoundarySlice:
    """Figure 3 for one input.

    Args:
        f: twice-differentiable forward ``(B, T, F) -> (B, L)``.
        x: the input ``(T, F)``.
        delta: its measured minimal perturbation ``(T, F)`` (non-zero).
        second: ``"curvature"`` (top eigenvector of M, orthogonalised) or ``"random"``.
        extent: half-width of the plotted square in units of ``|δ|``.
        grid: points per axis.
        batch_size: grid points per forward call.
        generator: randomness for Lanczos start / the random direction.

    Returns:
        :class:`BoundarySlice`.
    """
    if x.dim() != 2 or delta.shape != x.shape:
        raise ValueError(
            f"x and delta must both be (T, F); got {tuple(x.shape)}, {tuple(delta.shape)}"
        )
    if grid < 2:
        raise ValueError(f"grid must be at least 2, got {grid}")
    d1, d2 = plane_directions(f, x, delta, second=second, generator=generator)
    r = float(delta.norm()) * extent
    axis = torch.linspace(-r, r, grid, dtype=x.dtype, device=x.device)
    bb, aa = torch.meshgrid(axis, axis, indexing="ij")
    points = x[None] + aa.reshape(-1, 1, 1) * d1 + bb.reshape(-1, 1, 1) * d2
    m = margins(f, x[None])
    pred = int(m.pred[0])
    values, classes = [], []
    for chunk in points.split(batch_size):
        v, c = _margin_and_class(f, chunk, pred)
        values.append(v)
        classes.append(c)
    q = _plane_quadratic(f, x, d1, d2, pred=m.pred, other=m.runner_up, a=aa, b=bb)
    return BoundarySlice(
        a=axis,
        b=axis,
        margin=torch.cat(values).reshape(grid, grid),
        predicted=torch.cat(classes).reshape(grid, grid),
        quadratic=q,
        d1=d1,
        d2=d2,
        delta_norm=float(delta.norm()),
        pred=pred,
    )


def _plane_quadratic(
    f: ForwardFn,
    x: Tensor,
    d1: Tensor,
    d2: Tensor,
    *,
    pred: Tensor,
    other: Tensor,
    a: Tensor,
    b: Tensor,
) -> Tensor:
    """q(a d1 + b d2) from t, J·d_i and d_iᵀ A d_j (A = −M), exact in the plane."""
    t, j = margin_gradient(f, x[None], pred=pred, other=other)
    dirs = torch.stack([d1, d2])[:, None]  # (2, 1, T, F)
    m_dirs = neg_margin_hvp_operator(f, x[None], pred=pred, other=other)(dirs)[:, 0]
    g = torch.stack([(j[0] * d1).sum(), (j[0] * d2).sum()])
    a_mat = -torch.einsum("itf,jtf->ij", torch.stack([d1, d2]), m_dirs)
    a_mat = 0.5 * (a_mat + a_mat.T)
    return (
        t[0]
        + g[0] * a
        + g[1] * b
        + 0.5 * (a_mat[0, 0] * a * a + 2 * a_mat[0, 1] * a * b + a_mat[1, 1] * b * b)
    )


@dataclass(frozen=True)
class TaylorAgreement:
    """Figure 4 for one input.

    Attributes:
        radii: ``(R,)`` radii ρ (model units).
        margin: ``(R, N)`` true margin F(x + ρθ) (runner-up re-chosen at each point).
        quadratic: ``(R, N)`` q(ρθ) with the runner-up fixed at x.
        changed: ``(R, N)`` bool, the prediction at x + ρθ differs from that at x.
        agreement: ``(R,)`` fraction of directions where (q < 0) == changed.
        h1_violations: ``(R,)`` fraction where the prediction changed but q > 0 (assumption
            (H1) of the noise bound fails).
    """

    radii: Tensor
    margin: Tensor
    quadratic: Tensor
    changed: Tensor
    agreement: Tensor
    h1_violations: Tensor


def taylor_agreement(
    f: ForwardFn,
    x: Tensor,
    radii: Tensor,
    *,
    directions: int = 200,
    generator: torch.Generator | None = None,
    batch_size: int = 1024,
) -> TaylorAgreement:
    """Measure how well the second-order model describes the real margin around ``x``.

    Args:
        f: twice-differentiable forward ``(B, T, F) -> (B, L)``.
        x: the input ``(T, F)``.
        radii: ``(R,)`` positive radii in model units.
        directions: number N of random unit directions θ (shared by every radius).
        generator: randomness for θ.
        batch_size: points per forward call.

    Returns:
        :class:`TaylorAgreement`.
    """
    if x.dim() != 2:
        raise ValueError(f"x must be (T, F), got {tuple(x.shape)}")
    if radii.dim() != 1 or not bool((radii > 0).all()):
        raise ValueError("radii must be a 1-D tensor of positive values")
    if directions < 1:
        raise ValueError(f"directions must be positive, got {directions}")
    radii = radii.to(x)
    theta = torch.randn((directions, *x.shape), generator=generator, dtype=x.dtype).to(x.device)
    theta = theta / theta.flatten(1).norm(dim=1)[:, None, None]
    m = margins(f, x[None])
    pred = int(m.pred[0])
    t, j = margin_gradient(f, x[None], pred=m.pred, other=m.runner_up)
    curv = torch.cat(
        [
            (
                theta_c
                * hvp_neg_margin(
                    f,
                    x[None].expand(len(theta_c), -1, -1).contiguous(),
                    theta_c,
                    pred=m.pred.expand(len(theta_c)),
                    other=m.runner_up.expand(len(theta_c)),
                )
            )
            .flatten(1)
            .sum(1)
            for theta_c in theta.split(batch_size)
        ]
    )  # θᵀ M θ
    slope = (theta * j[0]).flatten(1).sum(1)
    quad = t[0] + radii[:, None] * slope[None] - 0.5 * radii[:, None] ** 2 * curv[None]
    points = x[None, None] + radii[:, None, None, None] * theta[None]
    values, classes = [], []
    for chunk in points.reshape(-1, *x.shape).split(batch_size):
        v, c = _margin_and_class(f, chunk, pred)
        values.append(v)
        classes.append(c)
    margin = torch.cat(values).reshape(len(radii), directions)
    changed = (torch.cat(classes) != pred).reshape(len(radii), directions)
    agree = ((quad < 0) == changed).to(x.dtype).mean(1)
    violations = (changed & (quad > 0)).to(x.dtype).mean(1)
    return TaylorAgreement(radii, margin, quad, changed, agree, violations)
