"""Shared tiny float64 cases for the geometry tests (imported by name; not a conftest)."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import torch
from torch import Tensor

from seqrobust.geometry import dense_hessian_neg_margin, dense_logit_hessians, margins
from seqrobust.models import RecurrentClassifier, differentiable_forward
from seqrobust.types import ForwardFn

CELLS = ("rnn", "lstm", "gru")
BATCH, STEPS, FEATURES, CLASSES = 3, 4, 3, 4


@dataclass(frozen=True)
class Case:
    """A tiny model of one cell type, inputs and their predicted / runner-up classes."""

    cell: str
    f: ForwardFn
    x: Tensor
    pred: Tensor
    other: Tensor


@functools.cache
def tiny_case(cell: str, seed: int = 0) -> Case:
    """``RecurrentClassifier(3 → 4 classes, hidden 5, 2 layers)`` in float64, eval mode."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = RecurrentClassifier(
            input_size=FEATURES, num_classes=CLASSES, cell=cell, hidden_size=5, num_layers=2
        )
        model = model.double().eval()
        x = torch.randn(BATCH, STEPS, FEATURES, dtype=torch.float64)
    f = differentiable_forward(model, functional=True)
    m = margins(f, x)
    return Case(cell=cell, f=f, x=x, pred=m.pred, other=m.runner_up)


@functools.cache
def dense_neg_margin(cell: str) -> Tensor:
    """Dense ∇²(−F) of :func:`tiny_case` ``(B, D, D)``, computed once per session."""
    case = tiny_case(cell)
    return dense_hessian_neg_margin(case.f, case.x, pred=case.pred, other=case.other)


@functools.cache
def dense_logits(cell: str) -> Tensor:
    """Dense ∇²f_k of :func:`tiny_case` ``(B, L, D, D)``, computed once per session."""
    case = tiny_case(cell)
    return dense_logit_hessians(case.f, case.x)


def random_symmetric(eigenvalues: Tensor, *, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """``Q diag(λ) Qᵀ`` with a random orthogonal ``Q``; returns (matrix, Q)."""
    dim = eigenvalues.shape[0]
    g = torch.randn(dim, dim, dtype=torch.float64, generator=generator)
    q, _ = torch.linalg.qr(g)
    return (q * eigenvalues) @ q.T, q
