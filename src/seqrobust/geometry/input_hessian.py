"""Input Hessians: M = ∇²ₓ(−F) products and dense oracles (theory.md §1, (E21)).

M w is computed by double backward on Σ_b (−F_b), whose Hessian is block-diagonal in the
batch, so one call gives every input its own product. Double backward beat forward-over-reverse
(``torch.func.jvp`` of ``torch.func.grad``) on CPU for the recurrent cell loop; figures in
docs/geometry.md. Pass ``f = seqrobust.models.differentiable_forward(model, functional=True)``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import torch
from torch import Tensor

from seqrobust._checks import check_sequences
from seqrobust.geometry._autodiff import GradientGraph
from seqrobust.geometry.margin import _logits, check_classes, neg_margin_sum
from seqrobust.types import ForwardFn


def neg_margin_hvp_operator(
    f: ForwardFn, x: Tensor, *, pred: Tensor, other: Tensor
) -> Callable[[Tensor], Tensor]:
    """The linear map w ↦ M w, M = ∇²ₓ(f_other − f_pred) per input, with the graph reused.

    The forward pass and the first backward (with ``create_graph=True``) run once; each call
    of the returned operator is one further backward pass. Use it for many products at the
    same ``x`` (Lanczos, dense columns).

    Args:
        f: forward callable ``(B, T, F) -> (B, L)``, twice differentiable.
        x: inputs ``(B, T, F)``.
        pred: ``(B,)`` class k̂ (fixed).
        other: ``(B,)`` class k′ (fixed).

    Returns:
        A callable mapping ``w`` of shape ``(B, T, F)`` to ``M w`` of shape ``(B, T, F)``
        (detached). It also accepts ``(K, B, T, F)``: K tangents per input in one vmapped
        backward.

    Raises:
        ValueError: on bad shapes, dtypes or class indices.
    """
    check_sequences(x)
    check_classes(x, pred=pred, other=other)
    graph = GradientGraph(neg_margin_sum(f, pred=pred, other=other), x)

    def apply(w: Tensor) -> Tensor:
        if w.shape == x.shape:
            return graph.hvp(w)
        if w.dim() == 4 and w.shape[1:] == x.shape:
            return graph.hvp_batched(w)
        raise ValueError(f"w must have shape {tuple(x.shape)} or (K, *{tuple(x.shape)})")

    return apply


def hvp_neg_margin(f: ForwardFn, x: Tensor, w: Tensor, *, pred: Tensor, other: Tensor) -> Tensor:
    """M w for every input: M_b w_b with M_b = ∇²ₓ(−F_b) = ∇²(f_other − f_pred) (E21).

    One double-backward HVP of Σ_b (−F_b) gives all B products at once (the Hessian of the sum
    is block-diagonal). For several products at the same ``x`` use
    :func:`neg_margin_hvp_operator`, which reuses the first-order graph.

    Args:
        f: forward callable ``(B, T, F) -> (B, L)``, twice differentiable.
        x: inputs ``(B, T, F)``.
        w: tangents ``(B, T, F)``, one per input.
        pred: ``(B,)`` class k̂ (fixed).
        other: ``(B,)`` class k′ (fixed).

    Returns:
        ``(B, T, F)`` products, detached, in ``x``'s dtype and device.

    Raises:
        ValueError: on bad shapes, dtypes or class indices.
    """
    if not isinstance(w, Tensor) or w.shape != x.shape:
        shape = tuple(w.shape) if isinstance(w, Tensor) else type(w).__name__
        raise ValueError(f"w must have the shape of x {tuple(x.shape)}, got {shape}")
    return neg_margin_hvp_operator(f, x, pred=pred, other=other)(w)


def dense_hessian_neg_margin(f: ForwardFn, x: Tensor, *, pred: Tensor, other: Tensor) -> Tensor:
    """Dense M_b = ∇²ₓ(−F_b) per input via ``torch.func.hessian`` (an oracle for small inputs).

    Cost: one ``torch.func.hessian`` per input (D forward-over-reverse passes) and
    ``B·D²`` memory; use :func:`hvp_neg_margin` or Lanczos for real-sized inputs.

    Args:
        f: forward callable ``(B, T, F) -> (B, L)``, twice differentiable and compatible
            with ``torch.func`` (e.g. ``RecurrentClassifier.forward_twice_differentiable``).
        x: inputs ``(B, T, F)``.
        pred: ``(B,)`` class k̂ (fixed).
        other: ``(B,)`` class k′ (fixed).

    Returns:
        ``(B, D, D)`` with ``D = T·F`` (row-major flattening of ``(T, F)``).

    Raises:
        ValueError: on bad shapes, dtypes or class indices.
    """
    check_sequences(x)
    check_classes(x, pred=pred, other=other)
    dim = x.shape[1] * x.shape[2]
    blocks = []
    for b in range(x.shape[0]):
        fn = neg_margin_sum(f, pred=pred[b : b + 1], other=other[b : b + 1])

        def one(xb: Tensor, fn: Callable[[Tensor], Tensor] = fn) -> Tensor:
            return fn(xb[None])

        blocks.append(dense_hessian(one, x[b]).reshape(dim, dim))
    return torch.stack(blocks).detach() if blocks else x.new_zeros(0, dim, dim)


def dense_hessian(g: Callable[[Tensor], Tensor], x: Tensor) -> Tensor:
    """The dense Hessian of a scalar ``g`` at one point ``x`` (any shape): ``torch.func.hessian``
    (forward-over-reverse) where forward-mode AD exists, else reverse-over-reverse, one
    backward pass per coordinate (packed sequences and some CUDA kernels have no forward-mode
    rule). The one place that picks the AD mode of dense oracles.

    Returns:
        ``(*x.shape, *x.shape)``, detached.
    """
    x = x.detach()
    try:
        with torch.no_grad():  # torch.func still differentiates; no graph to the parameters
            return torch.func.hessian(g)(x).detach()
    except (NotImplementedError, RuntimeError) as exc:
        if "forward AD" not in str(exc) and "forward-mode" not in str(exc):
            raise
    graph = GradientGraph(lambda z: g(z), x)
    eye = torch.eye(x.numel(), dtype=x.dtype, device=x.device)
    rows = [graph.hvp(e.reshape(x.shape)).reshape(-1) for e in eye]
    return torch.stack(rows).reshape(*x.shape, *x.shape).detach()


def dense_logit_hessians(f: ForwardFn, x: Tensor) -> Tensor:
    """Dense ∇²ₓ f_k for every input and class via ``torch.func.hessian`` (small inputs only).

    Cost: one ``torch.func.hessian`` of an L-output function per input (L·D HVP equivalents)
    and ``B·L·D²`` memory.

    Args:
        f: forward callable ``(B, T, F) -> (B, L)``, twice differentiable and compatible
            with ``torch.func``.
        x: inputs ``(B, T, F)``.

    Returns:
        ``(B, L, D, D)`` with ``D = T·F``.

    Raises:
        ValueError: if ``x`` is not a finite ``(B, T, F)`` float tensor.
    """
    check_sequences(x)
    dim = x.shape[1] * x.shape[2]
    with torch.no_grad():
        num = _logits(f, x[:1]).shape[1] if x.shape[0] else 0
    blocks = []
    for b in range(x.shape[0]):
        def logit(xb: Tensor, k: int) -> Tensor:
            return f(xb[None])[0, k]

        hess = torch.stack([dense_hessian(partial(logit, k=k), x[b]) for k in range(num)])
        blocks.append(hess.reshape(num, dim, dim))
    return torch.stack(blocks).detach() if blocks else x.new_zeros(0, num, dim, dim)
