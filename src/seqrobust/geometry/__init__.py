"""Decision-boundary geometry per input: margins, input gradients and Hessians, top curvature,
Hessian Frobenius norms and per-step profiles (theory.md §1, §2, §6).

Every function takes a forward callable ``f: (B, T, F) -> (B, L)`` and tensors; pass
``seqrobust.models.differentiable_forward(model, functional=True)`` for anything with second
derivatives.
"""

from seqrobust.geometry.frobenius import (
    hessian_frobenius_hutchinson as hessian_frobenius_hutchinson,
)
from seqrobust.geometry.frobenius import hessian_frobenius_samples as hessian_frobenius_samples
from seqrobust.geometry.frobenius_exact import hessian_frobenius_exact as hessian_frobenius_exact
from seqrobust.geometry.input_grad import margin_gradient as margin_gradient
from seqrobust.geometry.input_hessian import dense_hessian_neg_margin as dense_hessian_neg_margin
from seqrobust.geometry.input_hessian import dense_logit_hessians as dense_logit_hessians
from seqrobust.geometry.input_hessian import hvp_neg_margin as hvp_neg_margin
from seqrobust.geometry.input_hessian import neg_margin_hvp_operator as neg_margin_hvp_operator
from seqrobust.geometry.lanczos import LanczosResult as LanczosResult
from seqrobust.geometry.lanczos import TopCurvature as TopCurvature
from seqrobust.geometry.lanczos import lanczos as lanczos
from seqrobust.geometry.lanczos import top_curvature as top_curvature
from seqrobust.geometry.margin import Margins as Margins
from seqrobust.geometry.margin import margin_value as margin_value
from seqrobust.geometry.margin import margins as margins
from seqrobust.geometry.profile import TimeStepProfile as TimeStepProfile
from seqrobust.geometry.profile import time_step_profile as time_step_profile

__all__ = [
    # margins and first order
    "Margins",
    "margins",
    "margin_value",
    "margin_gradient",
    # second order
    "hvp_neg_margin",
    "neg_margin_hvp_operator",
    "dense_hessian_neg_margin",
    "dense_logit_hessians",
    # top curvature
    "LanczosResult",
    "TopCurvature",
    "lanczos",
    "top_curvature",
    # Frobenius norms (analysis)
    "hessian_frobenius_exact",
    "hessian_frobenius_hutchinson",
    "hessian_frobenius_samples",
    # per-step profile
    "TimeStepProfile",
    "time_step_profile",
]
