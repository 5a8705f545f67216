import pytest
import torch
from torch import nn
from torch.autograd import gradcheck, gradgradcheck
from torch.func import grad, hessian, jvp

from seqrobust.models.tcn import TCNClassifier, blocks_for, receptive_field

T, F, C = 5, 2, 3


def _tiny(**kw):
    args = {"input_size": F, "num_classes": C, "hidden_size": 8, "num_layers": 2, **kw}
    return TCNClassifier(**args).double().eval()


def _double_backward_hessian(fn, x):
    """Dense Hessian of scalar ``fn`` at ``x`` by one double backward per input coordinate."""
    xr = x.detach().clone().requires_grad_(True)
    (g,) = torch.autograd.grad(fn(xr), xr, create_graph=True)
    rows = [torch.autograd.grad(gi, xr, retain_graph=True)[0] for gi in g.flatten()]
    return torch.stack(rows).reshape(*x.shape, *x.shape)


def _padded_batch():
    x = torch.randn(3, T, F, dtype=torch.float64)
    return x, torch.tensor([T, 3, 1])


def test_shapes_float32_defaults():
    model = TCNClassifier(input_size=28, num_classes=10, max_len=28)
    assert model.num_layers == 3 and model.receptive_field == 29
    out = model(torch.rand(4, 28, 28), torch.tensor([28, 20, 5, 1]))
    assert out.shape == (4, 10) and out.dtype == torch.float32
    assert model.input_size == 28 and model.num_classes == 10
    assert TCNClassifier(input_size=1, num_classes=2).num_layers == 9  # 1024 steps, k = 3


@pytest.mark.parametrize(("max_len", "kernel_size"), [(1, 2), (28, 3), (784, 3), (100, 5)])
def test_blocks_for_is_the_fewest_that_cover(max_len, kernel_size):
    layers = blocks_for(max_len, kernel_size)
    assert receptive_field(layers, kernel_size) >= max_len
    assert layers == 1 or receptive_field(layers - 1, kernel_size) < max_len
    model = TCNClassifier(input_size=1, num_classes=2, max_len=max_len, kernel_size=kernel_size)
    assert model.num_layers == layers


def test_receptive_field_is_exact_and_causal():
    model = _tiny(kernel_size=2)  # receptive field 1 + 2 * 1 * (2^2 - 1) = 7
    assert model.receptive_field == 7
    x = torch.randn(1, 12, F, dtype=torch.float64)
    t = 10
    jac = torch.autograd.functional.jacobian(lambda z: model.features(z)[0, t], x)
    reach = jac.abs().sum(dim=(0, 1, 3))  # (12,) influence of each input step on step t
    seen = torch.nonzero(reach).flatten().tolist()
    assert seen == list(range(t - 6, t + 1))


def test_skip_convolution_only_when_widths_differ():
    model = _tiny()
    assert isinstance(model.blocks[0].skip, nn.Conv1d)
    assert isinstance(model.blocks[1].skip, nn.Identity)
    assert isinstance(_tiny(input_size=8).blocks[0].skip, nn.Identity)
    assert [b.conv1.dilation[0] for b in _tiny(num_layers=3).blocks] == [1, 2, 4]


@pytest.mark.parametrize("target", ["logit", "margin"])
def test_hessian_matches_torch_func(target):
    model = _tiny()
    x = torch.randn(T, F, dtype=torch.float64)

    def fn(xi):
        out = model(xi[None])[0]
        return out[1] if target == "logit" else out[0] - out[2]

    dense = hessian(fn)(x).reshape(T * F, T * F)
    ours = _double_backward_hessian(fn, x).reshape(T * F, T * F)
    torch.testing.assert_close(ours, dense, atol=1e-10, rtol=0)
    torch.testing.assert_close(dense, dense.T, atol=1e-12, rtol=0)
    assert float(dense.detach().abs().max()) > 1e-3  # curvature is really there
    v = torch.randn(T, F, dtype=torch.float64)
    hv = jvp(grad(fn), (x,), (v,))[1]  # forward-over-reverse, as the geometry layer uses
    torch.testing.assert_close(hv.flatten(), dense @ v.flatten(), atol=1e-10, rtol=0)


def test_gradcheck_and_gradgradcheck():
    model = _tiny()
    x = torch.randn(2, 4, F, dtype=torch.float64, requires_grad=True)
    lengths = torch.tensor([4, 2])
    assert gradcheck(model, (x,))
    assert gradgradcheck(model, (x,))
    assert gradgradcheck(lambda z: model(z, lengths), (x,))


def test_padding_matches_trimmed_sequences():
    model = _tiny()
    x, lengths = _padded_batch()
    padded = model(x, lengths)
    for b, n in enumerate(lengths.tolist()):
        alone = model(x[b : b + 1, :n])
        torch.testing.assert_close(padded[b : b + 1], alone, atol=1e-12, rtol=0)
    # the pooling mask is what makes this hold: without lengths the padded rows differ
    assert not torch.allclose(model(x)[1:], padded[1:], atol=1e-6)


