"""Error paths of the geometry layer: bad input raises a one-line ValueError."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from geometry_cases import tiny_case

from seqrobust.geometry import (
    hessian_frobenius_hutchinson,
    hvp_neg_margin,
    lanczos,
    margin_gradient,
    margin_value,
    margins,
    time_step_profile,
    top_curvature,
)

CASE = tiny_case("rnn")
X, PRED, OTHER = CASE.x, CASE.pred, CASE.other


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: margins(CASE.f, X[0]), "shape"),
        (lambda: margins(CASE.f, X.long()), "floating"),
        (lambda: margins(CASE.f, X * float("nan")), "NaN"),
        (lambda: margins(lambda x: x.sum(dim=(1, 2))[:, None], X), "at least 2"),
        (lambda: margin_value(CASE.f, X, pred=PRED.double(), other=OTHER), "integer"),
        (lambda: margin_value(CASE.f, X, pred=PRED[:2], other=OTHER), "shape"),
        (lambda: margin_value(CASE.f, X, pred=PRED + 10, other=OTHER), "outside"),
        (lambda: margin_gradient(CASE.f, X, pred=PRED, other=OTHER - 10), "outside"),
        (lambda: hvp_neg_margin(CASE.f, X, X[:1], pred=PRED, other=OTHER), "shape"),
        (lambda: top_curvature(CASE.f, X, pred=PRED, other=OTHER, max_iter=0), "max_iter"),
        (lambda: top_curvature(CASE.f, X, pred=PRED, other=OTHER, tol=-1.0), "tol"),
        (lambda: lanczos(lambda v: v, torch.zeros(2, 3)), "zero"),
        (lambda: lanczos(lambda v: v, torch.ones(3)), "shape"),
        (lambda: hessian_frobenius_hutchinson(CASE.f, X, probes=0), "probes"),
        (lambda: hessian_frobenius_hutchinson(CASE.f, X, outputs="all"), "outputs"),  # type: ignore[arg-type]
        (lambda: time_step_profile(CASE.f, X, pred=PRED, other=OTHER, max_iter=0), "max_iter"),
    ],
)
def test_bad_input_raises_value_error(call: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()
