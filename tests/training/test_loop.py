"""``StepLoss``: its cross-entropy runs on the first-order path (the built-in Transformer's
fused attention) and is the same function, with the same parameter gradients, as the model's
own ``forward``."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch.func import jvp

from seqrobust.models import Classifier, TransformerClassifier, build_classifier
from seqrobust.training.loop import StepLoss


def _batch(dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    lengths = torch.tensor([7, 3, 5, 7, 2, 6])
    x = torch.randn(len(lengths), 7, 3, generator=gen, dtype=dtype)
    x[torch.arange(7)[None, :] >= lengths[:, None]] = 0.0
    return x, torch.randint(0, 4, (len(lengths),), generator=gen), lengths


@pytest.mark.parametrize("arch", ["transformer", "gru", "tcn"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_cross_entropy_and_gradients_equal_the_model_forward(arch: str,
                                                             dtype: torch.dtype) -> None:
    torch.manual_seed(0)
    model = build_classifier(arch, input_size=3, num_classes=4, hidden_size=8, num_layers=2,
                             heads=2, max_len=7).to(dtype).train()
    x, y, lengths = _batch(dtype)
    tol = 1e-12 if dtype == torch.float64 else 2e-5
    _, loss, _, _ = StepLoss(Classifier(model))(x, y, lengths, None)
    ours = torch.autograd.grad(loss, list(model.parameters()))
    reference = F.cross_entropy(model(x, lengths), y)
    theirs = torch.autograd.grad(reference, list(model.parameters()))
    torch.testing.assert_close(loss, reference, atol=tol, rtol=tol)
    for a, b in zip(ours, theirs, strict=True):
        torch.testing.assert_close(a, b, atol=tol, rtol=tol)


def test_transformer_cross_entropy_takes_the_fused_kernel() -> None:
    """The training loss of the built-in Transformer goes through fused attention (no
    forward-mode AD on CPU), its own ``forward`` through the explicit path."""
    model = TransformerClassifier(input_size=3, num_classes=4, hidden_size=8, heads=2,
                                  max_len=7).train()
    x, _, lengths = _batch(torch.float32)
    clf = Classifier(model)
    jvp(lambda z: clf(z, lengths), (x,), (torch.ones_like(x),))
    with pytest.raises(NotImplementedError, match="forward AD"):
        jvp(lambda z: clf.forward_fast(z, lengths), (x,), (torch.ones_like(x),))
