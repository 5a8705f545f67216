"""Bounds on the distance to, and the probability of crossing, the decision boundary."""

from seqrobust.bounds.beta import beta_2d as beta_2d
from seqrobust.bounds.beta import beta_chernoff as beta_chernoff
from seqrobust.bounds.beta import beta_goe as beta_goe
from seqrobust.bounds.beta import beta_imhof as beta_imhof
from seqrobust.bounds.curvature import CurvatureBounds as CurvatureBounds
from seqrobust.bounds.curvature import bounds_from_hessian as bounds_from_hessian
from seqrobust.bounds.curvature import curvature_lower_bound as curvature_lower_bound
from seqrobust.bounds.curvature import curvature_upper_bound as curvature_upper_bound
from seqrobust.bounds.curvature import min_over_competitors as min_over_competitors
from seqrobust.bounds.curvature import top_eigvector_toward as top_eigvector_toward
from seqrobust.bounds.curvature import witness_bound as witness_bound
from seqrobust.bounds.curvature import witness_vector as witness_vector
from seqrobust.bounds.quadratic import Certificate as Certificate
from seqrobust.bounds.quadratic import QuadraticDistance as QuadraticDistance
from seqrobust.bounds.quadratic import certify as certify
from seqrobust.bounds.quadratic import exact_distance as exact_distance
from seqrobust.bounds.quadratic import quadratic_value as quadratic_value
from seqrobust.bounds.random_noise import b2_bound as b2_bound
from seqrobust.bounds.random_noise import closed_form as closed_form
from seqrobust.bounds.random_noise import goe_average_probability as goe_average_probability
from seqrobust.bounds.random_noise import kappa_grid as kappa_grid
from seqrobust.bounds.random_noise import poster_formula as poster_formula
from seqrobust.bounds.random_noise import theorem_b as theorem_b
from seqrobust.bounds.random_noise import theorem_b_kappa as theorem_b_kappa
from seqrobust.bounds.random_noise import union_bound as union_bound
from seqrobust.bounds.sphere import cap_bound as cap_bound
from seqrobust.bounds.sphere import sphere_tail as sphere_tail
from seqrobust.bounds.sphere import threshold as threshold

__all__ = [
    "CurvatureBounds",
    "bounds_from_hessian",
    "curvature_lower_bound",
    "curvature_upper_bound",
    "min_over_competitors",
    "top_eigvector_toward",
    "witness_bound",
    "witness_vector",
    "Certificate",
    "QuadraticDistance",
    "certify",
    "exact_distance",
    "quadratic_value",
    "b2_bound",
    "beta_2d",
    "beta_chernoff",
    "beta_goe",
    "beta_imhof",
    "cap_bound",
    "closed_form",
    "goe_average_probability",
    "kappa_grid",
    "poster_formula",
    "sphere_tail",
    "theorem_b",
    "theorem_b_kappa",
    "threshold",
    "union_bound",
]
