"""The forward chooser on an accelerator, against float64 references on the CPU.

Marked ``gpu`` (deselected by default): ``pytest -m gpu`` runs it on ``cuda``; set
``SEQROBUST_TEST_DEVICE=cpu`` to check the tests themselves on a machine without one
(``scripts/gpu_check.sh`` runs them on a lent GPU machine). On CUDA the paths differ from the
CPU's: cuDNN RNNs (no double backward, no backward in eval mode), native CUDA RNN kernels with
cuDNN off, fused flash / memory-efficient attention (no double backward), packed sequences
(no forward-mode AD). Each case runs a built-in model and a user's module of the same kind.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
import torch
from torch import Tensor, nn
from user_models import F, L, LSTMNet, PackedGRU, T, TransformerNet

import seqrobust as sr
from seqrobust.geometry import hvp_neg_margin
from seqrobust.models import Classifier, build_classifier
from seqrobust.regularizers import make_regularizer
from seqrobust.training.loop import StepLoss

DEVICE = torch.device(os.environ.get("SEQROBUST_TEST_DEVICE", "cuda"))
pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(DEVICE.type == "cuda" and not torch.cuda.is_available(),
                       reason="needs CUDA (SEQROBUST_TEST_DEVICE=cpu checks the tests)"),
]
LENGTHS = torch.tensor([6, 3, 4, 6, 2])


def _builtin(arch: str) -> Callable[[], nn.Module]:
    return lambda: build_classifier(arch, input_size=F, num_classes=L, hidden_size=8,
                                    num_layers=2, heads=2, max_len=T)


BUILDS: dict[str, Callable[[], nn.Module]] = {
    **{arch: _builtin(arch) for arch in ("rnn", "lstm", "gru", "transformer", "tcn")},
    "nn.LSTM": LSTMNet, "nn.TransformerEncoder": TransformerNet, "packed nn.GRU": PackedGRU,
}


def _case(name: str, dtype: torch.dtype) -> tuple[Classifier, Classifier, Tensor, Tensor | None]:
    """The model on the CPU in float64 and on :data:`DEVICE` in ``dtype`` (same weights, eval
    mode), padded inputs and their lengths (``None`` for a module that does not take them)."""
    torch.manual_seed(0)
    cpu = BUILDS[name]().double().eval()
    dev = BUILDS[name]().to(DEVICE, dtype).eval()
    dev.load_state_dict(cpu.state_dict())
    x = torch.randn(len(LENGTHS), T, F, generator=torch.Generator().manual_seed(1),
                    dtype=torch.float64)
    x[torch.arange(T)[None, :] >= LENGTHS[:, None]] = 0.0
    lengths = None if name in ("nn.LSTM", "nn.TransformerEncoder") else LENGTHS
    return Classifier(cpu), Classifier(dev), x, lengths


def _on(t: Tensor | None, dtype: torch.dtype = torch.float64) -> Tensor | None:
    return None if t is None else t.to(DEVICE, dtype if t.is_floating_point() else t.dtype)


@pytest.mark.parametrize("name", list(BUILDS))
def test_first_order_input_gradient_in_eval_mode(name: str) -> None:
    """Attacks' path (``order=1``: cuDNN off, fused attention) in float32 on the device."""
    cpu, dev, x, lengths = _case(name, torch.float32)
    weights = torch.arange(1, L + 1, dtype=torch.float64)
    grads = []
    for clf, z, lens, w in ((cpu, x, lengths, weights),
                            (dev, _on(x, torch.float32), _on(lengths),
                             _on(weights, torch.float32))):
        assert z is not None and w is not None
        z = z.clone().requires_grad_(True)
        out = clf.bind(lens, order=1)(z)
        (g,) = torch.autograd.grad((out * w).sum(), z)
        grads.append((out.detach().cpu().double(), g.cpu().double()))
    torch.testing.assert_close(grads[1][0], grads[0][0], atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(grads[1][1], grads[0][1], atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("name", list(BUILDS))
def test_second_order_hessian_vector_product(name: str) -> None:
    """Curvature's path (``order=2``) in float64 on the device equals the CPU's."""
    cpu, dev, x, lengths = _case(name, torch.float64)
    v = torch.randn(x.shape, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    pred, other = torch.zeros(x.shape[0], dtype=torch.long), torch.ones(x.shape[0],
                                                                           dtype=torch.long)
    ref = hvp_neg_margin(cpu.bind(lengths), x, v, pred=pred, other=other)
    got = hvp_neg_margin(dev.bind(_on(lengths)), _on(x), _on(v), pred=_on(pred),
                         other=_on(other))
    torch.testing.assert_close(got.cpu(), ref, atol=1e-9, rtol=1e-7)


@pytest.mark.parametrize("name", ["lstm", "transformer", "packed nn.GRU"])
@pytest.mark.parametrize("reg", ["hessian", "jacobian"])
def test_training_objective_in_train_mode(name: str, reg: str) -> None:
    """Cross-entropy (cuDNN on in train mode) plus an exact penalty (second order: cuDNN
    off): the loss, the penalty and every parameter gradient equal the CPU's in float64."""
    cpu, dev, x, lengths = _case(name, torch.float64)
    y = torch.arange(x.shape[0]) % L
    penalty = make_regularizer(reg, estimator="exact")
    results = []
    for clf, z, yy, lens in ((cpu, x, y, lengths), (dev, _on(x), _on(y), _on(lengths))):
        assert z is not None and yy is not None
        clf.train()
        total, loss, value, _ = StepLoss(clf, penalty=penalty, lam=0.1)(z, yy, lens, None)
        grads = torch.autograd.grad(total, list(clf.parameters()))
        results.append([loss.detach().cpu(), value.detach().cpu(), *(g.cpu() for g in grads)])
    for got, ref in zip(results[1], results[0], strict=True):
        torch.testing.assert_close(got, ref, atol=1e-9, rtol=1e-7)


def _data(n: int = 24) -> sr.SequenceData:
    gen = torch.Generator().manual_seed(3)
    lengths = torch.randint(2, T + 1, (n,), generator=gen)
    x = torch.randn(n, T, F, generator=gen, dtype=torch.float64)
    x[torch.arange(T)[None, :] >= lengths[:, None]] = 0.0
    return sr.SequenceData.from_arrays(x, torch.randint(0, L, (n,), generator=gen),
                                       lengths=lengths)


@pytest.mark.parametrize("name", ["gru", "transformer"])
def test_measurements_follow_the_model_device(name: str) -> None:
    """``analyze`` and the PGD curve on the device give the CPU's results (float64): the
    same predictions and margins, Lanczos curvature and robust counts within one input."""
    cpu, dev, _, _ = _case(name, torch.float64)
    data = _data()
    a_cpu = sr.analyze(cpu, data, n=8, fmn_steps=20)
    a_dev = sr.analyze(dev, data, n=8, fmn_steps=20)
    assert a_dev.column("pred") == a_cpu.column("pred")
    for col in ("t", "j_norm", "v"):
        torch.testing.assert_close(torch.tensor(a_dev.column(col), dtype=torch.float64),
                                   torch.tensor(a_cpu.column(col), dtype=torch.float64),
                                   atol=1e-6, rtol=1e-5)
    eps = [0.05, 0.2]
    c_cpu = sr.robustness_curve(cpu, data, eps=eps)
    c_dev = sr.robustness_curve(dev, data, eps=eps)
    assert c_dev.clean_accuracy == c_cpu.clean_accuracy
    for a, b in zip(c_dev.accuracy, c_cpu.accuracy, strict=True):
        assert abs(a - b) <= 1 / len(data) + 1e-12
