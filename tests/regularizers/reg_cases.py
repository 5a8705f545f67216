"""Tiny float64 models and dense Hessians shared by the regulariser tests."""

from __future__ import annotations

import torch
from torch import Tensor

from seqrobust.models import RecurrentClassifier


def tiny_model(cell: str = "rnn", *, layers: int = 1, seed: int = 0) -> RecurrentClassifier:
    """A float64 tanh/LSTM/GRU classifier: 3 time steps x 3 features (d = 9), 3 classes."""
    torch.manual_seed(seed)
    model = RecurrentClassifier(
        input_size=3, num_classes=3, cell=cell, hidden_size=4, num_layers=layers  # type: ignore[arg-type]
    )
    with torch.no_grad():  # larger weights: more curvature than the default init
        for p in model.parameters():
            p.mul_(2.0)
    return model.double().train()


def tiny_inputs(n: int, *, seed: int = 1) -> Tensor:
    return torch.rand(n, 3, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))


def dense_hessians(model: RecurrentClassifier, x: Tensor) -> Tensor:
    """``(L, d, d)`` input Hessians of every logit at one input ``x`` ``(T, F)``."""

    def single(z: Tensor) -> Tensor:
        return model.forward_twice_differentiable(z.unsqueeze(0)).squeeze(0)

    hess = torch.func.hessian(single)(x)  # (L, T, F, T, F)
    d = x.numel()
    return hess.reshape(hess.shape[0], d, d).detach()


def dense_r(model: RecurrentClassifier, x: Tensor) -> Tensor:
    """Exact R per input: all d x d Hessian entries by double backward (d basis tangents)."""
    values = []
    for row in x:
        d = row.numel()
        xs = row.expand(d, *row.shape).clone().requires_grad_(True)
        basis = torch.eye(d, dtype=row.dtype).view(d, *row.shape)
        out = model.forward_twice_differentiable(xs)
        total = torch.zeros((), dtype=torch.float64)
        for k in range(out.shape[1]):
            (g,) = torch.autograd.grad(out[:, k].sum(), xs, create_graph=True, retain_graph=True)
            (cols,) = torch.autograd.grad((g * basis).sum(), xs, retain_graph=True)
            total = total + cols.double().pow(2).sum()
        values.append(total)
    return torch.stack(values)
