"""R(x) = Σ_k ‖∇²ₓ f_k‖_F² per input: exact and Hutchinson estimates (theory.md §6, (E19)).

For analysis only: nothing keeps a graph for training (the regularisers live elsewhere).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Literal

import torch
from torch import Tensor

from seqrobust._checks import check_choice, check_sequences
from seqrobust.geometry._autodiff import GradientGraph, basis_tangents, randn_like
from seqrobust.geometry.margin import _logits
from seqrobust.types import ForwardFn

Outputs = Literal["random", "exact"]


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


def hessian_frobenius_samples(
    f: ForwardFn,
    x: Tensor,
    *,
    probes: int = 1,
    outputs: Outputs = "random",
    generator: torch.Generator | None = None,
) -> Tensor:
    """Independent unbiased samples X of R(x) per input (E19).

    ``outputs="random"``: X = ‖H_e w‖², H_e = ∇²(eᵀf), e ~ N(0, I_L), w ~ N(0, I_D); one HVP
    per probe; Var X = 4 tr(S²) + 2C + 2‖G‖_F² ≤ 8R² (E20).
    ``outputs="exact"``: X = Σ_k ‖H_k w‖², w ~ N(0, I_D); L HVPs per probe;
    Var X = 2‖S‖_F², S = Σ_k H_k².

    All probes run in one batched pass over ``probes·B`` stacked copies of ``x`` (memory grows
    with ``probes·B``; call repeatedly for very many probes).

    Args:
        f: forward callable ``(B, T, F) -> (B, L)``, twice differentiable.
        x: inputs ``(B, T, F)``.
        probes: samples per input.
        outputs: ``"random"`` (Gaussian output direction) or ``"exact"`` (sum over classes).
        generator: source of e and w; may live on any device.

    Returns:
        ``(probes, B)`` samples; their mean over dim 0 is unbiased for R.

    Raises:
        ValueError: on bad input or options.
    """
    check_sequences(x)
    check_choice(outputs, ("random", "exact"), name="outputs")
    if not isinstance(probes, int) or probes < 1:
        raise ValueError(f"probes must be a positive integer, got {probes!r}")
    with torch.no_grad():
        num = _logits(f, x).shape[1]
    batch = x.shape[0]
    stacked = x.detach().repeat(probes, 1, 1)  # probe p of input b sits at row p·B + b
    w = randn_like(x, generator, (probes * batch, *x.shape[1:]))
    if outputs == "random":
        e = randn_like(x, generator, (probes * batch, num))
        values = GradientGraph(_projected(f, e), stacked).hvp(w).pow(2).sum(dim=(1, 2))
    else:
        values = stacked.new_zeros(probes * batch)
        for graph in _class_graphs(f, stacked):
            values = values + graph.hvp(w).pow(2).sum(dim=(1, 2))
    return values.reshape(probes, batch)


def hessian_frobenius_hutchinson(
    f: ForwardFn,
    x: Tensor,
    *,
    probes: int = 1,
    outputs: Outputs = "random",
    generator: torch.Generator | None = None,
) -> Tensor:
    """Hutchinson estimate of R(x) = Σ_k ‖∇²ₓ f_k‖_F² per input (E19), unbiased.

    The mean of :func:`hessian_frobenius_samples`; ``outputs="exact"`` is the exact-over-outputs
    variant (L HVPs per probe, lower variance, preferred for small L).

    Args:
        f: forward callable ``(B, T, F) -> (B, L)``, twice differentiable.
        x: inputs ``(B, T, F)``.
        probes: samples averaged per input.
        outputs: ``"random"`` (1 HVP per probe) or ``"exact"`` (L HVPs per probe).
        generator: source of the probes; may live on any device.

    Returns:
        ``(B,)`` estimates.

    Raises:
        ValueError: on bad input or options.
    """
    samples = hessian_frobenius_samples(f, x, probes=probes, outputs=outputs, generator=generator)
    return samples.mean(dim=0)


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
