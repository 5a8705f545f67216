"""R(x) = Σ_k ‖∇²ₓ f_k(x)‖_F² exactly, from L·D Hessian-vector products (an analysis tool and
the reference the estimators of :mod:`seqrobust.geometry.frobenius` are tested against)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import torch
from torch import Tensor

from seqrobust._checks import check_sequences
from seqrobust.geometry._autodiff import GradientGraph, basis_tangents
from seqrobust.geometry.margin import _logits
from seqrobust.types import ForwardFn


def hessian_frobenius_exact(f: ForwardFn, x: Tensor, *, chunk_size: int = 64) -> Tensor:
    """R(x) = Σ_k ‖∇²ₓ f_k(x)‖_F² for every input, exactly.

    Cost: L·D Hessian-vector products shared by the batch (one first-order graph per class,
    then D coordinate tangents in vmapped chunks), about L·D/``chunk_size`` backward calls,
    with ``chunk_size·B·D`` memory per call; no ``(D, D)`` matrix is stored. On MNIST rows
    (D = 784, L = 10) that is 7,840 HVPs: an analysis tool, not a training loss.

    Args:
        f: forward callable ``(B, T, F) -> (B, L)``, twice differentiable.
        x: inputs ``(B, T, F)``.
        chunk_size: coordinate tangents per vmapped backward.

    Returns:
        ``(B,)`` values of R in ``x``'s dtype.

    Raises:
        ValueError: on bad input or a non-positive ``chunk_size``.
    """
    check_sequences(x)
    if not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    dim = x.shape[1] * x.shape[2]
    total = x.new_zeros(x.shape[0])
    for graph in _class_graphs(f, x):
        for start in range(0, dim, chunk_size):
            cols = graph.hvp_batched(basis_tangents(x, start, min(start + chunk_size, dim)))
            total = total + cols.pow(2).sum(dim=(0, 2, 3))
    return total


def _class_graphs(f: ForwardFn, x: Tensor) -> Iterator[GradientGraph]:
    """One first-order graph per class k, of Σ_b f_{b,k} (its Hessian is block-diagonal),
    built one at a time so that only one graph is alive."""
    with torch.no_grad():
        num = _logits(f, x).shape[1]
    one_hot = torch.eye(num, dtype=x.dtype, device=x.device)[:, None, :].expand(-1, x.shape[0], -1)
    for k in range(num):
        yield GradientGraph(_projected(f, one_hot[k]), x)


def _projected(f: ForwardFn, e: Tensor) -> Callable[[Tensor], Tensor]:
    """z ↦ Σ_b e_bᵀ f(z)_b for output directions ``e`` of shape ``(B, L)``."""

    def fn(z: Tensor) -> Tensor:
        return (f(z) * e).sum()

    return fn


__all__ = ["hessian_frobenius_exact"]
