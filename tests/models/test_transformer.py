import pytest
import torch
from torch.autograd import gradcheck, gradgradcheck
from torch.func import grad, hessian, jvp

from seqrobust.models.transformer import TransformerClassifier, sinusoidal_positions

T, F, C = 5, 2, 3


def _tiny(positions="sinusoidal", **kw):
    model = TransformerClassifier(
        input_size=F, num_classes=C, hidden_size=8, heads=2, positions=positions, max_len=8, **kw
    )
    if positions == "learned":  # a non-trivial table (the init is small)
        with torch.no_grad():
            model.position_table.normal_()
    return model.double().eval()


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
    model = TransformerClassifier(input_size=28, num_classes=10)
    assert model.hidden_size == 128 and model.num_layers == 2 and model.heads == 4
    out = model(torch.rand(4, 28, 28), torch.tensor([28, 20, 5, 1]))
    assert out.shape == (4, 10) and out.dtype == torch.float32
    assert model.input_size == 28 and model.num_classes == 10


def test_sinusoidal_table():
    table = sinusoidal_positions(6, 5)
    pos = torch.arange(6.0)
    torch.testing.assert_close(table[:, 0], torch.sin(pos))
    torch.testing.assert_close(table[:, 1], torch.cos(pos))
    torch.testing.assert_close(table[:, 4], torch.sin(pos * 1e4 ** (-4 / 5)))
    model = _tiny()
    assert "position_table" not in model.state_dict()  # rebuilt from the config
    assert "position_table" in _tiny("learned").state_dict()


@pytest.mark.parametrize("positions", ["sinusoidal", "learned"])
@pytest.mark.parametrize("target", ["logit", "margin"])
def test_hessian_matches_torch_func(positions, target):
    model = _tiny(positions)
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
    model = _tiny("learned")
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
    # the masks are what makes this hold: without lengths the padded rows differ
    assert not torch.allclose(model(x)[1:], padded[1:], atol=1e-6)


def test_padded_tail_changes_nothing():
    model = _tiny("learned")
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
    # and the Hessian of the real steps is that of the trimmed sequence
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
    model = _tiny("learned").train()
    x, lengths = _padded_batch()
    assert torch.equal(model.forward_twice_differentiable(x, lengths), model(x, lengths))
    xr = x.clone().requires_grad_(True)
    out = model.forward_twice_differentiable(xr, lengths)
    (g,) = torch.autograd.grad(out[:, 0].sum(), xr, create_graph=True)
    g.square().sum().backward()
    for p in (model.blocks[0].qkv.weight, model.position_table, model.embed.weight):
        assert p.grad is not None and float(p.grad.abs().sum()) > 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"hidden_size": 0}, "hidden_size must be a positive integer"),
        ({"num_layers": -1}, "num_layers must be a positive integer"),
        ({"heads": 0}, "heads must be a positive integer"),
        ({"max_len": 0}, "max_len must be a positive integer"),
        ({"ff_mult": 1.5}, "ff_mult must be a positive integer"),
        ({"input_size": True}, "input_size must be a positive integer"),
        ({"num_classes": 1}, "num_classes must be at least 2"),
        ({"hidden_size": 10, "heads": 4}, "hidden_size 10 must be divisible by heads 4"),
        ({"dropout": 1.0}, "dropout must be in"),
        ({"positions": "rotary"}, "unknown positions 'rotary'"),
    ],
)
def test_bad_configuration(kwargs, message):
    args = {"input_size": 3, "num_classes": 4, **kwargs}
    with pytest.raises(ValueError, match=message):
        TransformerClassifier(**args)


@pytest.mark.parametrize(
    ("lengths", "message"),
    [
        (torch.tensor([5, 3]), r"lengths must have shape \(3,\)"),
        (torch.tensor([5, 0, 1]), r"lengths must lie in \[1, 5\]"),
        (torch.tensor([6, 3, 1]), r"lengths must lie in \[1, 5\]"),
    ],
)
def test_bad_lengths(lengths, message):
    x, _ = _padded_batch()
    with pytest.raises(ValueError, match=message):
        _tiny()(x, lengths)


def test_too_long_sequence():
    with pytest.raises(ValueError, match="sequence of 9 steps exceeds max_len 8"):
        _tiny()(torch.randn(1, 9, F, dtype=torch.float64))


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_hessian_vector_product_matches_cpu():
    model = _tiny("learned")
    x, lengths = _padded_batch()
    v = torch.randn_like(x)

    def hvp(m, xx, ll, vv):
        xr = xx.clone().requires_grad_(True)
        (g,) = torch.autograd.grad(m(xr, ll)[:, 0].sum(), xr, create_graph=True)
        return torch.autograd.grad((g * vv).sum(), xr)[0]

    cpu = hvp(model, x, lengths, v)
    gpu = hvp(model.cuda(), x.cuda(), lengths.cuda(), v.cuda())
    torch.testing.assert_close(gpu.cpu(), cpu, atol=1e-10, rtol=0)
