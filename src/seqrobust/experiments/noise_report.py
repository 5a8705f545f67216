"""Summaries, tables and plots of the trained-network noise experiment (``seqrobust noise``)."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np

from seqrobust.experiments.montecarlo import FloatArray, clopper_pearson
from seqrobust.experiments.noise import InputRecord, NoiseConfig, run_noise
from seqrobust.experiments.shards import WHOLE, Shard, shard_indices, write_shard


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
        "rho": sorted(cfg.rho),
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


_PER_RADIUS = (
    "p_unclipped", "p_clipped", "p_quadratic", "bound_imhof", "bound_chernoff", "changed",
    "changed_q_positive", "changed_to_runner_up", "q_nonpositive", "q_nonpositive_unchanged",
)
_PER_INPUT = (
    "index", "label", "pred", "runner_up", "t", "jnorm", "lam_min", "lam_max", "mean_curvature",
    "r_linear", "r_lower", "r_star",
)


def write_noise(
    records: list[InputRecord], summary: dict[str, Any], cfg: NoiseConfig, out: Path
) -> None:
    """Write ``noise.json`` (config, summary, every record), ``noise.csv`` (one row per input
    and radius) and ``noise.png`` to ``out``."""
    from seqrobust.reporting.plots_noise import plot_noise

    out.mkdir(parents=True, exist_ok=True)
    record = {"config": asdict(cfg), "summary": summary, "inputs": [asdict(r) for r in records]}
    (out / "noise.json").write_text(json.dumps(record, indent=1) + "\n")
    rho = sorted(cfg.rho)
    lines = [",".join(("rho", *_PER_INPUT, *_PER_RADIUS))]
    for r in records:
        fixed = [repr(getattr(r, k)) for k in _PER_INPUT]
        for i, rp in enumerate(rho):
            values = (repr(getattr(r, k)[i]) for k in _PER_RADIUS)
            lines.append(",".join([repr(rp), *fixed, *values]))
    (out / "noise.csv").write_text("\n".join(lines) + "\n")
    plot_noise(summary, out / "noise.png")


def noise_experiment(
    run_dir: Path,
    cfg: NoiseConfig,
    out: Path,
    *,
    split: str = "test",
    progress: bool = False,
    shard: Shard = WHOLE,
    dataset: str | None = None,
) -> dict[str, Any]:
    """Load the trained run, measure the first ``cfg.n_inputs`` inputs of ``split`` and write
    the outputs to ``out``; returns the summary. The radius unit, its scale and the clipping
    range come from the dataset (``eps_scale``, ``eps_unit``, ``bounds``); ``dataset``
    overrides the run's own (same features and classes). The default radii
    (:data:`~seqrobust.experiments.noise.DEFAULT_RHO_PIXELS`) are fixed in model units (1 to
    257), so for other units they are rescaled. Variable-length inputs are trimmed to their
    real steps (``d = length · features``).

    With a ``shard`` other than the whole job, only the inputs ``i ≡ shard.index (mod
    shard.count)`` are measured and their records go to ``out/noise.shard-I-of-N.json``;
    ``seqrobust merge noise OUT`` then writes what one process would have (returns
    ``{"shard", "inputs", "file"}`` instead of the summary).

    Raises:
        ValueError: if the run folder holds no trained model or the split is unknown.
    """
    from seqrobust.experiments.noise import DEFAULT_RHO_PIXELS
    from seqrobust.experiments.run_data import load_run_data

    model, _, data = load_run_data(run_dir, dataset=dataset, split=split, limit=cfg.n_inputs)
    if cfg.rho == DEFAULT_RHO_PIXELS and data.eps_scale != cfg.eps_scale:
        cfg = replace(cfg, rho=tuple(r * cfg.eps_scale / data.eps_scale for r in cfg.rho))
    cfg = replace(
        cfg,
        eps_scale=float(getattr(data, "eps_scale", cfg.eps_scale)),
        unit=str(getattr(data, "eps_unit", cfg.unit)),
        bounds=getattr(data, "bounds", cfg.bounds),
    )
    if not shard.whole:
        chosen = shard_indices(len(data), shard).tolist()
        records = run_noise(
            model, data.inputs, data.labels, cfg, progress=progress, indices=chosen,
            lengths=data.lengths,
        )
        config = {"run": str(run_dir), **asdict(cfg), "split": split, "dataset": dataset,
                  "total": len(data)}
        path = write_shard(
            out, "noise", shard, config={**config, "block": 1}, indices=chosen,
            payload={"records": [asdict(r) for r in records]},
        )
        return {"shard": str(shard), "inputs": len(chosen), "file": str(path)}
    records = run_noise(
        model, data.inputs, data.labels, cfg, progress=progress, lengths=data.lengths
    )
    summary = summarise(records, cfg, run=str(run_dir))
    write_noise(records, summary, cfg, out)
    return summary
