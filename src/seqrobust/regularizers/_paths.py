"""The forward function regularisers differentiate (second order, gradients reach the weights)."""

from __future__ import annotations

from torch import Tensor, nn

from seqrobust.models import LengthBound, differentiable_forward
from seqrobust.types import ForwardFn


def second_order_forward(model: nn.Module | ForwardFn) -> ForwardFn:
    """A forward function of ``model`` whose input gradients can be differentiated again.

    * A :class:`~seqrobust.models.RecurrentClassifier` keeps its automatic path choice: on CPU
      its fast ``nn.RNN``/``nn.LSTM``/``nn.GRU`` kernels support double and triple backward
      (checked against the cell loop to 1e-15 in float64) and are faster; on CUDA, and inside
      ``torch.func`` transforms, it switches to its cell loop by itself, because cuDNN cannot
      double-backward.
    * A :class:`~seqrobust.models.LengthBound` (padded batch) runs the twice-differentiable
      path; the estimators batch several copies of the inputs (probes, both points of a
      finite difference), so a batch of ``k`` times the bound size reuses the lengths ``k``
      times.
    * Any other module goes through :func:`~seqrobust.models.twice_differentiable`.

    Args:
        model: a classifier ``(B, T, F) -> (B, L)``, module or plain callable.

    Returns:
        A callable with the same inputs and outputs.
    """
    if isinstance(model, LengthBound):
        return _tiled_lengths(model)
    return differentiable_forward(model)


def _tiled_lengths(bound: LengthBound) -> ForwardFn:
    size = bound.lengths.shape[0]

    def forward(x: Tensor) -> Tensor:
        copies, rest = divmod(x.shape[0], max(size, 1))
        if rest or copies == 0:
            raise ValueError(f"expected a multiple of the bound batch {size}, got {x.shape[0]}")
        tiled = bound if copies == 1 else LengthBound(bound.model, bound.lengths.repeat(copies))
        return tiled.forward_twice_differentiable(x)

    return forward
