import pytest
import torch
from torch import nn
from torch.autograd import gradcheck, gradgradcheck
from torch.func import hessian, vmap

from seqrobust.models import CELLS, RecurrentClassifier, differentiable_forward


def _tiny(cell, dtype=torch.float64, **kw):
    return RecurrentClassifier(input_size=3, num_classes=4, cell=cell, hidden_size=5, **kw).to(
        dtype
    )


@pytest.mark.parametrize("cell", CELLS)
def test_paths_agree(cell):
    model = RecurrentClassifier(input_size=28, num_classes=10, cell=cell, hidden_size=32).eval()
    x = torch.rand(16, 28, 28)
    fast, slow = model.forward_fast(x), model.forward_twice_differentiable(x)
    assert fast.shape == (16, 10)
    torch.testing.assert_close(slow, fast, atol=1e-5, rtol=0)
    model64 = _tiny(cell, num_layers=3).eval()
    x64 = torch.randn(4, 6, 3, dtype=torch.float64)
    torch.testing.assert_close(
        model64.forward_twice_differentiable(x64), model64.forward_fast(x64), atol=1e-12, rtol=0
    )


@pytest.mark.parametrize("cell", CELLS)
def test_gradcheck_and_gradgradcheck(cell):
    model = _tiny(cell).eval()
    x = torch.randn(2, 4, 3, dtype=torch.float64, requires_grad=True)
    f = model.forward_twice_differentiable
    assert gradcheck(f, (x,))
    assert gradgradcheck(f, (x,))


@pytest.mark.parametrize("cell", CELLS)
def test_double_backward_reaches_weights(cell):
    model = _tiny(cell).train()
    x = torch.randn(3, 4, 3, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(
        model.forward_twice_differentiable(x)[:, 0].sum(), x, create_graph=True
    )
    g.square().sum().backward()
    w = model.rnn.weight_hh_l0
    assert w.grad is not None and float(w.grad.abs().sum()) > 0


@pytest.mark.parametrize("cell", CELLS)
def test_torch_func_hessian_through_auto_path(cell):
    model = _tiny(cell).eval()
    x = torch.randn(2, 4, 3, dtype=torch.float64)

    def logit0(xi):
        return model(xi[None])[0, 0]

    batched = vmap(hessian(logit0))(x)
    assert batched.shape == (2, 4, 3, 4, 3)
    single = torch.autograd.functional.hessian(
        lambda xi: model.forward_twice_differentiable(xi[None])[0, 0], x[1]
    )
    torch.testing.assert_close(batched[1], single)
    flat = batched[1].reshape(12, 12)
    torch.testing.assert_close(flat, flat.T)


def test_auto_path_choice():
    model = _tiny("rnn")
    x = torch.randn(2, 4, 3, dtype=torch.float64)
    assert model.uses_fast_path(x)
    seen = []
    vmap(lambda xi: seen.append(model.uses_fast_path(xi[None])) or xi)(x)
    assert seen == [False]
    forced = _tiny("gru", path="twice_differentiable")
    assert not forced.uses_fast_path(x)


def test_twice_differentiable_generic_module():
    class UserModel(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lstm = nn.LSTM(3, 5, batch_first=True)
            self.head = nn.Linear(5, 2)

        def forward(self, x):
            return self.head(self.lstm(x)[0][:, -1])

    model = UserModel().double().eval()
    f = differentiable_forward(model, functional=True)
    x = torch.randn(2, 4, 3, dtype=torch.float64, requires_grad=True)
    torch.testing.assert_close(f(x), model(x))
    assert gradgradcheck(f, (x,))
    own = _tiny("rnn")
    x1 = torch.randn(2, 4, own.input_size, dtype=torch.float64)

    def no_fast(*args: object) -> None:
        raise AssertionError("the functional path must not take the fast kernels")

    own.forward_fast = no_fast  # type: ignore[method-assign]
    out = differentiable_forward(own, functional=True)(x1)
    torch.testing.assert_close(out, own.forward_twice_differentiable(x1))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"cell": "transformer"}, "unknown cell 'transformer'"),
        ({"hidden_size": 0}, "hidden_size must be a positive integer"),
        ({"num_layers": -1}, "num_layers must be a positive integer"),
        ({"num_classes": 1}, "num_classes must be at least 2"),
        ({"dropout": 1.0}, "dropout must be in"),
        ({"path": "cudnn"}, "unknown path"),
    ],
)
def test_bad_configuration(kwargs, message):
    args = {"input_size": 3, "num_classes": 4, **kwargs}
    with pytest.raises(ValueError, match=message):
        RecurrentClassifier(**args)


def test_orthogonal_recurrent_init():
    model = RecurrentClassifier(input_size=3, num_classes=2, cell="lstm", hidden_size=8)
    for block in model.rnn.weight_hh_l1.detach().chunk(4):
        torch.testing.assert_close(block @ block.T, torch.eye(8), atol=1e-5, rtol=0)
