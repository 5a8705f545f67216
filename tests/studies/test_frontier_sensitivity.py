"""Checks on the frontier verdict: other matching windows, and λ picked without the seed that
scores it (synthetic rows with hand-computed answers; the paired test against scipy's)."""

from __future__ import annotations

import math

import pytest
from scipy.stats import ttest_1samp

from seqrobust.studies.frontier.sensitivity import (
    HeldOut,
    heldout_seed_diffs,
    paired_summary,
    window_comparisons,
)
from seqrobust.studies.frontier.table import FrontierRow, aggregate, compare


def _rows(method: str, lam: float, clean: list[float], robust: list[float]) -> list[FrontierRow]:
    return [
        FrontierRow(
            method=method, estimator="", lam=lam, seed=s, clean=c, pgd=((16.0, r),),
            worst=((16.0, r),), pgd_check=((16.0, r),), auc=r / 2, mean_r=1.0, median_r=1.0,
            mean_j=1.0, train_seconds=1.0, attack_seconds=1.0, n_pgd=10, n_check=10,
        )
        for s, (c, r) in enumerate(zip(clean, robust, strict=True))
    ]


PLAIN = _rows("plain", 0.0, [0.970] * 3, [0.25, 0.26, 0.27])
# Two matched Hessian points: λ=1e-2 is the best on all seeds (mean 0.7833 vs 0.7667), but
# held-out seeds 1 and 2 pick λ=1e-3 from the other two seeds (0.80 vs 0.775).
HESS = (_rows("hessian-fd", 1e-3, [0.965] * 3, [0.90, 0.70, 0.70])
        + _rows("hessian-fd", 1e-2, [0.965] * 3, [0.75, 0.80, 0.80]))
JAC = (_rows("jacobian", 1e-2, [0.966] * 3, [0.72, 0.74, 0.73])
       # 2 points below plain: never matched, however robust
       + _rows("jacobian", 1e-1, [0.950] * 3, [0.99] * 3))
# matched on seeds {1, 2} (mean 0.965) but not on {0, 2} or {0, 1} (0.9575)
CURE = _rows("cure", 1.0, [0.950, 0.965, 0.965], [0.60, 0.61, 0.62])
ROWS = PLAIN + HESS + JAC + CURE


def test_heldout_seed_picks_lambda_on_the_other_seeds():
    diffs = heldout_seed_diffs(ROWS, "hessian-fd", "jacobian", metric="robust", tol=0.01,
                               headline_eps=16.0)
    assert [(d.seed, d.reference_lam, d.other_lam) for d in diffs] == [
        (0, 1e-2, 1e-2), (1, 1e-3, 1e-2), (2, 1e-3, 1e-2)]
    assert [d.diff for d in diffs] == pytest.approx([0.75 - 0.72, 0.70 - 0.74, 0.70 - 0.73])
    # the in-sample rule picks λ=1e-2 for every seed instead
    points = aggregate(ROWS, headline_eps=16.0)
    assert compare(points, "hessian-fd", "jacobian").reference.lam == 1e-2
    # the curve area is a metric of its own (auc = robust / 2 here)
    auc = heldout_seed_diffs(ROWS, "hessian-fd", "jacobian", metric="auc", tol=0.01,
                             headline_eps=16.0)
    assert [d.diff for d in auc] == pytest.approx([d.diff / 2 for d in diffs])


def test_heldout_seed_leaves_out_seeds_without_a_matched_point():
    diffs = heldout_seed_diffs(ROWS, "hessian-fd", "cure", metric="robust", tol=0.01,
                               headline_eps=16.0)
    assert [(d.seed, d.diff) for d in diffs] == [(0, pytest.approx(0.75 - 0.60))]
    # a seed the picked point lacks is left out too
    partial = [r for r in ROWS if not (r.method == "jacobian" and r.seed == 2)]
    seeds = [d.seed for d in heldout_seed_diffs(partial, "hessian-fd", "jacobian",
                                                metric="robust", tol=0.01, headline_eps=16.0)]
    assert seeds == [0, 1]
    # plain itself is always its own point
    vs_plain = heldout_seed_diffs(ROWS, "hessian-fd", "plain", metric="robust", tol=0.01,
                                  headline_eps=16.0)
    assert [d.diff for d in vs_plain] == pytest.approx([0.75 - 0.25, 0.70 - 0.26, 0.70 - 0.27])


def _held(values: list[float]) -> list[HeldOut]:
    return [HeldOut(s, 1.0, 1.0, v) for s, v in enumerate(values)]


@pytest.mark.parametrize("values", [[0.03, -0.04, -0.03], [0.05, 0.06, 0.055], [-0.2, -0.1]])
def test_paired_summary_agrees_with_scipy_one_sample_t_test(values: list[float]):
    mean, se, threshold, outcome = paired_summary(_held(values))
    test = ttest_1samp(values, 0.0)
    assert mean == pytest.approx(sum(values) / len(values))
    assert mean / se == pytest.approx(test.statistic)
    decided = {"reference": test.pvalue < 0.05 and mean > 0,
               "other": test.pvalue < 0.05 and mean < 0, "not settled": test.pvalue >= 0.05}
    assert decided[outcome]
    # shifted so that the mean sits exactly on the threshold, the p-value is 5 %
    shifted = [v - mean + threshold for v in values]
    assert ttest_1samp(shifted, 0.0).pvalue == pytest.approx(0.05)


def test_paired_summary_undefined_cases():
    assert paired_summary([])[3] == "not settled" and math.isnan(paired_summary([])[0])
    mean, se, threshold, outcome = paired_summary(_held([0.1]))
    assert (mean, outcome) == (0.1, "not settled") and math.isnan(se) and math.isnan(threshold)
    # identical differences (one input of 500 each time) have no spread: no test
    mean, se, threshold, outcome = paired_summary(_held([-0.002, -0.002, -0.002]))
    assert outcome == "not settled" and math.isnan(threshold)


def test_window_comparisons_repeat_the_rule_per_window():
    points = aggregate(ROWS, headline_eps=16.0)
    (narrow, at_narrow), (wide, at_wide) = window_comparisons(
        points, "hessian-fd", ["plain", "jacobian"], metric="robust", tols=(0.01, 0.025))
    assert (narrow, wide) == (0.01, 0.025)
    assert at_narrow == [compare(points, "hessian-fd", o, tol=0.01)
                         for o in ("plain", "jacobian")]
    # at 2.5 points Jacobian's λ=1e-1 (0.99 robust, 2 points below plain) is matched and wins
    assert at_wide[1].other.lam == 1e-1 and at_wide[1].outcome == "other"
    assert at_narrow[1].other.lam == 1e-2


def test_checks_lines_show_both_checks():
    from dataclasses import replace

    from seqrobust.studies.frontier import FrontierConfig, Method
    from seqrobust.studies.frontier.report import checks_lines

    cfg = replace(FrontierConfig(), methods=(
        Method("plain"), Method("hessian-fd", "hessian", "fd", (1e-3, 1e-2)),
        Method("jacobian", "jacobian", "fd", (1e-2, 1e-1)), Method("cure", "cure", "fd", (1.0,))))
    text = "\n".join(checks_lines(ROWS, aggregate(ROWS, headline_eps=16.0), cfg, name="robust"))
    assert "| 2 | hessian-fd (λ=0.01) |" in text  # the 2-point window row
    assert ("| jacobian | s0: 0.01 / 0.01, s1: 0.001 / 0.01, s2: 0.001 / 0.01 "
            "| +3.0, -4.0, -3.0 |") in text
    assert "| cure | s0: 0.01 / 1 | +15.0 | +15.0 | – | not settled |" in text
