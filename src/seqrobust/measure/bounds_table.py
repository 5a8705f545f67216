"""The per-input columns of the Theorem-1 analysis for one batch of equal-length inputs:
margins, gradients, top curvature by Lanczos, the bounds (theory.md E2–E4, multi-class minimum),
the measured minimal L2 distances and the per-step profile."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor

from seqrobust.attacks.minimal_norm import minimal_l2
from seqrobust.bounds.curvature import (
    curvature_lower_bound,
    curvature_upper_bound,
    witness_bound,
    witness_vector,
)
from seqrobust.geometry import (
    hvp_neg_margin,
    margin_gradient,
    margins,
    time_step_profile,
    top_curvature,
)
from seqrobust.seeds import input_normals
from seqrobust.types import ForwardFn

Competitors = Literal["all", "runner-up"]
ROWS, PROFILE = "rows.csv", "profile.csv"
COLUMNS = (
    "index", "label", "pred", "correct", "runner_up", "t", "j_norm", "v", "residual", "v_upper",
    "abs_j_dot_u", "lower_runner_up", "upper_runner_up", "lower", "upper", "best", "lower_class",
    "best_class", "witness_flips", "lanczos_rel_residual", "deepfool", "deepfool_refined", "fmn",
    "measured", "lower_ok", "upper_ok", "best_ok",
)  # fmt: skip



@dataclass(frozen=True)
class AnalyzeOptions:
    """How each input is analysed (the sizes of its computations)."""

    lanczos_iters: int = 30
    """Lanczos steps per input and competitor."""
    competitors: Competitors = "all"
    """``all`` (valid multi-class bounds) or ``runner-up`` (faster; lower bound not valid)."""
    fmn_steps: int = 100
    """Steps of each FMN run (one warm-started from DeepFool, one from the clean input)."""
    profile_n: int = 200
    """Inputs (the first ones) that also get the per-time-step block curvature."""
    seed: int = 0
    """Input ``i`` draws its Lanczos start vectors from seed ``seed * 1_000_003 + i``."""

    def __post_init__(self) -> None:
        for name in ("lanczos_iters", "fmn_steps"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if isinstance(self.profile_n, bool) or not isinstance(self.profile_n, int) or (
                self.profile_n < 0):
            raise ValueError(f"profile_n must be an integer >= 0, got {self.profile_n!r}")
        if self.competitors not in ("all", "runner-up"):
            raise ValueError(f"unknown competitors {self.competitors!r}; choose all or runner-up")


def bound_columns(
    f: ForwardFn,
    x: Tensor,
    *,
    competitors: Competitors = "all",
    lanczos_iters: int = 30,
    generator: torch.Generator | None = None,
    input_generators: Sequence[torch.Generator] | None = None,
) -> dict[str, Tensor]:
    """Per-input bound columns (theory.md E2–E4, multi-class minimum) for a batch.

    Args:
        f: twice-differentiable forward ``(B, T, F) -> (B, L)``.
        x: ``(B, T, F)`` inputs.
        competitors: every class but the prediction, or the runner-up only.
        lanczos_iters: Lanczos steps.
        generator: Lanczos start vectors.
        input_generators: ``B`` per-input CPU generators to draw the start vectors from
            instead (each input's ``k`` starts, one per competitor), so an input's result
            does not depend on the rest of the batch.

    Returns:
        ``(B,)`` tensors named as in :data:`COLUMNS` (bounds and curvature), plus
        ``witness (B, T, F)`` (the best witness point, zeros where none) and
        ``grad_runner_up (B, T, F)`` (``J`` of the runner-up margin).
    """
    m = margins(f, x)
    batch, num = m.all.shape
    if competitors == "all":
        other = torch.stack([torch.arange(num, device=x.device)] * batch)
        other = other[other != m.pred[:, None]].reshape(batch, num - 1)
    else:
        other = m.runner_up[:, None]
    k = other.shape[1]
    xr, pred_r, other_r = x.repeat_interleave(k, 0), m.pred.repeat_interleave(k), other.reshape(-1)
    t, j = margin_gradient(f, xr, pred=pred_r, other=other_r)
    t = t.clamp_min(0.0)  # rounding: the prediction's margin is >= 0 by definition
    start = None
    if input_generators is not None:
        start = input_normals(input_generators, (k, *x.shape[1:]), like=x).reshape(xr.shape)
    top = top_curvature(
        f, xr, pred=pred_r, other=other_r, max_iter=lanczos_iters, generator=generator,
        start=start,
    )
    j_flat, u_flat = j.flatten(1), top.vector.flatten(1)
    j_norm, j_dot_u = j_flat.norm(dim=1), (j_flat * u_flat).sum(1)
    lower = curvature_lower_bound(t, j_norm, top.upper)
    upper = curvature_upper_bound(t, j_dot_u, top.value)
    w = torch.where(j_norm[:, None] > 0, -j_flat / j_norm.clamp_min(1e-30)[:, None], u_flat)
    c_w = w * hvp_neg_margin(f, xr, w.reshape(xr.shape), pred=pred_r, other=other_r).flatten(1)
    along_j = witness_bound(t, j_norm, c_w.sum(1))
    use_u = upper <= along_j
    best = torch.where(use_u, upper, along_j)
    witness = torch.where(
        use_u[:, None], witness_vector(upper, u_flat, j_flat), witness_vector(along_j, w, j_flat)
    )
    view = (batch, k)
    low_k, best_k = lower.reshape(view).min(1), best.reshape(view).min(1)
    pick = best_k.indices + torch.arange(batch, device=x.device) * k
    ru = (other_r == m.runner_up.repeat_interleave(k)).nonzero().squeeze(1)  # runner-up rows
    with torch.no_grad():
        flips = f(x + witness[pick].reshape(x.shape)).argmax(1) != m.pred
    return {
        "pred": m.pred,
        "runner_up": m.runner_up,
        "t": t[ru],
        "j_norm": j_norm[ru],
        "v": top.value[ru],
        "residual": top.residual[ru],
        "v_upper": top.upper[ru],
        "abs_j_dot_u": j_dot_u[ru].abs(),
        "lower_runner_up": lower[ru],
        "upper_runner_up": upper[ru],
        "lower": low_k.values,
        "upper": upper.reshape(view).min(1).values,
        "best": best_k.values,
        "lower_class": other.gather(1, low_k.indices[:, None])[:, 0],
        "best_class": other.gather(1, best_k.indices[:, None])[:, 0],
        "witness_flips": flips & torch.isfinite(best_k.values),
        "lanczos_rel_residual": (top.residual / top.value.abs().clamp_min(1e-30))
        .reshape(view)
        .max(1)
        .values,
        "witness": witness[pick].reshape(x.shape),
        "grad_runner_up": j[ru].reshape(x.shape),
    }


def analyze_group(
    model: ForwardFn,
    f: ForwardFn,
    x: Tensor,
    *,
    cfg: AnalyzeOptions,
    bounds: tuple[float, float],
    generators: Sequence[torch.Generator],
    profile: Tensor,
) -> dict[str, Tensor]:
    """Bound columns, measured distances and the time-step profile of one equal-length batch.

    Args:
        model: the classifier's forward for attacks (:func:`~seqrobust.attacks.minimal_l2`).
        f: its forward for the geometry (``functional=True``).
        x: ``(B, T, F)`` inputs, all ``T`` steps real.
        cfg: Lanczos, competitor and FMN options.
        bounds: the attacks' input range.
        generators: ``B`` per-input CPU generators: the Lanczos start vectors, then those of
            the per-step profile, are drawn from them (:func:`bound_columns`).
        profile: ``(B,)`` bool, inputs that also get the per-step block curvature.

    Returns:
        The ``(B,)`` columns of :func:`bound_columns`, ``deepfool``, ``deepfool_refined``,
        ``fmn``, ``measured`` and the per-step ``grad_t``/``curv_t`` ``(B, T)`` (``curv_t``
        NaN where not profiled).
    """
    cols = bound_columns(
        f, x, competitors=cfg.competitors, lanczos_iters=cfg.lanczos_iters,
        input_generators=generators,
    )
    att = minimal_l2(model, x, labels=cols["pred"], fmn_steps=cfg.fmn_steps, bounds=bounds)
    grad_t = cols["grad_runner_up"].norm(dim=2)
    curv_t = torch.full_like(grad_t, math.nan)
    sub = torch.nonzero(profile).squeeze(1)
    if sub.numel():
        start = input_normals([generators[i] for i in sub.tolist()], x.shape[1:], like=x)
        prof = time_step_profile(
            f, x[sub], pred=cols["pred"][sub], other=cols["runner_up"][sub], start=start
        )
        curv_t[sub] = prof.curvature.to(curv_t)
    return {
        **{k: v for k, v in cols.items() if v.dim() == 1},
        "deepfool": att.deepfool.norms,
        "deepfool_refined": att.deepfool_refined.norms,
        "fmn": att.fmn.norms,
        "measured": att.best.norms,
        "grad_t": grad_t,
        "curv_t": curv_t,
    }


__all__ = ["COLUMNS", "AnalyzeOptions", "Competitors", "analyze_group", "bound_columns"]
