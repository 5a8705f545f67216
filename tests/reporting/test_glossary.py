"""Raw summaries read in words: every key labelled, a meaning where there is one, and JSON."""

from __future__ import annotations

from seqrobust.reporting.glossary import flatten, label, meaning, raw_section


def test_keys_in_words() -> None:
    assert label("bracket.lower_le_measured") == "lower bound ≤ measured distance"
    assert label("attacks.fmn.norm.q50") == "FMN, L2 distance, median"
    assert label("spearman_with_measured.v.rho") == \
        "rank correlation with the measured distance: top curvature λ_max(∇²(−F)), Spearman ρ"
    assert label("config.lanczos_iters") == "setting: lanczos iters"
    assert "quadratic model" in meaning("bracket.lower_le_measured_le_upper")


def test_raw_section_escapes_and_keeps_the_json() -> None:
    summary = {"inputs": 3, "bracket": {"lower_le_measured": 0.5}, "run": "<b>x</b>",
               "time_steps": {"mean_grad_norm": [0.1, 0.2]}}
    assert ("bracket.lower_le_measured", 0.5) in flatten(summary)
    html = raw_section("Geometry", summary)
    assert "inputs analysed" in html and "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x" not in html
    assert "<details><summary>Geometry as JSON</summary>" in html and "mean_grad_norm" in html
