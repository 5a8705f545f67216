"""Per-step profile: gradient norms and block curvatures against dense Hessian blocks."""

from __future__ import annotations

import pytest
import torch
from geometry_cases import CELLS, dense_neg_margin, tiny_case

from seqrobust.geometry import margin_gradient, time_step_profile


def _dense_blocks(dense: torch.Tensor, steps: int, feats: int) -> torch.Tensor:
    full = dense.reshape(-1, steps, feats, steps, feats)
    return torch.stack([full[:, s, :, s, :] for s in range(steps)], dim=1)  # (B, T, F, F)


@pytest.mark.parametrize("cell", CELLS)
def test_profile_matches_dense_blocks(cell: str) -> None:
    case = tiny_case(cell)
    profile = time_step_profile(case.f, case.x, pred=case.pred, other=case.other)
    _, grad = margin_gradient(case.f, case.x, pred=case.pred, other=case.other)
    torch.testing.assert_close(profile.grad_norm, grad.norm(dim=2))
    blocks = _dense_blocks(dense_neg_margin(cell), 4, 3)
    expected = torch.linalg.eigvalsh(blocks)[..., -1]
    torch.testing.assert_close(profile.curvature, expected, rtol=1e-10, atol=1e-12)
    assert profile.residual is not None and profile.residual.max() < 1e-12
    assert profile.curvature.shape == (3, 4) and profile.grad_norm.min() > 0


def test_profile_lanczos_path_for_wide_steps() -> None:
    case = tiny_case("gru")
    steps2 = case.x.reshape(3, 2, 6)  # 2 steps of 6 features: same model read differently

    def f(x: torch.Tensor) -> torch.Tensor:
        return case.f(x.reshape(3, 4, 3))

    dense = dense_neg_margin("gru")
    expected = torch.linalg.eigvalsh(_dense_blocks(dense, 2, 6))[..., -1]
    exact = time_step_profile(f, steps2, pred=case.pred, other=case.other, max_iter=6)
    torch.testing.assert_close(exact.curvature, expected, rtol=1e-10, atol=1e-12)
    gen = torch.Generator().manual_seed(0)
    short = time_step_profile(
        f, steps2, pred=case.pred, other=case.other, max_iter=3, generator=gen
    )
    assert short.residual is not None
    assert bool((short.curvature <= expected + 1e-12).all())  # Ritz values under-estimate
    assert bool((expected - short.curvature <= short.residual + 1e-12).all())
