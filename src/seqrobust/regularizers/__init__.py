"""Training penalties for robustness: input-Hessian and input-Jacobian Frobenius norms, CURE and
PGD adversarial training, behind one factory (:func:`make_regularizer`) used by the training
loop."""

from seqrobust.regularizers.adversarial import AdversarialRegularizer as AdversarialRegularizer
from seqrobust.regularizers.base import Regularizer as Regularizer
from seqrobust.regularizers.cure import CureRegularizer as CureRegularizer
from seqrobust.regularizers.cure import cure_penalty as cure_penalty
from seqrobust.regularizers.factory import REGULARIZERS as REGULARIZERS
from seqrobust.regularizers.factory import make_regularizer as make_regularizer
from seqrobust.regularizers.hessian_frobenius import DEFAULT_FD_STEP as DEFAULT_FD_STEP
from seqrobust.regularizers.hessian_frobenius import (
    HESSIAN_ESTIMATORS as HESSIAN_ESTIMATORS,
)
from seqrobust.regularizers.hessian_frobenius import HessianRegularizer as HessianRegularizer
from seqrobust.regularizers.hessian_frobenius import hessian_frobenius as hessian_frobenius
from seqrobust.regularizers.jacobian import JacobianRegularizer as JacobianRegularizer
from seqrobust.regularizers.jacobian import jacobian_frobenius as jacobian_frobenius

__all__ = [
    "DEFAULT_FD_STEP",
    "HESSIAN_ESTIMATORS",
    "REGULARIZERS",
    "AdversarialRegularizer",
    "CureRegularizer",
    "HessianRegularizer",
    "JacobianRegularizer",
    "Regularizer",
    "cure_penalty",
    "hessian_frobenius",
    "jacobian_frobenius",
    "make_regularizer",
]
