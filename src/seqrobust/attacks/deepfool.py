"""DeepFool, multi-class L2 (Moosavi-Dezfooli, Fawzi and Frossard, CVPR 2016,
https://arxiv.org/abs/1511.04599), batched.

At each step every still-correct input is linearised around its current point; for each
candidate class ``k`` the linear boundary is at distance ``|f_k − f_ŷ| / |∇f_k − ∇f_ŷ|``, the
closest one gives the step ``r = |f'_l| w'_l / |w'_l|²``. Steps accumulate in ``r_tot`` and the
iterate is ``clip(x₀ + (1 + overshoot) r_tot)``, as in the authors' reference code. On a linear
classifier one step reaches the exact distance ``t/|J|`` (times ``1 + overshoot``).

With ``box="project"`` (default) the step to each linearised boundary is the minimal-norm step
*inside the box* (``r = clip(λw, lo − x, hi − x)``, one scalar ``λ`` per row by bisection), the
original step whenever no bound is active. Plain clipping (``box="clip"``, as the reference code
and torchattacks) stalls on MNIST, where most pixels sit on a bound: on 100 test inputs of the
trained RNN it succeeded on 81 % within 50 steps (torchattacks: 65 % of 40), the projected step on
100 %.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import Tensor

from seqrobust._checks import check_choice, check_positive
from seqrobust.attacks._minimal import MinimalNormResult, finish, prepare
from seqrobust.attacks.base import Bounds, Model
from seqrobust.types import ForwardFn

__all__ = ["BoxMode", "deepfool"]

BoxMode = Literal["project", "clip"]


def _class_gradients(forward: ForwardFn, x: Tensor, classes: Tensor) -> tuple[Tensor, Tensor]:
    """Logits ``(B, L)`` and gradients ``(B, K, T, F)`` of the logits ``classes (B, K)``.

    One forward and one backward pass on the batch repeated ``K`` times (rows are independent),
    which on CPU beats ``K`` backward passes through a recurrent loop of small matrices.
    """
    batch, k = classes.shape
    xx = x.detach().repeat_interleave(k, dim=0).requires_grad_(True)
    with torch.enable_grad():
        logits = forward(xx)
        picked = logits.gather(1, classes.reshape(-1, 1))
        (grads,) = torch.autograd.grad(picked.sum(), xx)
    return logits.detach()[::k], grads.reshape(batch, k, *x.shape[1:])


def _box_step(w: Tensor, gap: Tensor, low: Tensor, high: Tensor, iters: int = 60) -> Tensor:
    """Minimal-norm ``r`` with ``wᵀr = gap`` and ``low ≤ r ≤ high`` (per row), the exact
    linearised DeepFool step inside the box: ``r = clip(λw, low, high)`` with ``λ`` found by
    bisection in ``log λ`` (``wᵀclip(λw)`` is non-decreasing). Where even the saturated step
    cannot reach ``gap``, the saturated step is returned.

    Args:
        w: ``(N, D)`` directions; gap: ``(N,)`` positive targets; low, high: ``(N, D)``.

    Returns:
        ``(N, D)`` steps.
    """
    tiny = torch.finfo(w.dtype).tiny
    sq = (w * w).sum(1).clamp_min(tiny)
    lam_lo = gap / sq  # the unconstrained solution: clipping can only ask for more
    ratio = torch.where(
        w > 0, high / w.clamp_min(tiny), torch.where(w < 0, low / w.clamp_max(-tiny), 0.0)
    )
    lam_hi = torch.maximum(ratio.amax(1), lam_lo)  # beyond: everything saturated
    lo, hi = lam_lo.clamp_min(tiny).log(), lam_hi.clamp_min(tiny).log()

    def reach(log_lam: Tensor) -> Tensor:
        return (w * torch.clamp(log_lam.exp()[:, None] * w, low, high)).sum(1)

    for _ in range(iters):
        mid = (lo + hi) / 2
        ok = reach(mid) >= gap
        hi = torch.where(ok, mid, hi)
        lo = torch.where(ok, lo, mid)
    return torch.clamp(hi.exp()[:, None] * w, low, high)


def deepfool(
    model: Model,
    inputs: Tensor,
    *,
    labels: Tensor | None = None,
    steps: int = 50,
    overshoot: float = 0.02,
    candidates: int | None = None,
    box: BoxMode = "project",
    bounds: Bounds = (0.0, 1.0),
) -> MinimalNormResult:
    """Minimal-L2 adversarials by multi-class DeepFool.

    Args:
        model: classifier (module or callable) mapping ``(B, T, F)`` to logits ``(B, L)``;
            gradients flow through :func:`~seqrobust.models.differentiable_forward` (no cuDNN
            backward in eval mode).
        inputs: ``(B, T, F)`` clean inputs inside ``bounds``.
        labels: ``(B,)`` classes to move away from; default the model's predictions.
        steps: maximum linearisation steps.
        overshoot: the iterate is ``clip(x₀ + (1 + overshoot) r_tot)`` (crosses the boundary).
        candidates: consider only the ``candidates`` classes with the largest clean logits
            (including the label); ``None`` means all classes.
        box: ``"project"`` takes, for each candidate class, the minimal-norm step to its
            linearised boundary *inside the box* (:func:`_box_step`; the original step when no
            bound is active); ``"clip"`` takes the original step and only clips the iterate,
            like the reference code and torchattacks, which stalls where many entries sit on a
            bound (MNIST background).
        bounds: valid input range; every iterate is clipped to it.

    Returns:
        :class:`~seqrobust.attacks.MinimalNormResult` (norms ``∞`` where no step crossed).

    Raises:
        ValueError: on bad inputs or options.
    """
    forward, labels = prepare(model, inputs, labels, bounds)
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    if not overshoot >= 0:
        raise ValueError(f"overshoot must be non-negative, got {overshoot!r}")
    check_choice(box, ("project", "clip"), name="box")
    x0 = inputs.detach()
    with torch.no_grad():
        clean = forward(x0)
    num = clean.shape[1]
    if candidates is not None:
        check_positive(candidates, name="candidates")
        if not 2 <= candidates <= num:
            raise ValueError(f"candidates must be in [2, {num}], got {candidates}")
    # class set per row: the label first, then the others by clean logit
    masked = clean.scatter(1, labels[:, None], float("inf"))
    order = masked.argsort(dim=1, descending=True)[:, : candidates or num]
    r_tot = torch.zeros_like(x0)
    x = x0.clone()
    active = torch.ones(x0.shape[0], dtype=torch.bool, device=x0.device)
    tiny = torch.finfo(x0.dtype).tiny
    for _ in range(steps):
        idx = active.nonzero().squeeze(1)
        if idx.numel() == 0:
            break
        logits, grads = _class_gradients(forward, x[idx], order[idx])
        fooled = logits.argmax(1) != labels[idx]
        active[idx[fooled]] = False
        keep = ~fooled
        if not bool(keep.any()):
            break
        idx, grads = idx[keep], grads[keep]
        picked = logits[keep].gather(1, order[idx])
        gap = (picked[:, 1:] - picked[:, :1]).abs()  # (b, K-1): f_label - f_k >= 0
        w_diff = (grads[:, 1:] - grads[:, :1]).flatten(2)  # (b, K-1, D)
        w_norm = w_diff.norm(dim=2).clamp_min(tiny)
        dist = gap / w_norm
        rows = torch.arange(idx.numel(), device=x0.device)
        if box == "clip":
            best = dist.argmin(dim=1)
            w_l, n_l = w_diff[rows, best], w_norm[rows, best]
            step = (gap[rows, best] / (n_l * n_l))[:, None] * w_l
        else:
            b, k, d = w_diff.shape
            here = x[idx].flatten(1)[:, None].expand(b, k, d).reshape(b * k, d)
            steps_k = _box_step(
                w_diff.reshape(b * k, d), gap.reshape(-1), bounds[0] - here, bounds[1] - here
            ).reshape(b, k, d)
            reach = (steps_k * w_diff).sum(2)
            length = steps_k.norm(dim=2)
            key = torch.where(reach >= gap * (1 - 1e-6), length, torch.full_like(length, math.inf))
            key = torch.where(torch.isinf(key).all(1, keepdim=True), dist, key)
            step = steps_k[rows, key.argmin(dim=1)]
        r_tot[idx] += step.reshape(-1, *x0.shape[1:])
        x[idx] = (x0[idx] + (1 + overshoot) * r_tot[idx]).clamp(bounds[0], bounds[1])
    return finish(forward, x0, labels, x)
