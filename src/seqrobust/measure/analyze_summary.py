"""Summary statistics and figures of ``seqrobust analyze`` (see :mod:`.analyze`)."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
SHORTER_RTOL = 1e-4
"""FMN counts as shorter than DeepFool only by more than this relative amount: the two often
end on the same float32 point, and a last-bit difference (another CPU's kernels) is no win."""


def read_table(path: Path) -> dict[str, FloatArray]:
    """A CSV written by the analysis as float columns (see :func:`parse_table`)."""
    with open(path, newline="") as fh:
        return parse_table(fh.read())


def parse_table(text: str) -> dict[str, FloatArray]:
    """CSV text of the analysis as float columns (``True``/``False`` become 1/0), rows in
    ``index`` order."""
    rows = list(csv.DictReader(io.StringIO(text)))
    if not rows:
        return {}

    def num(value: str) -> float:
        if value in ("True", "False"):
            return float(value == "True")
        return float(value) if value else math.nan

    table = {key: np.array([num(r[key]) for r in rows]) for key in rows[0]}
    order = np.argsort(table["index"], kind="stable")
    return {key: col[order] for key, col in table.items()}


def _quantiles(values: FloatArray) -> dict[str, float] | None:
    values = values[np.isfinite(values)]
    if values.size == 0:
        return None
    return {f"q{int(100 * q)}": float(np.quantile(values, q)) for q in _QUANTILES}


def _spearman(a: FloatArray, b: FloatArray) -> dict[str, float] | None:
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3 or np.ptp(a[ok]) == 0 or np.ptp(b[ok]) == 0:
        return None
    from scipy.stats import spearmanr  # scipy.stats: about a second at import

    res = spearmanr(a[ok], b[ok])
    return {"rho": float(res.statistic), "p": float(res.pvalue), "n": int(ok.sum())}


def _column_means(values: FloatArray) -> list[float | None]:
    """Mean over inputs of each time step, ignoring NaN (padded or unprofiled steps); ``None``
    for a step with no value."""
    ok = np.isfinite(values)
    count = ok.sum(axis=0)
    total = np.where(ok, values, 0.0).sum(axis=0)
    return [round(float(t / c), 6) if c else None for t, c in zip(total, count, strict=True)]


def _fraction(mask: NDArray[Any]) -> float | None:
    return float(mask.mean()) if mask.size else None


def summarize(
    rows_path: Path, profile_path: Path | None = None, *, n: int | None = None
) -> dict[str, Any]:
    """:func:`summarize_tables` of the CSV files of ``seqrobust analyze``."""
    prof = (read_table(profile_path) if profile_path is not None and profile_path.exists()
            else None)
    return summarize_tables(read_table(rows_path), prof, n=n)


def summarize_tables(
    tab: dict[str, FloatArray], prof: dict[str, FloatArray] | None = None, *,
    n: int | None = None,
) -> dict[str, Any]:
    """Fractions bracketed, ratio quantiles, Spearman correlations and attack statistics.

    Ratios and fractions are taken over inputs where the attacks found an adversarial
    (``measured`` finite); ``lower ≤ measured`` is what Theorem 1 predicts when the quadratic
    model is accurate at that radius, ``measured ≤ upper`` likewise (the box ``[0, 1]`` only
    constrains the attacks, so it can make ``measured`` exceed the unconstrained ``upper``).
    """
    if not tab:
        return {"inputs": 0}
    meas = tab["measured"]
    hit = np.isfinite(meas)
    m = meas[hit]
    lower, upper, best = tab["lower"][hit], tab["upper"][hit], tab["best"][hit]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = {
            "lower_over_measured": _quantiles(lower / m),
            "measured_over_upper": _quantiles(m / upper),
            "measured_over_best": _quantiles(m / best),
            "lower_runner_up_over_measured": _quantiles(tab["lower_runner_up"][hit] / m),
            "linear_estimate_over_measured": _quantiles((tab["t"] / tab["j_norm"])[hit] / m),
        }
    fmn_better = tab["fmn"] < tab["deepfool_refined"] * (1 - SHORTER_RTOL)
    summary: dict[str, Any] = {
        "inputs": int(meas.size),
        "requested": n,
        "accuracy": _fraction(tab["correct"]),
        "attacked": int(hit.sum()),
        "bracket": {
            "lower_le_measured": _fraction(lower <= m),
            "measured_le_upper": _fraction(m <= upper),
            "measured_le_best": _fraction(m <= best),
            "lower_le_measured_le_upper": _fraction((lower <= m) & (m <= upper)),
            "runner_up_lower_le_measured": _fraction(tab["lower_runner_up"][hit] <= m),
            "upper_infinite": _fraction(~np.isfinite(upper)),
        },
        "median_ratio": {k: (v["q50"] if v else None) for k, v in ratios.items()},
        "ratio_quantiles": ratios,
        "spearman_with_measured": {
            "v": _spearman(tab["v"], meas),
            "j_norm": _spearman(tab["j_norm"], meas),
            "t": _spearman(tab["t"], meas),
            "t_over_j_norm": _spearman(tab["t"] / tab["j_norm"], meas),
            "lower": _spearman(tab["lower"], meas),
            "best": _spearman(tab["best"], meas),
        },
        "curvature": {
            "v": _quantiles(tab["v"]),
            "fraction_v_positive": _fraction(tab["v"] > 0),
            "lanczos_rel_residual_max": float(np.nanmax(tab["lanczos_rel_residual"])),
        },
        "witness_flips_network": _fraction(tab["witness_flips"][np.isfinite(tab["best"])]),
        "attacks": {
            name: {
                "success": _fraction(np.isfinite(tab[name])),
                "norm": _quantiles(tab[name]),
            }
            for name in ("deepfool", "deepfool_refined", "fmn", "measured")
        },
        "fmn_better_than_deepfool": _fraction(fmn_better[hit]),
    }
    if prof:
        grad = np.stack([v for k, v in prof.items() if k.startswith("grad_")], axis=1)
        curv = np.stack([v for k, v in prof.items() if k.startswith("curv_")], axis=1)
        summary["time_steps"] = {
            "mean_grad_norm": _column_means(grad),
            "mean_block_curvature": _column_means(curv) if np.isfinite(curv).any() else None,
            "inputs_with_curvature": int(np.isfinite(curv).any(axis=1).sum()),
        }
    return summary


