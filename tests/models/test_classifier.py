"""``Classifier`` and the one forward chooser on users' own modules: a plain ``nn.LSTM`` that
reads its padding, an ``nn.TransformerEncoder`` (fused attention kernels) and a GRU whose
``forward(x, lengths)`` packs the batch; second derivatives against float64 dense Hessians."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from torch import Tensor, nn
from user_models import F, L, LSTMNet, PackedGRU, T, TransformerNet

from seqrobust.geometry import dense_hessian_neg_margin, hvp_neg_margin, margins, top_curvature
from seqrobust.models import Classifier, RecurrentClassifier, differentiable_forward
from seqrobust.models.classifier import padding_value, takes_lengths_from_signature
from seqrobust.models.transformer import TransformerClassifier

LENGTHS = torch.tensor([6, 3, 4, 6, 2])


def _x(dtype: torch.dtype = torch.float64) -> Tensor:
    x = torch.randn(len(LENGTHS), T, F, generator=torch.Generator().manual_seed(0), dtype=dtype)
    x[torch.arange(T)[None, :] >= LENGTHS[:, None]] = 0.0
    return x


def _model(cls: type[nn.Module]) -> nn.Module:
    torch.manual_seed(0)
    return cls().double().eval()


def test_signature_detection_and_calls() -> None:
    assert takes_lengths_from_signature(PackedGRU()) is True
    assert takes_lengths_from_signature(LSTMNet()) is False
    clf = Classifier(_model(PackedGRU))
    x = _x()
    torch.testing.assert_close(clf(x, LENGTHS), clf.model(x, LENGTHS))
    full = torch.full((len(LENGTHS),), T)
    torch.testing.assert_close(clf(x), clf.model(x, full))  # no lengths: all steps real
    with pytest.raises(ValueError, match="takes_lengths=True"):
        Classifier(_model(PackedGRU), takes_lengths=False)(x)
    with pytest.raises(ValueError, match="unknown padding"):
        Classifier(LSTMNet(), padding="drop")  # type: ignore[arg-type]


def test_padding_semantics_are_checked_not_assumed() -> None:
    x = _x()
    lstm, gru = Classifier(_model(LSTMNet)), Classifier(_model(PackedGRU))
    assert lstm.trims_exactly(x, LENGTHS)[0] is False  # it reads its padding
    assert lstm.resolved_padding(x, LENGTHS) == "fed"
    assert gru.resolved_padding(x, LENGTHS) == "trim"
    with pytest.raises(ValueError, match="padding='trim' changes this model's logits"):
        Classifier(_model(LSTMNet), padding="trim").groups(x, LENGTHS)
    # each group's function of its real steps is the user's model on the padded input
    for clf in (lstm, gru):
        for g in clf.groups(x, LENGTHS):
            z = x[g.rows, : g.length]
            torch.testing.assert_close(g.forward()(z), clf(x[g.rows], LENGTHS[g.rows]),
                                       rtol=1e-12, atol=1e-12)
    x[1, 5] = 7.0
    with pytest.raises(ValueError, match="padded steps hold different values"):
        padding_value(x, LENGTHS)


def test_bind_tiles_lengths_for_any_multiple() -> None:
    clf, x = Classifier(_model(PackedGRU)), _x()
    f = clf.bind(LENGTHS)
    torch.testing.assert_close(f(torch.cat([x, x])), torch.cat([clf(x, LENGTHS)] * 2))
    with pytest.raises(ValueError, match="multiple of the 5 bound lengths"):
        f(x[:3])


def _dense_and_checked_hvp(f: Callable[[Tensor], Tensor], x: Tensor) -> tuple[Tensor, Tensor]:
    """The dense float64 Hessian of −F per input, after checking an HVP against it."""
    m = margins(f, x)
    dense = dense_hessian_neg_margin(f, x, pred=m.pred, other=m.runner_up)
    w = torch.randn_like(x)
    hv = hvp_neg_margin(f, x, w, pred=m.pred, other=m.runner_up)
    torch.testing.assert_close(hv.flatten(1), torch.einsum("bij,bj->bi", dense, w.flatten(1)),
                               rtol=1e-9, atol=1e-10)
    return dense, m.pred


@pytest.mark.parametrize("cls", [LSTMNet, TransformerNet])
def test_second_order_against_dense_float64_hessian(cls: type[nn.Module]) -> None:
    """HVPs and Lanczos λ_max through the chooser equal the float64 dense Hessian (the fused
    attention kernels have no double backward; the chooser avoids them)."""
    model = _model(cls)
    f = differentiable_forward(model, functional=True)
    x = _x()[:3]
    dense, _ = _dense_and_checked_hvp(f, x)
    m = margins(f, x)
    top = top_curvature(f, x, pred=m.pred, other=m.runner_up, max_iter=T * F)
    expected = torch.linalg.eigvalsh(0.5 * (dense + dense.transpose(1, 2)))[:, -1]
    assert torch.allclose(top.value, expected, rtol=0, atol=1e-6)


def test_packed_gru_hessian_falls_back_to_reverse_mode() -> None:
    """Forward-mode AD has no rule for packed sequences: the dense Hessian is built from
    reverse-over-reverse products instead, and agrees with them."""
    clf = Classifier(_model(PackedGRU))
    group = next(g for g in clf.groups(_x(), LENGTHS) if g.length == T)  # rows 0 and 3
    x = _x()[group.rows]
    f = group.forward(functional=True)
    dense, _ = _dense_and_checked_hvp(f, x)
    assert torch.allclose(dense, dense.transpose(1, 2), atol=1e-10)


class _Decoy(nn.Module):
    """A user's module with a ``forward_fast`` that is not its function (no declared paths)."""

    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(F, L)

    def forward(self, x: Tensor) -> Tensor:
        return self.lin(x).mean(1)

    def forward_fast(self, x: Tensor) -> Tensor:
        return torch.zeros(x.shape[0], L, dtype=x.dtype)


