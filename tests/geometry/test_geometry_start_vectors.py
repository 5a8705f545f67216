"""Explicit Lanczos start vectors (``start=``) reproduce the generator's draw, row by row."""

from __future__ import annotations

import pytest
import torch

from seqrobust.geometry import margins, time_step_profile, top_curvature
from seqrobust.models import RecurrentClassifier, differentiable_forward


def _case():
    torch.manual_seed(3)
    model = RecurrentClassifier(input_size=3, num_classes=4, hidden_size=5).double().eval()
    f = differentiable_forward(model, functional=True)
    x = torch.randn(3, 4, 3, dtype=torch.float64)
    m = margins(f, x)
    return f, x, m.pred, m.runner_up


def test_top_curvature_start_equals_generator_draw_and_is_per_row() -> None:
    f, x, pred, other = _case()
    drawn = top_curvature(
        f, x, pred=pred, other=other, max_iter=4, generator=torch.Generator().manual_seed(1)
    )
    v0 = torch.randn((3, 12), generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    given = top_curvature(f, x, pred=pred, other=other, max_iter=4, start=v0.reshape(x.shape))
    torch.testing.assert_close(given.value, drawn.value, rtol=0, atol=0)
    one = top_curvature(
        f, x[1:2], pred=pred[1:2], other=other[1:2], max_iter=4, start=v0[1:2].reshape(1, 4, 3)
    )
    torch.testing.assert_close(one.value, drawn.value[1:2], rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="start must have the shape of x"):
        top_curvature(f, x, pred=pred, other=other, start=v0)


def test_time_step_profile_start_equals_generator_draw() -> None:
    f, x, pred, other = _case()  # F = 3 > max_iter = 2: the Lanczos branch
    drawn = time_step_profile(
        f, x, pred=pred, other=other, max_iter=2, generator=torch.Generator().manual_seed(2)
    )
    v0 = torch.randn((12, 3), generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    given = time_step_profile(f, x, pred=pred, other=other, max_iter=2, start=v0.reshape(x.shape))
    torch.testing.assert_close(given.curvature, drawn.curvature, rtol=0, atol=0)
    with pytest.raises(ValueError, match="start must have the shape of x"):
        time_step_profile(f, x, pred=pred, other=other, max_iter=2, start=v0)
