"""Reliability checks through torchattacks (optional dependency, imported lazily):

- APGD-CE and APGD-DLR (Croce & Hein, 2020, https://arxiv.org/abs/2003.01690): step-size-free
  PGD; DLR is invariant to logit scaling and catches masking by saturated softmax.
- Square (Andriushchenko et al., 2020, https://arxiv.org/abs/1912.00049): a score-based
  black-box attack; if it beats the white-box attacks, the gradients are misleading
  ("gradient masking").

torchattacks expects images ``(N, C, H, W)`` in ``[0, 1]``; sequences ``(N, T, F)`` are passed as
``(N, 1, T, F)`` and other bounds are rescaled to ``[0, 1]``. torchattacks reseeds the global
RNG; that state is saved and restored around each call. Install with
``pip install --no-deps torchattacks==3.5.1`` (it imports without torchvision).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any, Literal

import torch
from torch import Tensor, nn

from seqrobust._checks import check_choice, check_positive
from seqrobust.attacks.base import Bounds, FixedEpsilonAttack, Randomness, RowSeeds
from seqrobust.types import ForwardFn


class MissingDependencyError(ValueError):
    """An optional dependency needed by the requested attack is not installed."""


def torchattacks_module() -> ModuleType:
    """Import torchattacks, or raise a one-line :class:`MissingDependencyError`."""
    try:
        import torchattacks
    except ImportError:
        raise MissingDependencyError(
            "this attack needs torchattacks: pip install --no-deps torchattacks==3.5.1 "
            "(or pip install 'seqrobust[attacks]')"
        ) from None
    return torchattacks


class _ImageView(nn.Module):
    """``(N, 1, T, F)`` in ``[0, 1]`` -> logits of ``forward`` on ``(N, T, F)`` in ``bounds``.

    Holds the forward function outside the module tree, so torchattacks' ``eval()``/``train()``
    calls never change the caller's model; a zero-size parameter tells it the device.
    """

    def __init__(self, forward: ForwardFn, bounds: Bounds, like: Tensor) -> None:
        super().__init__()
        self._fn = (forward,)
        self.lo, self.span = bounds[0], bounds[1] - bounds[0]
        self.anchor = nn.Parameter(torch.empty(0, device=like.device, dtype=like.dtype))

    def forward(self, images: Tensor) -> Tensor:
        return self._fn[0](self.lo + self.span * images[:, 0])


def _seed(generator: Randomness, fallback: int) -> int:
    """One seed for a torchattacks call (batch-level randomness: with :class:`RowSeeds` it is
    mixed from the batch's row seeds, so it depends on the batch's composition)."""
    if generator is None:
        return fallback
    if isinstance(generator, RowSeeds):
        mixed = fallback
        for seed in generator.seeds.tolist():
            mixed = (mixed * 0x9E3779B1 + seed + 1) % (2**31 - 1)
        return mixed
    return int(torch.randint(0, 2**31 - 1, (1,), generator=generator, device=generator.device))


class _TorchattacksAttack(FixedEpsilonAttack):
    seed: int = 0

    def _build(self, ta: ModuleType, model: nn.Module, eps: float, seed: int) -> Any:
        raise NotImplementedError

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
        ta = torchattacks_module()
        lo, span = bounds[0], bounds[1] - bounds[0]
        wrapped = _ImageView(forward, bounds, inputs).eval()
        images = ((inputs - lo) / span).unsqueeze(1).clamp(0.0, 1.0)
        out = inputs.clone()
        devices = [inputs.device] if inputs.device.type == "cuda" else []
        for value in torch.unique(eps).tolist():
            rows = torch.nonzero(eps == value).squeeze(1)
            seed = _seed(generator, self.seed)
            with torch.random.fork_rng(devices=devices):
                atk = self._build(ta, wrapped, value / span, seed)
                adv = atk(images[rows], labels[rows])
            out[rows] = lo + span * adv[:, 0].to(inputs)
        return out


class APGD(_TorchattacksAttack):
    """APGD with the cross-entropy (``loss="ce"``) or DLR (``loss="dlr"``) loss, L∞.

    Args:
        loss: ``"ce"`` or ``"dlr"`` (DLR needs at least 3 classes).
        steps: iterations per restart (AutoAttack uses 100).
        restarts: random restarts inside torchattacks.
        rho: step-size halving threshold.
        seed: seed used when no generator is passed.
    """

    norm = "linf"
    name = "apgd"

    def __init__(
        self,
        *,
        loss: Literal["ce", "dlr"] = "ce",
        steps: int = 100,
        restarts: int = 1,
        rho: float = 0.75,
        seed: int = 0,
    ) -> None:
        check_choice(loss, ("ce", "dlr"), name="APGD loss")
        for label, value in (("steps", steps), ("restarts", restarts)):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"{label} must be a positive integer, got {value!r}")
        check_positive(rho, name="rho")
        self.loss, self.steps, self.rho, self.seed = loss, steps, rho, seed
        self.ta_restarts = restarts

    def _build(self, ta: ModuleType, model: nn.Module, eps: float, seed: int) -> Any:
        return ta.APGD(
            model, norm="Linf", eps=eps, steps=self.steps, n_restarts=self.ta_restarts,
            seed=seed, loss=self.loss, rho=self.rho,
        )

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
        if self.loss == "dlr":
            with torch.no_grad():
                classes = forward(inputs[:1]).shape[-1]
            if classes < 3:
                raise ValueError(f"APGD-DLR needs at least 3 classes, the model has {classes}")
        return super().run(forward, inputs, labels, eps=eps, bounds=bounds, generator=generator)


class Square(_TorchattacksAttack):
    """The L∞ Square attack (black-box, margin loss, random square updates).

    Args:
        queries: model queries per restart.
        restarts: restarts inside torchattacks.
        p_init: initial fraction of entries changed per update.
        seed: seed used when no generator is passed.
    """

    norm = "linf"
    name = "square"

    def __init__(
        self, *, queries: int = 1000, restarts: int = 1, p_init: float = 0.8, seed: int = 0
    ) -> None:
        for label, value in (("queries", queries), ("restarts", restarts)):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"{label} must be a positive integer, got {value!r}")
        check_positive(p_init, name="p_init")
        self.queries, self.ta_restarts, self.p_init, self.seed = queries, restarts, p_init, seed

    def _build(self, ta: ModuleType, model: nn.Module, eps: float, seed: int) -> Any:
        return ta.Square(
            model, norm="Linf", eps=eps, n_queries=self.queries, n_restarts=self.ta_restarts,
            p_init=self.p_init, seed=seed, loss="margin",
        )


__all__ = ["APGD", "MissingDependencyError", "Square", "torchattacks_module"]