@pytest.mark.parametrize("build", [
    lambda: TransformerClassifier(input_size=F, num_classes=L, hidden_size=8, heads=2,
                                  max_len=T),
    lambda: RecurrentClassifier(input_size=F, num_classes=L, cell="lstm", hidden_size=8),
    TransformerNet, LSTMNet, _Decoy,
])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_first_order_path_is_the_same_function(build: Callable[[], nn.Module],
                                               dtype: torch.dtype) -> None:
    torch.manual_seed(0)
    model = build().to(dtype).eval()
    x = _x(dtype).requires_grad_(True)
    tol = 1e-12 if dtype == torch.float64 else 2e-5
    values, grads = [], []
    for order in (1, 2):
        out = differentiable_forward(model, order=order)(x)
        (g,) = torch.autograd.grad((out * torch.arange(1, L + 1, dtype=dtype)).sum(), x)
        values.append(out.detach())
        grads.append(g)
    torch.testing.assert_close(values[0], values[1], atol=tol, rtol=tol)
    torch.testing.assert_close(grads[0], grads[1], atol=tol, rtol=tol)
    torch.testing.assert_close(values[0], model(x).detach(), atol=tol, rtol=tol)


def test_first_order_path_takes_the_fused_attention_kernel() -> None:
    """At order 1 the built-in Transformer runs ``forward_fast`` (fused SDPA on CPU: no
    forward-mode AD), at order 2 the explicit path (forward-mode AD works)."""
    from torch.func import jvp

    model = TransformerClassifier(input_size=F, num_classes=L, hidden_size=8, heads=2,
                                  max_len=T).eval()
    x = _x(torch.float32)
    jvp(differentiable_forward(model, order=2), (x,), (torch.ones_like(x),))
    with pytest.raises(NotImplementedError, match="forward AD"):
        jvp(differentiable_forward(model, order=1), (x,), (torch.ones_like(x),))
