"""What every built-in ``forward(x, lengths)`` classifier must satisfy, as checks the model
tests call with their own tiny model (float64, eval mode): exact second derivatives, padding
that changes nothing, batch independence, dropout only in training, a twice-differentiable
path that reaches the weights, CUDA agreeing with the CPU."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn
from torch.autograd import gradcheck, gradgradcheck
from torch.func import grad, hessian, jvp


def double_backward_hessian(fn: Callable[[Tensor], Tensor], x: Tensor) -> Tensor:
    """Dense Hessian of scalar ``fn`` at ``x`` by one double backward per input coordinate."""
    xr = x.detach().clone().requires_grad_(True)
    (g,) = torch.autograd.grad(fn(xr), xr, create_graph=True)
    rows = [torch.autograd.grad(gi, xr, retain_graph=True)[0] for gi in g.flatten()]
    return torch.stack(rows).reshape(*x.shape, *x.shape)


def padded_batch(steps: int, features: int) -> tuple[Tensor, Tensor]:
    """Three float64 random series of ``steps`` steps and their lengths ``(steps, 3, 1)``
    (random values in the padded tails too)."""
    return torch.randn(3, steps, features, dtype=torch.float64), torch.tensor([steps, 3, 1])


def check_hessian_matches_torch_func(model: nn.Module, target: str, steps: int,
                                     features: int) -> None:
    """A logit's or a margin's input Hessian by double backward equals ``torch.func``'s, is
    symmetric and non-zero, and forward-over-reverse gives its products."""
    x = torch.randn(steps, features, dtype=torch.float64)

    def fn(xi: Tensor) -> Tensor:
        out = model(xi[None])[0]
        return out[1] if target == "logit" else out[0] - out[2]

    n = steps * features
    dense = hessian(fn)(x).reshape(n, n)
    ours = double_backward_hessian(fn, x).reshape(n, n)
    torch.testing.assert_close(ours, dense, atol=1e-10, rtol=0)
    torch.testing.assert_close(dense, dense.T, atol=1e-12, rtol=0)
    assert float(dense.detach().abs().max()) > 1e-3  # curvature is really there
    v = torch.randn(steps, features, dtype=torch.float64)
    hv = jvp(grad(fn), (x,), (v,))[1]  # forward-over-reverse, as the geometry layer uses
    torch.testing.assert_close(hv.flatten(), dense @ v.flatten(), atol=1e-10, rtol=0)


def check_gradcheck(model: nn.Module, features: int) -> None:
    """First and second derivatives by finite differences, with and without lengths."""
    x = torch.randn(2, 4, features, dtype=torch.float64, requires_grad=True)
    lengths = torch.tensor([4, 2])
    assert gradcheck(model, (x,))
    assert gradgradcheck(model, (x,))
    assert gradgradcheck(lambda z: model(z, lengths), (x,))


def check_padding_matches_trimmed(model: nn.Module, x: Tensor, lengths: Tensor) -> None:
    """A padded series' logits are those of the series trimmed to its length, and without
    ``lengths`` they are not (the masks do the work)."""
    padded = model(x, lengths)
    for b, n in enumerate(lengths.tolist()):
        torch.testing.assert_close(padded[b : b + 1], model(x[b : b + 1, :n]), atol=1e-12,
                                   rtol=0)
    assert not torch.allclose(model(x)[1:], padded[1:], atol=1e-6)


def check_padded_tail_changes_nothing(model: nn.Module, x: Tensor, lengths: Tensor) -> None:
    """Huge values after each series' end leave the logits bit for bit unchanged."""
    real = torch.arange(x.shape[1])[None, :] < lengths[:, None]
    noisy = torch.where(real[..., None], x, 1e3 * torch.randn_like(x))
    assert torch.equal(model(noisy, lengths), model(x, lengths))


