"""CURE: curvature regularisation by a finite difference of loss gradients.

Moosavi-Dezfooli, Fawzi, Uesato and Frossard, "Robustness via curvature regularization, and
vice versa" (CVPR 2019, https://arxiv.org/abs/1811.09716), section 4:

    L_r(x) = || grad_x l(x + h z) - grad_x l(x) ||^2,   z = sign(grad_x l(x)) / ||sign(...)||,

with ``l`` the cross-entropy of the true label. ``z`` is a constant (no gradient flows
through it); ``h`` is large on purpose (curvature at the scale of the attack, not a
derivative). As in the paper the value is the *squared* norm (the authors' code takes the
norm); ``z`` reuses the gradient at ``x`` that the penalty needs anyway, so one
regularised step costs two gradient evaluations with ``create_graph``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from seqrobust._checks import check_positive, check_sequences
from seqrobust.models import differentiable_forward
from seqrobust.types import ForwardFn


def _loss_grad(forward: ForwardFn, x: Tensor, y: Tensor, *, create_graph: bool) -> Tensor:
    xr = x.detach().requires_grad_(True)
    loss = F.cross_entropy(forward(xr), y, reduction="sum")  # per-sample gradients
    (g,) = torch.autograd.grad(loss, xr, create_graph=create_graph)
    return g


def cure_penalty(
    forward: ForwardFn,
    x: Tensor,
    y: Tensor,
    *,
    step: float | None = None,
    eps: float = 8.0 / 255.0,
    create_graph: bool = True,
) -> Tensor:
    """Per-input CURE penalty ``||grad l(x + h z) - grad l(x)||^2``.

    Args:
        forward: classifier ``(B, T, F) -> (B, L)``; with ``create_graph=True`` it must support
            double backward.
        x: inputs ``(B, T, F)``; y: labels ``(B,)``.
        step: ``h``, the Euclidean length of the displacement (model units); ``None`` takes
            ``h = eps * ||sign(grad l(x))||`` per input, so that ``x + h z = x + eps sign(grad)``
            is the FGSM point of the L-infinity ball of radius ``eps`` (``h = eps sqrt(d)``
            unless some gradient components are exactly 0, e.g. on padding).
        eps: L-infinity radius that sets the default ``h``.
        create_graph: keep the graph so the value is differentiable w.r.t. the weights.

    Returns:
        ``(B,)`` penalties, same dtype and device as ``x``.

    Raises:
        ValueError: on a bad ``x`` or a non-positive ``step`` or ``eps``.
    """
    check_sequences(x)
    if step is not None:
        check_positive(step, name="step")
    check_positive(eps, name="eps")
    with torch.enable_grad():
        g0 = _loss_grad(forward, x, y, create_graph=create_graph)
        signs = torch.sign(g0.detach())
        if step is None:
            displacement = eps * signs
        else:
            norms = signs.flatten(1).norm(dim=1).clamp_min(1.0)  # a zero gradient gives z = 0
            displacement = (step / norms).view(-1, *([1] * (x.dim() - 1))) * signs
        g1 = _loss_grad(forward, x.detach() + displacement, y, create_graph=create_graph)
    return (g1 - g0).pow(2).flatten(1).sum(1)


@dataclass(frozen=True)
class CureRegularizer:
    """Training penalty: the mean over inputs of the CURE penalty.

    Attributes:
        step: ``h`` (model units); ``None``: the FGSM point, ``h = eps ||sign(grad)||``.
        eps: L-infinity radius that sets the default ``h``.
    """

    step: float | None = None
    eps: float = 8.0 / 255.0

    def __post_init__(self) -> None:
        if self.step is not None:
            check_positive(self.step, name="fd_step")
        check_positive(self.eps, name="at_eps")

    def __call__(
        self, model: nn.Module, x: Tensor, y: Tensor, *, generator: torch.Generator | None = None
    ) -> Tensor:
        """``mean_b L_r(x_b)`` for inputs ``x`` ``(B, T, F)`` and labels ``y`` ``(B,)``; CURE is
        deterministic, ``generator`` is not used."""
        forward = differentiable_forward(model)
        return cure_penalty(forward, x, y, step=self.step, eps=self.eps).mean()
