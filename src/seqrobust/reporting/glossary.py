"""Human labels and one-line meanings for the raw summaries (``summary.json`` of ``seqrobust
analyze``, ``noise.json``, curves, curvature), so the raw numbers at the end of a report read
without the source code."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from seqrobust.reporting.html import Markup, esc, json_block, table

_PARTS = {
    "inputs": "inputs analysed", "requested": "inputs requested", "accuracy": "clean accuracy",
    "attacked": "inputs where an attack found an adversarial",
    "lower_le_measured": "lower bound ≤ measured distance",
    "measured_le_upper": "measured distance ≤ upper bound",
    "measured_le_best": "measured distance ≤ best witness",
    "lower_le_measured_le_upper": "bounds bracket the measured distance",
    "runner_up_lower_le_measured": "runner-up-only lower bound ≤ measured",
    "upper_infinite": "upper bound infinite",
    "lower_over_measured": "lower bound ÷ measured", "measured_over_upper": "measured ÷ upper",
    "measured_over_best": "measured ÷ best witness",
    "lower_runner_up_over_measured": "runner-up lower bound ÷ measured",
    "linear_estimate_over_measured": "linear estimate t/|J| ÷ measured",
    "v": "top curvature λ_max(∇²(−F))", "j_norm": "gradient norm |J|", "t": "margin t",
    "t_over_j_norm": "linear estimate t/|J|", "lower": "lower bound", "best": "best witness",
    "fraction_v_positive": "fraction with positive top curvature",
    "lanczos_rel_residual_max": "largest relative Lanczos residual",
    "witness_flips_network": "witness perturbation flips the network",
    "deepfool": "DeepFool", "deepfool_refined": "DeepFool (refined)", "fmn": "FMN",
    "measured": "measured (best of DeepFool and FMN)", "success": "success rate",
    "norm": "L2 distance", "fmn_better_than_deepfool": "FMN shorter than DeepFool",
    "rho": "Spearman ρ", "p": "p-value", "n": "n", "q5": "5th percentile",
    "q25": "25th percentile", "q50": "median", "q75": "75th percentile", "q95": "95th percentile",
    "inputs_with_curvature": "inputs with per-step curvature", "dataset": "dataset",
    "unit": "unit", "seconds_this_call": "seconds (last call)", "d": "input dimension d",
    "sqrt_d": "√d", "n_inputs": "inputs", "samples": "random directions per input",
    "eps_scale": "model units per unit", "inputs_reaching_half": "inputs whose flip "
    "probability reaches ½", "radius_ratio_half_over_linear_median": "median radius of ½ flip "
    "probability ÷ linear distance", "radius_ratio_half_over_r_star_median": "median radius of ½ "
    "flip probability ÷ quadratic distance r*", "radius_ratio_bound_half_over_linear_median":
    "median radius where the bound reaches ½ ÷ linear distance", "r_linear": "linear distance "
    "t/|J|", "r_lower": "lower bound (E2)", "r_star": "quadratic model's exact distance r*",
    "jnorm": "gradient norm |J|", "lam_min": "smallest Hessian eigenvalue",
    "lam_max": "largest Hessian eigenvalue", "mean_curvature": "mean curvature",
    "mean_R": "mean R = Σ‖∇²f_k‖_F²", "se_R": "standard error of R", "median_R": "median R",
    "mean_J": "mean |J|", "se_J": "standard error of |J|", "method": "method",
    "clean_accuracy": "clean accuracy", "seconds": "seconds", "label": "label",
}
_SECTIONS = {
    "bracket": "", "median_ratio": "median ", "ratio_quantiles": "", "curvature": "",
    "spearman_with_measured": "rank correlation with the measured distance: ",
    "attacks": "", "time_steps": "", "median": "median ", "config": "setting: ",
    "provenance": "provenance: ", "settings": "attack setting: ",
}
_MEANING = {
    "bracket": "Theorem 1 predicts it whenever the input's quadratic model is accurate at that "
    "radius; the box [0, 1] only constrains the attacks",
    "lower_le_measured": "the lower bound uses the Lanczos value plus its residual, so it holds "
    "whenever the quadratic model does",
    "median_ratio": "1 is a tight bound; ratios use inputs where an attack succeeded",
    "ratio_quantiles": "spread over inputs of how tight the bound is",
    "spearman_with_measured": "does the quantity order inputs like their measured distance?",
    "curvature": "curvature of −F toward the runner-up class, by Lanczos",
    "lanczos_rel_residual_max": "small means the Lanczos eigenvalue is converged",
    "attacks": "minimal-perturbation attacks; 'measured' is the smaller of the two",
    "accuracy": "on the analysed inputs",
    "witness_flips_network": "the bound's own perturbation fools the real network",
    "time_steps": "per-time-step sensitivity, mean over inputs",
    "median": "median over inputs of the per-input quantity",
    "inputs_reaching_half": "random noise changes the prediction with probability ½ within "
    "the radii tried", "sqrt_d": "random noise needs about √d times the adversarial radius",
    "mean_R": "the quantity the Hessian regulariser penalises",
}


def flatten(summary: Mapping[str, Any], prefix: str = "") -> list[tuple[str, object]]:
    """Scalar leaves of a nested summary as ``("a.b.c", value)`` (lists are left to the JSON)."""
    rows: list[tuple[str, object]] = []
    for key, value in summary.items():
        if isinstance(value, Mapping):
            rows += flatten(value, f"{prefix}{key}.")
        elif isinstance(value, int | float | str | bool) or value is None:
            rows.append((prefix + str(key), value))
    return rows


def label(key: str) -> str:
    """A dotted summary key in words (``"bracket.lower_le_measured"`` → ``"lower bound ≤
    measured distance"``)."""
    parts = key.split(".")
    head = _SECTIONS.get(parts[0], None) if len(parts) > 1 else None
    words = [_PARTS.get(p, p.replace("_", " ")) for p in (parts[1:] if head is not None else parts)]
    return (head or "") + ", ".join(words)


def meaning(key: str) -> str:
    """The glossary line of a dotted key (most specific match), or empty."""
    parts = key.split(".")
    for p in reversed(parts):
        if p in _MEANING:
            return _MEANING[p]
    return ""


def raw_section(title: str, summary: Mapping[str, Any]) -> Markup:
    """A table of every scalar in ``summary`` with human labels and meanings, and the whole
    summary as JSON."""
    rows = [(label(k), v, meaning(k)) for k, v in flatten(summary)]
    return Markup(f"<h4>{esc(title)}</h4>" + table(["quantity", "value", "meaning"], rows)
                  + json_block(f"{title} as JSON", summary))


__all__ = ["flatten", "label", "meaning", "raw_section"]