def test_padded_tail_changes_nothing():
    model = _tiny()
    x, lengths = _padded_batch()
    real = torch.arange(T)[None, :] < lengths[:, None]
    noisy = torch.where(real[..., None], x, 1e3 * torch.randn_like(x))
    assert torch.equal(model(noisy, lengths), model(x, lengths))


def test_padded_steps_get_zero_gradient_and_curvature():
    model = _tiny()
    x, lengths = _padded_batch()
    pad = ~(torch.arange(T)[None, :] < lengths[:, None])
    xr = x.clone().requires_grad_(True)
    out = model(xr, lengths)
    (g,) = torch.autograd.grad((out[:, 0] - out[:, 1]).sum(), xr, create_graph=True)
    assert float(g.detach()[~pad].abs().sum()) > 0
    assert torch.equal(g[pad], torch.zeros_like(g[pad]))
    v = torch.randn_like(x)
    (hv,) = torch.autograd.grad((g * v).sum(), xr)
    assert float(hv[~pad].abs().sum()) > 0
    assert torch.equal(hv[pad], torch.zeros_like(hv[pad]))
    n = int(lengths[1])
    full = _double_backward_hessian(lambda z: model(z[None], lengths[1:2])[0, 2], x[1])
    trimmed = hessian(lambda z: model(z[None])[0, 2])(x[1, :n])
    torch.testing.assert_close(full[:n, :, :n], trimmed, atol=1e-10, rtol=0)
    assert torch.equal(full[n:], torch.zeros_like(full[n:]))
    assert torch.equal(full[:, :, n:], torch.zeros_like(full[:, :, n:]))


def test_batch_independence():
    model = _tiny()
    x, lengths = _padded_batch()
    out = model(x, lengths)
    other = x.clone()
    other[1:] = torch.randn_like(other[1:])
    torch.testing.assert_close(model(other, lengths)[0], out[0], atol=1e-13, rtol=0)
    torch.testing.assert_close(model(x[:1])[0], out[0], atol=1e-13, rtol=0)


def test_dropout_only_in_training():
    model = _tiny(dropout=0.5)
    x = torch.randn(4, T, F, dtype=torch.float64)
    plain = _tiny()
    plain.load_state_dict(model.state_dict())
    torch.testing.assert_close(model(x), plain(x), atol=0, rtol=0)
    model.train()
    assert not torch.allclose(model(x), model(x))
    plain.train()
    torch.testing.assert_close(plain(x), plain.eval()(x), atol=0, rtol=0)


def test_twice_differentiable_path_and_weight_gradients():
    model = _tiny().train()
    x, lengths = _padded_batch()
    assert torch.equal(model.forward_twice_differentiable(x, lengths), model(x, lengths))
    xr = x.clone().requires_grad_(True)
    out = model.forward_twice_differentiable(xr, lengths)
    (g,) = torch.autograd.grad(out[:, 0].sum(), xr, create_graph=True)
    g.square().sum().backward()
    for p in (model.blocks[0].conv1.weight, model.blocks[1].conv2.weight, model.head.weight):
        assert p.grad is not None and float(p.grad.abs().sum()) > 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"hidden_size": 0}, "hidden_size must be a positive integer"),
        ({"num_layers": 0}, "num_layers must be a positive integer"),
        ({"max_len": -3}, "max_len must be a positive integer"),
        ({"input_size": 2.0}, "input_size must be a positive integer"),
        ({"num_classes": 1}, "num_classes must be at least 2"),
        ({"kernel_size": 1}, "kernel_size must be an integer >= 2"),
        ({"dropout": -0.1}, "dropout must be in"),
    ],
)
def test_bad_configuration(kwargs, message):
    args = {"input_size": 3, "num_classes": 4, **kwargs}
    with pytest.raises(ValueError, match=message):
        TCNClassifier(**args)


@pytest.mark.parametrize(
    ("lengths", "message"),
    [
        (torch.tensor([[5, 3, 1]]), r"lengths must have shape \(3,\)"),
        (torch.tensor([5, 0, 1]), r"lengths must lie in \[1, 5\]"),
        (torch.tensor([6, 3, 1]), r"lengths must lie in \[1, 5\]"),
    ],
)
def test_bad_lengths(lengths, message):
    x, _ = _padded_batch()
    with pytest.raises(ValueError, match=message):
        _tiny()(x, lengths)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_hessian_vector_product_matches_cpu():
    model = _tiny()
    x, lengths = _padded_batch()
    v = torch.randn_like(x)

    def hvp(m, xx, ll, vv):
        xr = xx.clone().requires_grad_(True)
        (g,) = torch.autograd.grad(m(xr, ll)[:, 0].sum(), xr, create_graph=True)
        return torch.autograd.grad((g * vv).sum(), xr)[0]

    cpu = hvp(model, x, lengths, v)
    gpu = hvp(model.cuda(), x.cuda(), lengths.cuda(), v.cuda())
    torch.testing.assert_close(gpu.cpu(), cpu, atol=1e-10, rtol=0)
