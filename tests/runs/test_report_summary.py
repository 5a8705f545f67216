"""The headline numbers and trust badges computed from results: the worst case combined from
separate curves, the radii quoted, and every badge's pass, fail and n/a."""

from __future__ import annotations

import pytest

from seqrobust.measure.analyze import Analysis
from seqrobust.measure.bounds_table import COLUMNS
from seqrobust.measure.robustness import AttackSettings, RobustnessCurve
from seqrobust.measure.worst_case import WorstCase
from seqrobust.runs.report_summary import (
    ModelInfo,
    badges_of,
    headline_of,
    key_radii,
    worst_of,
)


def _curve(attack: str, eps: tuple[float, ...], first: tuple[int, ...]) -> RobustnessCurve:
    n = len(first)
    acc = tuple(sum(f > k for f in first) / n for k in range(len(eps)))
    return RobustnessCurve("m", AttackSettings(attack=attack), eps, acc,
                           sum(f >= 0 for f in first) / n, n, 0.0, first)


def _status(badges, label: str) -> str:
    return next(b.status for b in badges if b.label.startswith(label))


def test_worst_case_is_combined_on_the_common_first_inputs() -> None:
    pgd = _curve("pgd", (8.0, 16.0), (2, 2, 1, 0, -1, 2))
    square = _curve("square", (8.0, 16.0, 30.0), (1, 2, 2, 2))
    worst = worst_of([pgd, square])
    assert worst is not None and worst.eps == (8.0, 16.0) and worst.n == 4
    # inputs 0-3: robust at 8 iff both records > 0 -> inputs 0, 1, 2; at 16 -> input 1
    assert worst.accuracy == (0.75, 0.25)
    given = WorstCase((8.0,), (0.1,), (pgd,), pgd.unit)
    assert worst_of([pgd, square, given]) is given
    assert worst_of([pgd]) is None


def test_key_radii_prefer_the_posters() -> None:
    assert key_radii([float(e) for e in range(1, 31)], "pixel (0-255)") == [8.0, 16.0, 30.0]
    assert key_radii([0.05 * k for k in range(1, 11)], "training std") == \
        [0.1, 0.25, pytest.approx(0.5)]
    assert key_radii([1.0, 2.0, 3.0, 4.0, 5.0], "model units") == [1.0, 3.0, 5.0]
    assert key_radii([0.5], "model units") == [0.5]


def test_headline_quotes_pgd_the_worst_case_and_a_study_record() -> None:
    pgd = _curve("pgd", (8.0, 16.0, 30.0), (3, 3, 2, 1, 0))
    head = headline_of([pgd], ModelInfo(regulariser="none", worst=((16.0, 0.2),), worst_n=3,
                                        worst_attacks=("pgd", "square")))
    at = {r.eps: r for r in head.robust}
    assert at[16.0].pgd == pytest.approx(0.6) and at[16.0].worst == 0.2
    assert at[16.0].worst_n == 3 and at[16.0].attacks == ("PGD (L∞)", "Square (black-box)")
    assert at[8.0].worst is None and head.clean == pytest.approx(1.0) and head.clean_n == 5
    assert head.regulariser == "none (plain training)"


def test_attack_badges() -> None:
    pgd = _curve("pgd", (8.0, 30.0), (2, 2, 2, 1, 0, 0, 0, 0, 0, 0))
    weak_apgd = _curve("apgd-ce", (8.0, 30.0), (2, 2, 2, 1, 0, 0, 0, 0, 0, 0))
    strong_apgd = _curve("apgd-ce", (8.0, 30.0), (0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
    masked = _curve("square", (8.0, 30.0), (0, 0, 0, 0, 0))
    plain = ModelInfo(regulariser="none")
    ok = badges_of([pgd, weak_apgd], plain)
    assert _status(ok, "PGD near APGD") == "pass"
    assert _status(ok, "no gradient masking") == "n/a"
    assert _status(ok, "plain model broken at ε = 30") == "fail"  # 30 % at ε = 30
    bad = badges_of([pgd, strong_apgd, masked], ModelInfo(regulariser="hessian"))
    assert _status(bad, "PGD near APGD") == "fail"
    assert _status(bad, "no gradient masking") == "fail"
    assert _status(bad, "plain model broken at ε = 30") == "n/a"
    assert "Square (black-box)" in next(b.reason for b in bad if b.label.startswith("no grad"))
    none = badges_of([], ModelInfo())
    assert {b.status for b in none} == {"n/a"}


def _analysis(residuals: list[float]) -> Analysis:
    rows = []
    for i, r in enumerate(residuals):
        row = dict.fromkeys(COLUMNS, 1.0)
        row.update(index=i, lanczos_rel_residual=r, correct=True)
        rows.append([row[c] for c in COLUMNS])
    return Analysis(rows, [], 1, "model units", {"inputs": len(rows)})


def test_residual_and_padding_badges() -> None:
    small = badges_of([_analysis([0.01, 0.05])], ModelInfo(padding="fed", padding_reason="x"))
    assert _status(small, "Lanczos residuals small") == "pass"
    assert _status(small, "padding semantics") == "pass"
    large = badges_of([_analysis([0.01, 0.5])], ModelInfo(padding="refused", padding_reason="y"))
    assert _status(large, "Lanczos residuals small") == "fail"
    assert _status(large, "padding semantics") == "fail"
    assert _status(badges_of([], ModelInfo(padding="fixed")), "padding semantics") == "n/a"
