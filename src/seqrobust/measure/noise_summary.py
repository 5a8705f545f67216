"""Pooled and per-input statistics of the noise study (the ``summary`` of ``noise.json``)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from seqrobust.measure.montecarlo import FloatArray, clopper_pearson
from seqrobust.measure.noise import InputRecord, NoiseConfig


def _quantiles(values: list[list[float]]) -> list[list[float]]:
    return np.quantile(np.asarray(values), [0.25, 0.5, 0.75], axis=0).tolist()


def _pooled(num: FloatArray, den: FloatArray) -> list[float | None]:
    return [float(a / b) if b > 0 else None for a, b in zip(num, den, strict=True)]


def summarise(records: list[InputRecord], cfg: NoiseConfig, *, run: str) -> dict[str, Any]:
    """Pooled and per-input statistics over all inputs (the JSON ``summary``).

    Raises:
        ValueError: if ``records`` is empty.
    """
    if not records:
        raise ValueError("no inputs were analysed")
    dims = [r.d for r in records]  # d = length x features differs for variable lengths
    d = int(np.median(dims))
    keys = ("changed", "changed_q_positive", "changed_to_runner_up", "q_nonpositive",
            "q_nonpositive_unchanged")
    arr = {k: np.asarray([getattr(r, k) for r in records], dtype=np.float64) for k in keys}
    bound = np.asarray([r.bound_imhof for r in records])
    lo, _ = clopper_pearson(arr["changed"], cfg.samples)
    ratio_lin = np.array([r.rho_half_unclipped / r.r_linear for r in records])
    ratio_star = np.array([r.rho_half_unclipped / r.r_star for r in records])
    ratio_bound = np.array([r.rho_half_bound / r.r_linear for r in records])
    ok = np.isfinite(ratio_lin)
    total = cfg.samples * len(records)
    return {
        "run": run,
        "d": d,
        "d_range": [min(dims), max(dims)],
        "sqrt_d": math.sqrt(d),
        "n_inputs": len(records),
        "samples": cfg.samples,
        "rho": sorted(cfg.radii),
        "unit": cfg.unit,
        "eps_scale": cfg.eps_scale,
        "clipped_to": list(cfg.bounds) if cfg.bounds is not None else None,
        "quantiles": {
            k: _quantiles([getattr(r, k) for r in records])
            for k in ("p_unclipped", "p_clipped", "p_quadratic", "bound_imhof", "bound_chernoff")
        },
        "h1_failure_given_changed": _pooled(
            arr["changed_q_positive"].sum(0), arr["changed"].sum(0)
        ),
        "runner_up_given_changed": _pooled(
            arr["changed_to_runner_up"].sum(0), arr["changed"].sum(0)
        ),
        "h1_failure_fraction_of_directions": (arr["changed_q_positive"].sum(0) / total).tolist(),
        "q_negative_but_unchanged": _pooled(
            arr["q_nonpositive_unchanged"].sum(0), arr["q_nonpositive"].sum(0)
        ),
        "bound_below_ci_low_fraction": (bound < lo).mean(axis=0).tolist(),
        "per_input_radius_ratio_half": [float(v) if math.isfinite(v) else None for v in ratio_lin],
        "inputs_reaching_half": int(ok.sum()),
        "radius_ratio_half_over_linear_median": _median(ratio_lin),
        "radius_ratio_half_over_r_star_median": _median(ratio_star),
        "radius_ratio_bound_half_over_linear_median": _median(ratio_bound),
        **_union_summary(records, lo),
        "median": {
            k: float(np.median([getattr(r, k) for r in records]))
            for k in ("t", "jnorm", "r_linear", "r_lower", "r_star", "lam_min", "lam_max",
                      "mean_curvature")
        },
    }


def _union_summary(records: list[InputRecord], ci_low: FloatArray) -> dict[str, Any]:
    if any(r.bound_union is None or r.changed_all_q_positive is None for r in records):
        return {}
    union = np.asarray([r.bound_union for r in records], dtype=np.float64)
    changed = np.asarray([r.changed for r in records], dtype=np.float64).sum(0)
    all_pos = np.asarray([r.changed_all_q_positive for r in records], dtype=np.float64).sum(0)
    return {
        "union_h1_failure_given_changed": _pooled(all_pos, changed),
        "union_bound_below_ci_low_fraction": (union < ci_low).mean(axis=0).tolist(),
        "quantiles_bound_union": _quantiles([list(r.bound_union or []) for r in records]),
    }


def _median(values: FloatArray) -> float | None:
    ok = values[np.isfinite(values)]
    return float(np.median(ok)) if ok.size else None


__all__ = ["summarise"]
