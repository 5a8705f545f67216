"""``make_regularizer``: the training configuration's names mapped to penalties."""

from __future__ import annotations

from seqrobust._checks import check_choice
from seqrobust.regularizers.adversarial import AdversarialRegularizer
from seqrobust.regularizers.base import Regularizer
from seqrobust.regularizers.cure import CureRegularizer
from seqrobust.regularizers.hessian_frobenius import HESSIAN_ESTIMATORS, HessianRegularizer
from seqrobust.regularizers.jacobian import JacobianRegularizer

REGULARIZERS: tuple[str, ...] = ("hessian", "jacobian", "cure", "pgd-at")


def make_regularizer(
    name: str,
    *,
    estimator: str = "fd",
    probes: int = 1,
    fd_step: float | None = None,
    at_eps: float = 8.0 / 255.0,
    at_steps: int = 7,
    at_alpha: float = 2.0 / 255.0,
) -> Regularizer:
    """The penalty ``name`` configured from the training options.

    Args:
        name: ``"hessian"`` (input-Hessian Frobenius norm), ``"jacobian"`` (input-Jacobian
            Frobenius norm), ``"cure"`` (CURE) or ``"pgd-at"`` (PGD adversarial training).
        estimator: Hessian estimator: ``"fd"``, ``"central"``, ``"hutchinson"``, ``"exact"``.
            For ``"jacobian"``, ``"exact"`` sums all output rows and anything else uses random
            projections; the other penalties ignore it.
        probes: random probes per input (Hessian), projections per input (Jacobian).
        fd_step: finite-difference step ``h`` (Hessian ``"fd"``/``"central"``; CURE's ``h``).
            ``None``: the measured defaults (Hessian); for CURE the FGSM point
            ``x + at_eps * sign(grad)``, i.e. ``h = at_eps * sqrt(d)``.
        at_eps: L-infinity radius, model units (PGD-AT; CURE's default ``h``).
        at_steps: PGD steps (PGD-AT).
        at_alpha: PGD step size, model units (PGD-AT).

    Returns:
        A :class:`~seqrobust.regularizers.base.Regularizer`.

    Raises:
        ValueError: on an unknown name or estimator, or a bad option value.
    """
    check_choice(name, REGULARIZERS, name="regulariser")
    check_choice(estimator, HESSIAN_ESTIMATORS, name="estimator")
    if name == "hessian":
        return HessianRegularizer(estimator=estimator, probes=probes, fd_step=fd_step)
    if name == "jacobian":
        return JacobianRegularizer(projections=probes, exact=estimator == "exact")
    if name == "cure":
        return CureRegularizer(step=fd_step, eps=at_eps)
    return AdversarialRegularizer(eps=at_eps, alpha=at_alpha, steps=at_steps)
