"""Input Hessians of the margin: batched HVPs and dense oracles (float64, every cell type)."""

from __future__ import annotations

import pytest
import torch
from geometry_cases import CELLS, dense_logits, dense_neg_margin, tiny_case

from seqrobust.geometry import (
    dense_hessian_neg_margin,
    hvp_neg_margin,
    neg_margin_hvp_operator,
    top_curvature,
)


@pytest.mark.parametrize("cell", CELLS)
def test_batched_hvp_matches_dense_products(cell: str) -> None:
    case = tiny_case(cell)
    dense = dense_neg_margin(cell)
    w = torch.randn_like(case.x)
    got = hvp_neg_margin(case.f, case.x, w, pred=case.pred, other=case.other)
    expected = torch.einsum("bij,bj->bi", dense, w.flatten(1)).view_as(w)
    torch.testing.assert_close(got, expected, rtol=1e-10, atol=1e-12)
    assert got.abs().max() > 1e-3  # a real, non-trivial curvature


@pytest.mark.parametrize("cell", CELLS)
def test_dense_hessian_symmetric_and_equal_to_reverse_over_reverse(cell: str) -> None:
    case = tiny_case(cell)
    dense = dense_neg_margin(cell)
    torch.testing.assert_close(dense, dense.mT, rtol=0, atol=1e-12)
    for b in range(case.x.shape[0]):

        def neg_margin(xb: torch.Tensor, b: int = b) -> torch.Tensor:
            logits = case.f(xb[None])[0]
            return logits[case.other[b]] - logits[case.pred[b]]

        oracle = torch.autograd.functional.hessian(neg_margin, case.x[b])  # double backward
        torch.testing.assert_close(dense[b], oracle.reshape(12, 12), rtol=1e-10, atol=1e-12)


def test_operator_accepts_stacked_tangents_and_any_class_pair() -> None:
    case = tiny_case("lstm")
    other = (case.pred + 2) % 4
    operator = neg_margin_hvp_operator(case.f, case.x, pred=case.pred, other=other)
    tangents = torch.randn(5, *case.x.shape, dtype=torch.float64)
    stacked = operator(tangents)
    singles = torch.stack([operator(t) for t in tangents])
    torch.testing.assert_close(stacked, singles, rtol=1e-12, atol=1e-14)
    dense = dense_hessian_neg_margin(case.f, case.x, pred=case.pred, other=other)
    expected = torch.einsum("bij,kbj->kbi", dense, tangents.flatten(2)).view_as(tangents)
    torch.testing.assert_close(stacked, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("cell", ["rnn", "gru"])
def test_logit_hessians_match_per_class_oracle_and_margin_hessian(cell: str) -> None:
    case = tiny_case(cell)
    logit_h = dense_logits(cell)
    assert logit_h.shape == (3, 4, 12, 12)
    for k in range(4):

        def logit(xb: torch.Tensor, k: int = k) -> torch.Tensor:
            return case.f(xb[None])[0, k]

        oracle = torch.autograd.functional.hessian(logit, case.x[1])
        torch.testing.assert_close(logit_h[1, k], oracle.reshape(12, 12), rtol=1e-10, atol=1e-12)
    rows = torch.arange(3)
    combined = logit_h[rows, case.other] - logit_h[rows, case.pred]
    torch.testing.assert_close(combined, dense_neg_margin(cell), rtol=1e-10, atol=1e-12)


def test_affine_model_has_zero_curvature() -> None:
    weight = torch.randn(4, 12, dtype=torch.float64)

    def f(x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1) @ weight.T + 1.0

    x = torch.randn(2, 4, 3, dtype=torch.float64)
    pred, other = torch.tensor([0, 1]), torch.tensor([2, 3])
    w = torch.randn_like(x)
    assert bool((hvp_neg_margin(f, x, w, pred=pred, other=other) == 0).all())
    top = top_curvature(f, x, pred=pred, other=other)
    assert bool((top.value == 0).all()) and bool((top.residual == 0).all())
    assert top.iterations == 1  # the zero operator is an invariant subspace at once


def test_products_work_under_no_grad_and_leave_inputs_alone() -> None:
    case = tiny_case("rnn")
    x = case.x.clone().requires_grad_(True)
    w = torch.randn_like(x)
    outside = hvp_neg_margin(case.f, x, w, pred=case.pred, other=case.other)
    with torch.no_grad():
        inside = hvp_neg_margin(case.f, x, w, pred=case.pred, other=case.other)
    torch.testing.assert_close(inside, outside, rtol=0, atol=0)
    assert x.grad is None and not outside.requires_grad
