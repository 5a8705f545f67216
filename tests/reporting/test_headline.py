"""The headline block and the comparison table: units and n on every figure, human headers."""

from __future__ import annotations

import re

from seqrobust.reporting.badges import Badge, tally
from seqrobust.reporting.headline import (
    Headline,
    RobustAt,
    comparison_html,
    headline_html,
    in_other_unit,
    unit_name,
)

HEAD = Headline(
    clean=0.98, clean_n=100, eps_unit="pixel (0-255)",
    robust=(RobustAt(8.0, 0.5, 100, "PGD (L∞)", 0.4, 50, ("PGD (L∞)", "Square (black-box)")),),
    distance=(0.2, 0.3, 0.4), distance_unit="model units (= 255 x pixel (0-255))",
    distance_n=20, bracket=0.6, lower_ok=0.9, bracket_n=20, curvature=1.5, curvature_n=20,
    regulariser="Hessian penalty", lam=0.01, cost_seconds=90.0, cost_detail=", 3 epochs",
)


def test_every_figure_carries_its_unit_and_n() -> None:
    html = headline_html(HEAD)
    assert "98.00 %" in html and "n=100 test inputs" in html
    assert "robust accuracy at ε = 8 pixels (0–255)" in html
    assert "50.0 %" in html and "40.0 %" in html and "n=50" in html
    assert "Square (black-box)" in html
    assert "0.3</b> model units" in html and "= 76.5 pixels (0–255)" in html
    assert "bracket the measured distance for <b>60.0 %</b>" in html
    assert "lower ≤ measured: 90.0 %" in html and "λ = 0.01" in html
    assert "90.0 s of training, 3 epochs" in html
    assert 'data-key="robust" data-eps="8.0" data-pgd="0.5" data-worst="0.4"' in html


def test_missing_numbers_are_said() -> None:
    html = headline_html(Headline())
    assert "no attack ran" in html and "not measured (no geometry analysis)" in html


def test_comparison_headers_are_words() -> None:
    badges = [Badge("x", "fail", "y")]
    html = comparison_html([("a", HEAD, tally(badges)), ("b", Headline(), tally([]))], [8.0])
    headers = re.findall(r"<th>(.*?)</th>", html)
    assert "PGD, ε = 8" in headers and "worst case, ε = 8" in headers
    assert "Robust accuracy at ε in pixels (0–255)" in html
    assert all("_" not in h for h in headers)
    assert html.count("<tr data-model=") == 2 and 'data-failed="1"' in html
    own = comparison_html([("a", HEAD, tally([]))], [])
    assert "own radii" in own and "ε = 8 pixels (0–255): 50.0 % / 40.0 %" in own


def test_units() -> None:
    assert unit_name("pixel (0-255)") == "pixels (0–255)" and unit_name("training std") == \
        "training std"
    assert in_other_unit(1.0, "training std") == ""
