"""Input curvature of a classifier over data: R(x) = Σ_k ‖∇²ₓ f_k(x)‖_F² (theory.md §6, the
quantity the Hessian regulariser penalises) and the margin gradient norm |J|, per input and
summarised."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from tqdm import tqdm

from seqrobust.data import SequenceData
from seqrobust.geometry import (
    hessian_frobenius_exact,
    hessian_frobenius_hutchinson,
    margin_gradient,
    margins,
)
from seqrobust.measure._lengths import map_groups
from seqrobust.measure._prepare import prepare, require_data
from seqrobust.models.classifier import Classifier, Group


def _mean_se(values: Tensor) -> tuple[float, float]:
    v = values.double()
    se = float(v.std() / math.sqrt(v.numel())) if v.numel() > 1 else float("nan")
    return float(v.mean()), se


@dataclass(frozen=True)
class Curvature:
    """Per-input R(x) and |J| with their summary (see :func:`curvature`).

    Attributes:
        r: ``(N,)`` R(x) per input (float64): an unbiased estimate, or exact.
        j: ``(N,)`` |J| = ‖∇F‖ of the runner-up margin per input.
        method: how R was computed.
        seconds: wall time.
    """

    r: Tensor
    j: Tensor
    method: str
    seconds: float

    @property
    def n(self) -> int:
        """Number of inputs."""
        return int(self.r.numel())

    def summary(self) -> dict[str, float | int | str]:
        """Mean, standard error (over inputs) and median of R, mean and s.e. of |J|."""
        mean_r, se_r = _mean_se(self.r)
        mean_j, se_j = _mean_se(self.j)
        return {"n": self.n, "method": self.method, "mean_R": mean_r, "se_R": se_r,
                "median_R": float(self.r.double().median()), "mean_J": mean_j, "se_J": se_j}


def curvature(
    model: nn.Module | Classifier,
    data: SequenceData,
    *,
    n: int | None = None,
    probes: int = 8,
    exact: bool = False,
    batch_size: int = 100,
    seed: int = 0,
    progress: bool = False,
) -> Curvature:
    """R(x) and |J| of the first ``n`` inputs of ``data``, for any classifier.

    R is estimated per input without bias by the Hutchinson estimator that is exact over the
    outputs (theory.md E19: L HVPs per probe), or computed exactly with ``exact`` (L·d HVPs per
    input). Variable-length data: only the real steps are input dimensions.

    Args:
        model: the classifier (its current mode and device).
        data: inputs in model units.
        n: the first ``n`` inputs (default all).
        probes: Gaussian probes per input (ignored with ``exact``).
        exact: compute R exactly.
        batch_size: inputs per batch.
        seed: probe seed.
        progress: a progress bar.

    Returns:
        The per-input values (:class:`Curvature`).

    Raises:
        ValueError: on empty data or non-positive options.
    """
    if probes < 1 or batch_size < 1 or (n is not None and n < 1):
        raise ValueError("n, probes and batch_size must be positive")
    sub = require_data(data) if n is None else require_data(data).take(n)
    if len(sub) == 0:
        raise ValueError(f"{data.name}: no inputs to measure")
    clf = prepare(model, sub)
    device = next((p.device for p in clf.parameters()), torch.device("cpu"))
    gen = torch.Generator(device=device).manual_seed(seed)
    started = time.perf_counter()
    r_parts, j_parts = [], []

    def measure(x: Tensor, rows: Tensor, group: Group) -> dict[str, Tensor]:
        forward = group.forward(functional=True)
        if exact:
            r = hessian_frobenius_exact(forward, x)
        else:
            r = hessian_frobenius_hutchinson(forward, x, probes=probes, outputs="exact",
                                             generator=gen)
        m = margins(forward, x)
        _, j = margin_gradient(forward, x, pred=m.pred, other=m.runner_up)
        return {"r": r.detach(), "j": j.flatten(1).norm(dim=1).detach()}

    for start in tqdm(range(0, len(sub), batch_size), disable=not progress, desc="curvature"):
        x = sub.inputs[start : start + batch_size].to(device)
        lengths = None if sub.lengths is None else sub.lengths[start : start + batch_size]
        cols = map_groups(measure, x, clf.groups(x, lengths))
        r_parts.append(cols["r"].cpu())
        j_parts.append(cols["j"].cpu())
    method = "exact" if exact else f"hutchinson, exact over outputs, {probes} probes"
    return Curvature(torch.cat(r_parts).double(), torch.cat(j_parts).double(), method,
                     time.perf_counter() - started)


__all__ = ["Curvature", "curvature"]
