"""The Hessian-Frobenius training penalty: the mean over inputs of an estimate of
``R(x) = sum_k ||Hess_x f_k(x)||_F^2`` from :mod:`seqrobust.geometry.frobenius` (the one family
of estimators; their definitions, variances and default steps are documented there)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from seqrobust._checks import check_choice, check_positive
from seqrobust.geometry.frobenius import (
    DEFAULT_FD_STEP,
    HESSIAN_ESTIMATORS,
    HessianEstimator,
    _check_probes,
    finite_difference_samples,
    hessian_frobenius,
    hutchinson_samples,
)
from seqrobust.models import differentiable_forward
from seqrobust.types import ForwardFn


@dataclass(frozen=True)
class HessianRegularizer:
    """Training penalty: the mean over inputs of an estimate of ``R(x)`` (theory.md §6).

    Attributes:
        estimator: ``"fd"``, ``"central"``, ``"hutchinson"`` or ``"exact"``.
        probes: samples per input.
        fd_step: finite-difference step (``None``: :data:`DEFAULT_FD_STEP`).
    """

    estimator: str = "fd"
    probes: int = 1
    fd_step: float | None = None

    def __post_init__(self) -> None:
        check_choice(self.estimator, HESSIAN_ESTIMATORS, name="estimator")
        _check_probes(self.probes)
        if self.fd_step is not None:
            check_positive(self.fd_step, name="fd_step")

    def __call__(
        self, model: nn.Module | ForwardFn, x: Tensor, y: Tensor, *,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """``mean_b R_hat(x_b)`` for inputs ``x`` ``(B, T, F)``; labels are not used."""
        values = hessian_frobenius(
            differentiable_forward(model), x, estimator=self.estimator,  # type: ignore[arg-type]
            probes=self.probes, fd_step=self.fd_step, generator=generator,
        )
        return values.mean()


__all__ = [
    "DEFAULT_FD_STEP", "HESSIAN_ESTIMATORS", "HessianEstimator", "HessianRegularizer",
    "finite_difference_samples", "hessian_frobenius", "hutchinson_samples",
]
