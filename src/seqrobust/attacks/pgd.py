"""Projected gradient descent (Madry et al., 2018, https://arxiv.org/abs/1706.06083) in L∞ and
L2, and the fast gradient sign method (Goodfellow et al., 2015), all maximising cross-entropy.

Gradients are taken with ``torch.autograd.grad`` with respect to the input only, so parameter
``.grad`` fields are never touched, whatever mode the model is in.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from seqrobust._checks import check_positive, check_sequences
from seqrobust.attacks._random import random_start
from seqrobust.attacks.base import (
    Bounds,
    FixedEpsilonAttack,
    Model,
    Randomness,
    _rows,
    project,
)
from seqrobust.models import differentiable_forward
from seqrobust.types import ForwardFn, Norm


def _check_steps(steps: int, name: str = "steps") -> None:
    if isinstance(steps, bool) or not isinstance(steps, int) or steps <= 0:
        raise ValueError(f"{name} must be a positive integer, got {steps!r}")


def _ascent_direction(grad: Tensor, norm: Norm) -> Tensor:
    """The steepest-ascent unit step: ``sign(g)`` (L∞) or ``g / |g|_2`` (L2), per row."""
    if norm == "linf":
        return grad.sign()
    length = grad.flatten(1).norm(dim=1).clamp_min(1e-12)
    return grad / _rows(length, grad)


def projected_gradient(
    forward: ForwardFn,
    inputs: Tensor,
    labels: Tensor,
    *,
    eps: Tensor,
    alpha: float,
    steps: int,
    norm: Norm,
    random_init: bool,
    bounds: Bounds,
    generator: Randomness,
    stop_when_fooled: bool,
    cycle_window: int = 0,
) -> Tensor:
    """The PGD iteration ``x <- Proj_{B_ε(x0) ∩ bounds}(x + α · dir(∇_x CE(f(x), y)))``.

    Args:
        forward: classifier ``(B, T, F) -> (B, L)``.
        inputs: clean inputs ``(B, T, F)``; labels: ``(B,)``.
        eps: ``(B,)`` radius per row (model units).
        alpha: step size (model units).
        steps: number of gradient steps.
        norm: ``"linf"`` (sign steps) or ``"l2"`` (normalised-gradient steps).
        random_init: start at a random point of the ball (see
            :func:`~seqrobust.attacks._random.random_start`) instead of the clean input.
        bounds: valid input range.
        generator: randomness for the start.
        stop_when_fooled: freeze a row at the first iterate that is misclassified (checked
            before each step; the caller checks the last one). Frozen rows leave the batch, so
            later steps cost less; a row that is never fooled follows the same trajectory as
            without freezing.
        cycle_window: with ``stop_when_fooled``, also retire a row whose new iterate equals
            one of its last ``cycle_window`` iterates. For a deterministic ``forward`` the
            PGD map is a function of the iterate, so the trajectory is periodic from then on,
            every state of the cycle was already checked (not fooled), and the last iterate
            is known without computing it: the result is the same as running all ``steps``.
            L∞ sign steps with ``alpha >= ε`` saturate at the ball's corners within a few
            steps, so this saves most of the cost at small ε. 0 disables it.

    Returns:
        ``(B, T, F)`` iterates (the last one, or the first misclassified one), inside the
        ball and the bounds.
    """
    x0 = inputs.detach()
    if random_init:
        x_adv = random_start(x0, eps, norm=norm, generator=generator).clamp(*bounds)
    else:
        x_adv = x0.clone()
    active = torch.arange(x0.shape[0], device=x0.device)
    window = cycle_window if stop_when_fooled else 0
    past: list[Tensor] = []  # past[q - 2] is the iterate q - 1 steps before the current one
    for t in range(steps):
        if active.numel() == 0:
            break
        xa = x_adv[active].requires_grad_(True)
        ya = labels[active]
        with torch.enable_grad():
            logits = forward(xa)
            if stop_when_fooled:
                keep = logits.detach().argmax(-1) == ya
                if not bool(keep.any()):
                    break
                loss = F.cross_entropy(logits[keep], ya[keep], reduction="sum")
            else:
                keep = None
                loss = F.cross_entropy(logits, ya, reduction="sum")
            (grad,) = torch.autograd.grad(loss, xa)
        current = xa.detach()
        if keep is not None and not bool(keep.all()):
            active, grad, current = active[keep], grad[keep], current[keep]
            past = [p[keep] for p in past]
        stepped = current + alpha * _ascent_direction(grad, norm)
        new = project(x0[active], stepped, eps[active], norm=norm, bounds=bounds)
        if window:
            lags = [current, *past]  # lags[q - 1] is the iterate x_{t+1-q}
            period = torch.zeros(active.numel(), dtype=torch.long, device=new.device)
            for q, old in enumerate(lags, start=1):
                hit = (period == 0) & (new == old).flatten(1).all(dim=1)
                period[hit] = q
            cyc = period > 0
            if bool(cyc.any()):
                # x_{t+1} = x_{t+1-p}: periodic from x_{t+1-p}; x_steps = x_{t+1-p+r}
                p = period[cyc]
                r = torch.remainder(steps - (t + 1 - p), p)
                lag = p - r
                stack = torch.stack(lags)[:, cyc]  # (q, C, T, F)
                final = stack[lag - 1, torch.arange(p.numel(), device=new.device)]
                x_adv[active[cyc]] = final
                rest = ~cyc
                active, new, current = active[rest], new[rest], current[rest]
                past = [q[rest] for q in past]
            past = [current, *past][: window - 1]
        x_adv[active] = new
    return x_adv


def pgd_linf(
    forward: ForwardFn,
    x: Tensor,
    y: Tensor,
    *,
    eps: float,
    alpha: float,
    steps: int,
    random_start: bool = True,
    bounds: tuple[float, float] = (0.0, 1.0),
    generator: torch.Generator | None = None,
) -> Tensor:
    """L∞ PGD adversarial inputs maximising cross-entropy (for adversarial training).

    Runs all ``steps`` on every input and returns the last iterate (no early stop), like
    Madry et al.'s training attack. Works on a module in train mode (dropout stays active);
    parameter gradients are not accumulated.

    Args:
        forward: classifier (module or callable) ``(B, T, F) -> (B, L)``.
        x: clean inputs ``(B, T, F)`` inside ``bounds``; y: ``(B,)`` labels.
        eps: ball radius, model units (``pixels / 255`` for MNIST).
        alpha: step size, model units.
        steps: number of steps.
        random_start: start at a uniform random point of the ball.
        bounds: valid input range.
        generator: randomness for the start.

    Returns:
        ``(B, T, F)`` adversarial inputs, same dtype and device as ``x``, detached.

    Raises:
        ValueError: on non-positive ``eps``/``alpha``/``steps`` or a bad ``x``.
    """
    check_positive(eps, name="eps")
    check_positive(alpha, name="alpha")
    _check_steps(steps)
    check_sequences(x, name="x")
    radius = torch.full((x.shape[0],), float(eps), dtype=x.dtype, device=x.device)
    adv = projected_gradient(
        differentiable_forward(forward, order=1), x, y, eps=radius, alpha=alpha, steps=steps,
        norm="linf", random_init=random_start, bounds=bounds, generator=generator,
        stop_when_fooled=False,
    )
    return adv.detach()


def _deterministic(forward: ForwardFn) -> bool:
    """False for a module (or bound method of one) in training mode: dropout makes the PGD map
    random, so a repeated iterate does not imply a cycle."""
    owner = getattr(forward, "__self__", forward)
    return not bool(getattr(owner, "training", False))


class _PGDBase(FixedEpsilonAttack):
    def __init__(
        self,
        *,
        alpha: float,
        steps: int = 30,
        random_start: bool = True,
        restarts: int = 1,
        stop_when_fooled: bool = True,
        cycle_window: int = 4,
    ) -> None:
        check_positive(alpha, name="alpha")
        _check_steps(steps)
        _check_steps(restarts, "restarts")
        self.alpha = float(alpha)
        self.steps = steps
        self.random_start = random_start
        self.restarts = restarts
        self.stop_when_fooled = stop_when_fooled
        if isinstance(cycle_window, bool) or not isinstance(cycle_window, int) or cycle_window < 0:
            raise ValueError(f"cycle_window must be a non-negative integer, got {cycle_window!r}")
        self.cycle_window = cycle_window

    def run(
        self,
        forward: ForwardFn,
        inputs: Tensor,
        labels: Tensor,
        *,
        eps: Tensor,
        bounds: Bounds,
        generator: Randomness,
    ) -> Tensor:
        return projected_gradient(
            forward, inputs, labels, eps=eps, alpha=self.alpha, steps=self.steps,
            norm=self.norm, random_init=self.random_start, bounds=bounds, generator=generator,
            stop_when_fooled=self.stop_when_fooled,
            cycle_window=self.cycle_window if _deterministic(forward) else 0,
        )


class LinfPGD(_PGDBase):
    """L∞ PGD: sign-gradient steps of size ``alpha``, projected onto the ε-ball and bounds.

    With ``stop_when_fooled`` (default) an input stops moving at its first misclassified
    iterate, which is returned: never weaker than scoring the last iterate, and cheaper.

    Args:
        alpha: step size (model units); the poster uses 2/255.
        steps: gradient steps (poster: 30).
        random_start: start uniformly in the ball (as ``torchattacks.PGD``).
        restarts: tries from fresh random starts for inputs not yet fooled.
        stop_when_fooled: freeze inputs at their first misclassified iterate.
        cycle_window: retire an input whose iterate repeats one of its last ``cycle_window``
            iterates (an exact shortcut for a deterministic model: see
            :func:`projected_gradient`); 0 disables it. Skipped for modules in train mode.
    """

    norm = "linf"
    name = "pgd"


class L2PGD(_PGDBase):
    """L2 PGD: normalised-gradient steps of size ``alpha``, projected onto the L2 ball.

    Args: as :class:`LinfPGD`; ``alpha`` and ε are L2 lengths over all ``T × F`` entries.
    """

    norm = "l2"
    name = "pgd-l2"


class FGSM(FixedEpsilonAttack):
    """Fast gradient sign method: one step ``x + ε · sign(∇_x CE)``, clipped to the bounds."""

    norm = "linf"
    name = "fgsm"

    def run(
        self,
        forward: ForwardFn,
        inputs: Tensor,
        labels: Tensor,
        *,
        eps: Tensor,
        bounds: Bounds,
        generator: Randomness,
    ) -> Tensor:
        xa = inputs.detach().requires_grad_(True)
        with torch.enable_grad():
            loss = F.cross_entropy(forward(xa), labels, reduction="sum")
            (grad,) = torch.autograd.grad(loss, xa)
        return inputs + _rows(eps.to(inputs), inputs) * grad.sign()


__all__ = ["FGSM", "L2PGD", "LinfPGD", "Model", "pgd_linf", "projected_gradient"]
