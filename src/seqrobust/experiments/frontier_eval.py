"""Per-model measures of the frontier study: worst case over attacks, curve area, and the mean
input curvature ‖H‖_F² and gradient norm |J| (theory.md §1, §6).

Pure functions of curves, models and data; the study runner (:mod:`.frontier`) caches them.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from seqrobust.data import SequenceData
from seqrobust.experiments.robustness import RobustnessCurve
from seqrobust.geometry import hessian_frobenius_hutchinson, margin_gradient, margins
from seqrobust.models import twice_differentiable


def survivors(first_fooled: Tensor, index: Tensor) -> Tensor:
    """Which inputs every attack failed to fool (the worst case over attacks).

    Input ``i`` survives attack ``a`` at the radius with index ``index[a]`` on that attack's
    ε grid iff ``first_fooled[a, i] > index[a]`` (``-1``: wrong when clean, so never robust;
    ``len(eps)``: never fooled). It is robust in the worst case iff it survives every attack.

    Args:
        first_fooled: ``(A, N)`` integer records of ``A`` attacks on the same ``N`` inputs.
        index: ``(A,)`` position of the radius on each attack's ε grid.

    Returns:
        ``(N,)`` boolean mask.

    Raises:
        ValueError: on mismatched shapes.
    """
    if first_fooled.ndim != 2 or index.shape != (first_fooled.shape[0],):
        raise ValueError(
            f"expected first_fooled (A, N) and index (A,), got {tuple(first_fooled.shape)} "
            f"and {tuple(index.shape)}"
        )
    return (first_fooled > index[:, None]).all(dim=0)


def worst_case_accuracy(
    curves: Sequence[RobustnessCurve], eps: float, *, n: int | None = None
) -> float:
    """Robust accuracy at ``eps`` when an input counts only if no attack in ``curves`` fooled it.

    The curves must come from the same model and test inputs (in the same order) and carry
    per-input records; the first ``n`` inputs (default: the smallest curve's) are used.

    Raises:
        ValueError: if a curve lacks ``eps`` or its per-input record, or ``curves`` is empty.
    """
    if not curves:
        raise ValueError("worst_case_accuracy needs at least one curve")
    count = min(c.n for c in curves) if n is None else min(n, *(c.n for c in curves))
    rows, index = [], []
    for c in curves:
        if len(c.first_fooled) < count:
            raise ValueError(f"curve {c.label!r} ({c.settings.attack}) has no per-input record")
        matches = [k for k, e in enumerate(c.eps) if abs(e - eps) < 1e-9]
        if not matches:
            raise ValueError(f"curve {c.label!r} ({c.settings.attack}) has no ε = {eps:g}")
        rows.append(torch.tensor(c.first_fooled[:count], dtype=torch.long))
        index.append(matches[0])
    mask = survivors(torch.stack(rows), torch.tensor(index, dtype=torch.long))
    return float(mask.double().mean()) if count else float("nan")


def curve_area(curve: RobustnessCurve) -> float:
    """Normalised area under the robust-accuracy curve, a fraction in [0, 1].

    The trapezoidal integral of accuracy over ε from 0 (the clean accuracy) to the largest ε on
    the curve, divided by that ε: the mean robust accuracy over [0, ε_max].
    """
    xs = (0.0, *curve.eps)
    ys = (curve.clean_accuracy, *curve.accuracy)
    area = sum((xs[i + 1] - xs[i]) * (ys[i] + ys[i + 1]) / 2 for i in range(len(xs) - 1))
    return area / xs[-1]


@dataclass(frozen=True)
class CurvatureSummary:
    """Input curvature statistics of a model over test inputs.

    Attributes:
        n: inputs used.
        mean_r: mean of R(x) = Σ_k ‖∇²ₓ f_k‖_F² (theory.md §6), Hutchinson exact over outputs.
        se_r: standard error of ``mean_r`` over inputs (probe noise included).
        median_r: median of the per-input estimates (R is heavy-tailed).
        mean_j: mean |J| = ‖∇ₓ F‖ of the margin F = f_k̂ − f_k′ at the predicted class.
        se_j: its standard error over inputs.
        seconds: wall time.
    """

    n: int
    mean_r: float
    se_r: float
    median_r: float
    mean_j: float
    se_j: float
    seconds: float


def _mean_se(values: Tensor) -> tuple[float, float]:
    v = values.double()
    se = float(v.std() / math.sqrt(v.numel())) if v.numel() > 1 else float("nan")
    return float(v.mean()), se


def curvature_summary(
    model: nn.Module,
    data: SequenceData,
    *,
    probes: int = 1,
    batch_size: int = 100,
    seed: int = 0,
) -> CurvatureSummary:
    """Mean R(x) (E19, exact over the L outputs: L HVPs per probe) and mean |J| on ``data``.

    The model runs on its own device through :func:`seqrobust.models.twice_differentiable`.

    Args:
        model: the classifier, in eval mode.
        data: inputs ``(N, T, F)`` in model units (equal lengths).
        probes: Gaussian probes per input.
        batch_size: inputs per batch.
        seed: probe seed.

    Returns:
        The summary over the ``N`` inputs.

    Raises:
        ValueError: on padded data, empty data or non-positive options.
    """
    if data.lengths is not None:
        raise ValueError("curvature_summary does not support padded (variable-length) data")
    if len(data) == 0 or probes < 1 or batch_size < 1:
        raise ValueError("curvature_summary needs data and positive probes and batch_size")
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    forward = twice_differentiable(model)
    gen = torch.Generator(device=device).manual_seed(seed)
    started = time.perf_counter()
    r_parts, j_parts = [], []
    for start in range(0, len(data), batch_size):
        x = data.inputs[start : start + batch_size].to(device)
        r = hessian_frobenius_hutchinson(forward, x, probes=probes, outputs="exact", generator=gen)
        m = margins(forward, x)
        _, j = margin_gradient(forward, x, pred=m.pred, other=m.runner_up)
        r_parts.append(r.detach().cpu())
        j_parts.append(j.flatten(1).norm(dim=1).cpu())
    r_all, j_all = torch.cat(r_parts), torch.cat(j_parts)
    mean_r, se_r = _mean_se(r_all)
    mean_j, se_j = _mean_se(j_all)
    return CurvatureSummary(
        n=int(r_all.numel()), mean_r=mean_r, se_r=se_r, median_r=float(r_all.double().median()),
        mean_j=mean_j, se_j=se_j, seconds=time.perf_counter() - started,
    )


__all__ = [
    "CurvatureSummary",
    "curvature_summary",
    "curve_area",
    "survivors",
    "worst_case_accuracy",
]
