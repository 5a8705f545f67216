"""Every regulariser's gradient reaches the weights and equals a central finite difference of
the regulariser's value (float64, the same probes for every evaluation)."""

from __future__ import annotations

import pytest
import torch
from reg_cases import tiny_inputs, tiny_model

from seqrobust.models import Classifier, RecurrentClassifier
from seqrobust.regularizers import make_regularizer

CASES = [
    ("hessian", "fd", "rnn"),
    ("hessian", "central", "rnn"),
    ("hessian", "hutchinson", "rnn"),
    ("hessian", "exact", "rnn"),
    ("hessian", "fd", "lstm"),
    ("hessian", "hutchinson", "gru"),
    ("jacobian", "fd", "rnn"),
    ("jacobian", "exact", "lstm"),
    ("cure", "fd", "rnn"),
    ("pgd-at", "fd", "rnn"),
]
WEIGHTS = [("rnn.weight_ih_l0", (1, 2)), ("rnn.weight_hh_l1", (0, 3)), ("head.weight", (2, 1))]


def _value(reg, model, x, y) -> torch.Tensor:
    return reg(model, x, y, generator=torch.Generator().manual_seed(21))


@pytest.mark.parametrize(("name", "estimator", "cell"), CASES)
def test_gradient_matches_finite_differences(name, estimator, cell):
    model = tiny_model(cell, layers=2)
    x = tiny_inputs(4)
    y = torch.tensor([0, 1, 2, 1])
    reg = make_regularizer(name, estimator=estimator, probes=2, fd_step=None, at_eps=0.1,
                           at_steps=3, at_alpha=0.04)
    value = _value(reg, model, x, y)
    assert value.dim() == 0 and value.requires_grad
    params = dict(model.named_parameters())
    grads = torch.autograd.grad(value, [params[n] for n, _ in WEIGHTS])
    delta = 1e-6
    for (pname, idx), grad in zip(WEIGHTS, grads, strict=True):
        p = params[pname]
        with torch.no_grad():
            p[idx] += delta
            plus = float(_value(reg, model, x, y))
            p[idx] -= 2 * delta
            minus = float(_value(reg, model, x, y))
            p[idx] += delta
        numeric = (plus - minus) / (2 * delta)
        assert abs(float(grad[idx])) > 1e-6, (pname, float(grad[idx]))
        tol = 1e-5 * abs(numeric) + 1e-9
        assert abs(float(grad[idx]) - numeric) <= tol, (pname, float(grad[idx]), numeric)


def test_fast_path_and_cell_loop_give_the_same_penalty_gradient():
    """On CPU the regulariser differentiates the fast nn.RNN kernels three times; they must
    agree with the cell loop (the path CUDA and torch.func use)."""
    model = tiny_model("lstm", layers=2)
    loop = RecurrentClassifier(**model.config(), path="twice_differentiable").double()  # type: ignore[arg-type]
    loop.load_state_dict(model.state_dict())
    x, y = tiny_inputs(4), torch.zeros(4, dtype=torch.long)
    reg = make_regularizer("hessian", estimator="fd")
    grads = []
    for m in (model, loop):
        value = _value(reg, m, x, y)
        grads.append(torch.autograd.grad(value, list(m.parameters()), allow_unused=True))
    for a, b in zip(*grads, strict=True):
        if a is None or b is None:
            assert a is None and b is None
        else:
            torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", ["hessian", "jacobian", "cure", "pgd-at"])
def test_padded_batches_bound_to_their_lengths(name):
    """With the lengths bound (padded batches), full lengths reproduce the unpadded value, and
    shorter ones give the value of the truncated sequences (deterministic penalties)."""
    model = tiny_model("gru", layers=2)
    x, y = tiny_inputs(4), torch.tensor([0, 1, 2, 1])
    reg = make_regularizer(name, estimator="hutchinson", probes=3, at_eps=0.1, at_steps=2,
                           at_alpha=0.05)
    full = _value(reg, Classifier(model).bind(torch.full((4,), 3)), x, y)
    torch.testing.assert_close(full, _value(reg, model, x, y), rtol=1e-10, atol=1e-12)
    if name in ("hessian", "pgd-at"):  # random draws shaped like x (padding included)
        return
    short = _value(reg, Classifier(model).bind(torch.full((4,), 2)), x, y)
    truncated = _value(reg, model, x[:, :2].contiguous(), y)
    torch.testing.assert_close(short, truncated, rtol=1e-9, atol=1e-12)