def check_padded_steps_get_zero_gradient_and_curvature(model: nn.Module, x: Tensor,
                                                       lengths: Tensor) -> None:
    """Gradient and Hessian-vector products vanish exactly on padded steps (not on real
    ones), and the Hessian of the real steps is that of the trimmed series."""
    pad = ~(torch.arange(x.shape[1])[None, :] < lengths[:, None])
    xr = x.clone().requires_grad_(True)
    out = model(xr, lengths)
    (g,) = torch.autograd.grad((out[:, 0] - out[:, 1]).sum(), xr, create_graph=True)
    assert float(g.detach()[~pad].abs().sum()) > 0
    assert torch.equal(g[pad], torch.zeros_like(g[pad]))
    (hv,) = torch.autograd.grad((g * torch.randn_like(x)).sum(), xr)
    assert float(hv[~pad].abs().sum()) > 0
    assert torch.equal(hv[pad], torch.zeros_like(hv[pad]))
    n = int(lengths[1])
    full = double_backward_hessian(lambda z: model(z[None], lengths[1:2])[0, 2], x[1])
    trimmed = hessian(lambda z: model(z[None])[0, 2])(x[1, :n])
    torch.testing.assert_close(full[:n, :, :n], trimmed, atol=1e-10, rtol=0)
    assert torch.equal(full[n:], torch.zeros_like(full[n:]))
    assert torch.equal(full[:, :, n:], torch.zeros_like(full[:, :, n:]))


def check_batch_independence(model: nn.Module, x: Tensor, lengths: Tensor) -> None:
    """A row's logits do not depend on the other rows of its batch."""
    out = model(x, lengths)
    other = x.clone()
    other[1:] = torch.randn_like(other[1:])
    torch.testing.assert_close(model(other, lengths)[0], out[0], atol=1e-13, rtol=0)
    torch.testing.assert_close(model(x[:1])[0], out[0], atol=1e-13, rtol=0)


def check_dropout_only_in_training(make: Callable[..., nn.Module], steps: int,
                                   features: int) -> None:
    """``make(dropout=p)`` in eval mode computes ``make()``'s function; in training mode it
    is random, and without dropout training mode changes nothing."""
    model = make(dropout=0.5)
    x = torch.randn(4, steps, features, dtype=torch.float64)
    plain = make()
    plain.load_state_dict(model.state_dict())
    torch.testing.assert_close(model(x), plain(x), atol=0, rtol=0)
    model.train()
    assert not torch.allclose(model(x), model(x))
    plain.train()
    torch.testing.assert_close(plain(x), plain.eval()(x), atol=0, rtol=0)


def check_twice_differentiable_path(model: nn.Module, x: Tensor, lengths: Tensor,
                                    weights: Callable[[nn.Module], Sequence[Tensor]]) -> None:
    """``forward_twice_differentiable`` is ``forward`` (training mode), and a loss on the
    input gradient reaches ``weights(model)``."""
    model.train()
    fn = model.forward_twice_differentiable  # type: ignore[operator]
    assert torch.equal(fn(x, lengths), model(x, lengths))
    xr = x.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(fn(xr, lengths)[:, 0].sum(), xr, create_graph=True)
    g.square().sum().backward()
    for p in weights(model):
        assert p.grad is not None and float(p.grad.abs().sum()) > 0


def check_cuda_matches_cpu(model: nn.Module, x: Tensor, lengths: Tensor) -> None:
    """The input Hessian-vector product on CUDA equals the CPU's (float64)."""
    v = torch.randn_like(x)

    def hvp(m: nn.Module, xx: Tensor, ll: Tensor, vv: Tensor) -> Tensor:
        xr = xx.clone().requires_grad_(True)
        (g,) = torch.autograd.grad(m(xr, ll)[:, 0].sum(), xr, create_graph=True)
        return torch.autograd.grad((g * vv).sum(), xr)[0]

    cpu = hvp(model, x, lengths, v)
    gpu = hvp(model.cuda(), x.cuda(), lengths.cuda(), v.cuda())
    torch.testing.assert_close(gpu.cpu(), cpu, atol=1e-10, rtol=0)
