"""Margins and input gradients against autograd oracles and finite differences (float64)."""

from __future__ import annotations

import pytest
import torch
from geometry_cases import CELLS, tiny_case

from seqrobust.geometry import margin_gradient, margin_value, margins


@pytest.mark.parametrize("cell", CELLS)
def test_margins_match_sorted_logits(cell: str) -> None:
    case = tiny_case(cell)
    logits = case.f(case.x).detach()
    m = margins(case.f, case.x)
    top2 = logits.topk(2, dim=1)
    torch.testing.assert_close(m.pred, top2.indices[:, 0])
    torch.testing.assert_close(m.runner_up, top2.indices[:, 1])
    torch.testing.assert_close(m.t, top2.values[:, 0] - top2.values[:, 1])
    assert bool((m.t >= 0).all())
    assert bool(torch.isinf(m.all.gather(1, m.pred[:, None])).all())
    expected = logits.gather(1, m.pred[:, None]) - logits
    finite = ~torch.isinf(m.all)
    torch.testing.assert_close(m.all[finite], expected[finite])
    torch.testing.assert_close(m.all.min(dim=1).values, m.t)


def test_margin_value_uses_fixed_classes_and_keeps_graph() -> None:
    case = tiny_case("gru")
    other = (case.pred + 1) % 4  # any class, not the runner-up
    x = case.x.clone().requires_grad_(True)
    value = margin_value(case.f, x, pred=case.pred, other=other)
    logits = case.f(case.x).detach()
    expected = logits.gather(1, case.pred[:, None])[:, 0] - logits.gather(1, other[:, None])[:, 0]
    torch.testing.assert_close(value.detach(), expected)
    assert value.requires_grad


@pytest.mark.parametrize("cell", CELLS)
def test_margin_gradient_matches_jacrev_and_finite_differences(cell: str) -> None:
    case = tiny_case(cell)
    t, grad = margin_gradient(case.f, case.x, pred=case.pred, other=case.other)
    torch.testing.assert_close(t, margins(case.f, case.x).t)
    for b in range(case.x.shape[0]):

        def fb(xb: torch.Tensor, b: int = b) -> torch.Tensor:
            logits = case.f(xb[None])[0]
            return logits[case.pred[b]] - logits[case.other[b]]

        torch.testing.assert_close(
            grad[b], torch.func.jacrev(fb)(case.x[b]), rtol=1e-10, atol=1e-12
        )
    direction = torch.randn_like(case.x)
    h = 1e-5
    plus = margin_value(case.f, case.x + h * direction, pred=case.pred, other=case.other)
    minus = margin_value(case.f, case.x - h * direction, pred=case.pred, other=case.other)
    central = (plus - minus).detach() / (2 * h)  # error O(h²) ≈ 1e-10
    torch.testing.assert_close((grad * direction).sum(dim=(1, 2)), central, rtol=1e-7, atol=1e-8)


def test_margin_gradient_of_affine_model_is_its_weight() -> None:
    weight = torch.randn(4, 12, dtype=torch.float64)

    def f(x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1) @ weight.T

    x = torch.randn(2, 4, 3, dtype=torch.float64)
    pred, other = torch.tensor([0, 2]), torch.tensor([1, 3])
    _, grad = margin_gradient(f, x, pred=pred, other=other)
    torch.testing.assert_close(grad.flatten(1), weight[pred] - weight[other])
