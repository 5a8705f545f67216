"""R(x) = Σ_k ‖∇²ₓ f_k‖_F² per input (theory.md §6, (E19)): the one family of estimators, used
by the analysis (detached) and by the Hessian regulariser (``create_graph=True``).

``R`` is the squared Frobenius norm of the 3-tensor of input Hessians (theory.md §6), read as a
trace: ``R = sum_e tr(H_e^T H_e)`` over any orthonormal output basis ``e``, with
``H_e = Hess_x (e^T f)``. Every estimator below is unbiased for ``R`` (finite differences up to
an ``O(h^2)`` bias) and differentiable with respect to the model's weights, so it can be
added to a training loss (theory.md E19):

* ``"hutchinson"``: ``X = ||H_e w||^2``, ``e ~ N(0, I_L)``, ``w ~ N(0, I_d)``; one
  Hessian-vector product (double backward). Variance (E20)
  ``4 tr(S^2) + 2 C + 2 ||G||_F^2 <= 8 R^2``.
* ``"exact"``: exact over the outputs, ``X = sum_k ||H_k w||^2``, ``w ~ N(0, I_d)``; ``L``
  Hessian-vector products, variance ``2 ||S||_F^2`` with ``S = sum_k H_k^2``.
* ``"fd"``: forward differences of input gradients,
  ``X = d ||(g_e(x + h w) - g_e(x)) / h||^2``, ``g_e = grad_x (e^T f)``, ``w`` uniform on the
  unit sphere of ``R^d``, ``e ~ N(0, I_L)``. The per-sample error is ``O(h)`` but odd in ``w``,
  so the bias is ``O(h^2)``.
* ``"central"``: ``X = d ||(g_e(x + h w) - g_e(x - h w)) / (2h)||^2``; per-sample error
  ``O(h^2)``, same cost as ``"fd"`` (two input gradients).

Output-direction convention: ``e`` is a *Gaussian* vector (``E[e e^T] = I``), so one probe
estimates the full ``R`` without a factor ``L`` (the planning runs used a random unit ``e``
scaled by ``L``; both are unbiased, the Gaussian one matches (E20)).

The default finite-difference steps (:data:`DEFAULT_FD_STEP`) come from the measured relative
error of the finite-difference Hessian-vector product in float32 on the trained MNIST RNN
(``docs/regularizers.md``); ``h`` is the Euclidean length of the input displacement.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

from seqrobust._checks import check_choice, check_positive, check_sequences
from seqrobust.types import ForwardFn

Outputs = Literal["random", "exact"]


def hessian_frobenius_samples(
    f: ForwardFn,
    x: Tensor,
    *,
    probes: int = 1,
    outputs: Outputs = "random",
    generator: torch.Generator | None = None,
) -> Tensor:
    """Independent unbiased samples X of R(x) per input (E19), detached (for analysis).

    ``outputs="random"``: X = ‖H_e w‖², H_e = ∇²(eᵀf), e ~ N(0, I_L), w ~ N(0, I_D); one HVP
    per probe; Var X = 4 tr(S²) + 2C + 2‖G‖_F² ≤ 8R² (E20).
    ``outputs="exact"``: X = Σ_k ‖H_k w‖², w ~ N(0, I_D); L HVPs per probe;
    Var X = 2‖S‖_F², S = Σ_k H_k². The same estimator as the training penalty
    (:func:`hutchinson_samples`), without a graph to the weights.

    All probes run in one batched pass over ``probes·B`` stacked copies of ``x`` (memory grows
    with ``probes·B``; call repeatedly for very many probes).

    Args:
        f: forward callable ``(B, T, F) -> (B, L)``, twice differentiable.
        x: inputs ``(B, T, F)``.
        probes: samples per input.
        outputs: ``"random"`` (Gaussian output direction) or ``"exact"`` (sum over classes).
        generator: source of w and e, on ``x``'s device.

    Returns:
        ``(probes, B)`` samples; their mean over dim 0 is unbiased for R.

    Raises:
        ValueError: on bad input or options.
    """
    check_sequences(x)
    check_choice(outputs, ("random", "exact"), name="outputs")
    _check_probes(probes)
    stacked = x.detach().repeat(probes, 1, 1)  # probe p of input b sits at row p·B + b
    values = hutchinson_samples(f, stacked, all_outputs=outputs == "exact", generator=generator,
                                create_graph=False)
    return values.detach().reshape(probes, x.shape[0])


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


HessianEstimator = Literal["hutchinson", "fd", "central", "exact"]
HESSIAN_ESTIMATORS: tuple[str, ...] = ("hutchinson", "fd", "central", "exact")

DEFAULT_FD_STEP: dict[str, float] = {"fd": 1e-2, "central": 3e-2}
"""Default step ``h`` (length of the input displacement, model units) per difference scheme."""


def _check_probes(probes: int) -> None:
    if isinstance(probes, bool) or not isinstance(probes, int) or probes <= 0:
        raise ValueError(f"probes must be a positive integer, got {probes!r}")


def _row_sum_squares(t: Tensor) -> Tensor:
    return t.pow(2).flatten(1).sum(1)


def _randn(like: Tensor, shape: tuple[int, ...], generator: torch.Generator | None) -> Tensor:
    return torch.randn(shape, generator=generator, dtype=like.dtype, device=like.device)


def _unit_rows(w: Tensor) -> Tensor:
    """Each row of ``w`` scaled to unit Euclidean norm (a Gaussian row becomes uniform on the
    sphere)."""
    norms = w.flatten(1).norm(dim=1).clamp_min(torch.finfo(w.dtype).tiny)
    return w / norms.view(-1, *([1] * (w.dim() - 1)))


def hutchinson_samples(
    forward: ForwardFn,
    x: Tensor,
    *,
    all_outputs: bool = False,
    generator: torch.Generator | None = None,
    create_graph: bool = True,
) -> Tensor:
    """One Hessian-vector-product sample of ``R`` per input (theory.md E19).

    Args:
        forward: classifier ``(B, T, F) -> (B, L)``, twice differentiable.
        x: inputs ``(B, T, F)``.
        all_outputs: ``False``: ``||H_e w||^2`` with Gaussian ``e`` (one HVP);
            ``True``: ``sum_k ||H_k w||^2`` (``L`` HVPs, exact over the outputs).
        generator: source of ``w ~ N(0, I)`` (drawn first) and ``e ~ N(0, I)``.
        create_graph: keep the graph so the result can be differentiated (training).

    Returns:
        ``(B,)`` unbiased samples of ``R(x_b)``.
    """
    w = _randn(x, tuple(x.shape), generator)
    with torch.enable_grad():
        xr = x.detach().requires_grad_(True)
        out = forward(xr)
        if not all_outputs:
            e = _randn(out, tuple(out.shape), generator)
            (g,) = torch.autograd.grad((out * e).sum(), xr, create_graph=True)
            (hv,) = torch.autograd.grad((g * w).sum(), xr, create_graph=create_graph)
            return _row_sum_squares(hv)
        total = out.new_zeros(x.shape[0])
        for k in range(out.shape[1]):
            (g,) = torch.autograd.grad(out[:, k].sum(), xr, create_graph=True, retain_graph=True)
            (hv,) = torch.autograd.grad(
                (g * w).sum(), xr, create_graph=create_graph, retain_graph=True
            )
            total = total + _row_sum_squares(hv)
        return total


def finite_difference_samples(
    forward: ForwardFn,
    x: Tensor,
    *,
    step: float,
    central: bool = False,
    generator: torch.Generator | None = None,
    create_graph: bool = True,
) -> Tensor:
    """One finite-difference sample of ``R`` per input (theory.md §6, finite differences).

    Both gradient evaluations run as one batch of ``2B`` inputs (one forward, one backward).

    Args:
        forward: classifier ``(B, T, F) -> (B, L)``, differentiable (twice if the result
            must reach the weights).
        x: inputs ``(B, T, F)``.
        step: displacement length ``h`` (model units).
        central: central (``O(h^2)`` per sample) instead of forward differences.
        generator: source of the direction (drawn first) and of ``e ~ N(0, I_L)``.
        create_graph: keep the graph so the result can be differentiated (training).

    Returns:
        ``(B,)`` samples of ``R(x_b)``, bias ``O(h^2)``.
    """
    batch, dim = x.shape[0], x[0].numel()
    w = _unit_rows(_randn(x, tuple(x.shape), generator))
    x0 = x.detach()
    if central:
        points, denom = torch.cat([x0 + step * w, x0 - step * w]), 2.0 * step
    else:
        points, denom = torch.cat([x0, x0 + step * w]), step
    with torch.enable_grad():
        points.requires_grad_(True)
        out = forward(points)
        e = _randn(out, (batch, out.shape[1]), generator)
        (g,) = torch.autograd.grad(
            (out * torch.cat([e, e])).sum(), points, create_graph=create_graph
        )
    diff = (g[batch:] - g[:batch]) / denom
    return dim * _row_sum_squares(diff)


def hessian_frobenius(
    forward: ForwardFn,
    x: Tensor,
    *,
    estimator: HessianEstimator = "fd",
    probes: int = 1,
    fd_step: float | None = None,
    generator: torch.Generator | None = None,
    create_graph: bool = True,
) -> Tensor:
    """Unbiased per-input estimates of ``R(x) = sum_k ||Hess_x f_k(x)||_F^2`` (theory.md E19).

    Args:
        forward: classifier ``(B, T, F) -> (B, L)``; for ``create_graph=True`` it must support
            double backward (see :func:`~seqrobust.models.differentiable_forward`).
        x: inputs ``(B, T, F)``.
        estimator: ``"hutchinson"``, ``"exact"`` (over outputs), ``"fd"`` or ``"central"``.
        probes: independent samples averaged per input (all in one batch of ``probes * B``).
        fd_step: finite-difference step; ``None`` takes :data:`DEFAULT_FD_STEP`.
        generator: randomness of the probes.
        create_graph: keep the graph so the estimate is differentiable w.r.t. the weights.

    Returns:
        ``(B,)`` estimates, same dtype and device as ``x``.

    Raises:
        ValueError: on a bad ``x``, estimator, ``probes`` or ``fd_step``.
    """
    check_sequences(x)
    check_choice(estimator, HESSIAN_ESTIMATORS, name="estimator")
    _check_probes(probes)
    if fd_step is not None:
        check_positive(fd_step, name="fd_step")
    batch = x.shape[0]
    xs = x.detach().repeat(probes, 1, 1) if probes > 1 else x.detach()
    if estimator in ("hutchinson", "exact"):
        samples = hutchinson_samples(
            forward, xs, all_outputs=estimator == "exact", generator=generator,
            create_graph=create_graph,
        )
    else:
        step = DEFAULT_FD_STEP[estimator] if fd_step is None else fd_step
        samples = finite_difference_samples(
            forward, xs, step=step, central=estimator == "central", generator=generator,
            create_graph=create_graph,
        )
    return samples.view(probes, batch).mean(0)




__all__ = [
    "DEFAULT_FD_STEP", "HESSIAN_ESTIMATORS", "HessianEstimator", "finite_difference_samples",
    "hessian_frobenius", "hessian_frobenius_hutchinson", "hessian_frobenius_samples",
    "hutchinson_samples",
]
