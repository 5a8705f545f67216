"""The frontier study's pure rules: worst case over attacks, curve area, seed statistics and the
matched-accuracy verdict, on synthetic numbers."""

from __future__ import annotations

import math
import statistics
from dataclasses import replace

import pytest
import torch
from scipy.stats import t as student_t

from seqrobust.measure.robustness import AttackSettings, RobustnessCurve
from seqrobust.measure.worst_case import curve_area, survivors, worst_case_accuracy
from seqrobust.studies.frontier import FrontierConfig, Method
from seqrobust.studies.frontier.report import coverage_lines, verdict_lines
from seqrobust.studies.frontier.table import (
    FrontierRow,
    Stat,
    aggregate,
    best_matched,
    claim_status,
    compare,
    mean_se,
    welch_threshold,
)


def _curve(attack: str, eps: tuple[float, ...], first: list[int]) -> RobustnessCurve:
    acc = tuple(sum(f > k for f in first) / len(first) for k in range(len(eps)))
    return RobustnessCurve(
        label="m", settings=AttackSettings(attack=attack), eps=eps, accuracy=acc,
        clean_accuracy=sum(f >= 0 for f in first) / len(first), n=len(first), seconds=0.0,
        first_fooled=tuple(first),
    )


def test_worst_case_counts_an_input_only_if_every_attack_fails():
    # PGD on 5 inputs at eps (4, 8, 16); APGD on the same inputs at (8, 16); input 2 is wrong
    # when clean (-1), input 0 is never fooled by either.
    pgd = _curve("pgd", (4.0, 8.0, 16.0), [3, 2, -1, 1, 3])
    apgd = _curve("apgd-ce", (8.0, 16.0), [2, 1, -1, 2, 0])
    # eps 8: PGD survivors {0,1,4}, APGD survivors {0,1,3} -> {0,1}
    assert worst_case_accuracy([pgd, apgd], 8.0) == pytest.approx(2 / 5)
    # eps 16: PGD {0,4}, APGD {0,3} -> {0}
    assert worst_case_accuracy([pgd, apgd], 16.0) == pytest.approx(1 / 5)
    assert worst_case_accuracy([pgd], 16.0) == pytest.approx(pgd.at(16.0))
    # a check attack on the first 3 inputs restricts the count to them
    square = _curve("square", (8.0, 16.0), [2, 0, -1])
    assert worst_case_accuracy([pgd, apgd, square], 8.0) == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="no ε = 4"):
        worst_case_accuracy([pgd, apgd], 4.0)
    with pytest.raises(ValueError, match="per-input record"):
        worst_case_accuracy([pgd, replace(apgd, first_fooled=())], 8.0)
    with pytest.raises(ValueError, match="at least one"):
        worst_case_accuracy([], 8.0)


def test_survivors_matches_a_loop_and_never_exceeds_any_attack():
    gen = torch.Generator().manual_seed(3)
    first = torch.randint(-1, 5, (4, 200), generator=gen)
    index = torch.tensor([0, 3, 1, 2])
    mask = survivors(first, index)
    expected = [all(int(first[a, i]) > int(index[a]) for a in range(4)) for i in range(200)]
    assert mask.tolist() == expected
    for a in range(4):
        assert mask.double().mean() <= (first[a] > index[a]).double().mean()
    with pytest.raises(ValueError, match="expected first_fooled"):
        survivors(first, index[:2])


def test_curve_area_closed_forms():
    c = RobustnessCurve(label="m", settings=AttackSettings(), eps=(10.0, 20.0),
                        accuracy=(0.5, 0.0), clean_accuracy=1.0, n=1, seconds=0.0)
    assert curve_area(c) == pytest.approx((10 * 1.5 / 2 + 10 * 0.5 / 2) / 20)
    flat = replace(c, accuracy=(0.7, 0.7), clean_accuracy=0.7)
    assert curve_area(flat) == pytest.approx(0.7)


def test_welch_threshold_edge_cases():
    a, b = Stat(0.5, 0.01, 3), Stat(0.4, 0.02, 5)
    va, vb = 0.01**2, 0.02**2
    df = (va + vb) ** 2 / (va**2 / 2 + vb**2 / 4)
    assert welch_threshold(a, b) == pytest.approx(student_t.ppf(0.975, df) * math.sqrt(va + vb))
    assert welch_threshold(a, b, confidence=0.9) < welch_threshold(a, b)
    assert math.isnan(welch_threshold(a, Stat(0.4, math.nan, 1)))
    assert welch_threshold(Stat(0.5, 0.0, 3), Stat(0.4, 0.0, 3)) == 0.0


def test_mean_se_matches_statistics():
    vals = [0.3, 0.5, 0.55, 0.61]
    s = mean_se(vals)
    assert s.mean == pytest.approx(statistics.mean(vals))
    assert s.se == pytest.approx(statistics.stdev(vals) / 2)
    one = mean_se([0.4])
    assert one.mean == 0.4 and math.isnan(one.se) and one.n == 1


def _rows(method: str, lam: float, clean: list[float], robust: list[float]) -> list[FrontierRow]:
    return [
        FrontierRow(
            method=method, estimator="", lam=lam, seed=s, clean=c, pgd=((16.0, r + 0.05),),
            worst=((16.0, r),), pgd_check=((16.0, r + 0.05),), auc=r / 2, mean_r=1.0,
            median_r=1.0, mean_j=1.0, train_seconds=1.0, attack_seconds=1.0, n_pgd=10,
            n_check=10,
        )
        for s, (c, r) in enumerate(zip(clean, robust, strict=True))
    ]


PLAIN = _rows("plain", 0.0, [0.970, 0.971, 0.969], [0.25, 0.27, 0.26])
HESS = (_rows("hessian-fd", 1e-3, [0.968, 0.966, 0.967], [0.80, 0.82, 0.81])
        # more robust but 7 points less accurate: must not be chosen
        + _rows("hessian-fd", 1e-1, [0.90, 0.91, 0.90], [0.95, 0.96, 0.95]))


def test_verdict_settled_in_favour_of_the_reference():
    jac = _rows("jacobian", 1e-2, [0.965, 0.966, 0.964], [0.60, 0.62, 0.61])
    points = aggregate(PLAIN + HESS + jac, headline_eps=16.0)
    best = best_matched(points, "hessian-fd", plain_clean=0.970, tol=0.01, metric="robust")
    assert best is not None and best.lam == 1e-3
    assert best.robust.mean == pytest.approx(0.81)  # the worst case, not PGD's 0.86
    c = compare(points, "hessian-fd", "jacobian")
    h, j = [0.80, 0.82, 0.81], [0.60, 0.62, 0.61]
    assert c.diff == pytest.approx(statistics.mean(h) - statistics.mean(j))
    se = math.sqrt(statistics.variance(h) / 3 + statistics.variance(j) / 3)
    assert c.se == pytest.approx(se)
    # equal variances and 3 seeds a side: Welch has 4 degrees of freedom
    assert c.threshold == pytest.approx(student_t.ppf(0.975, 4) * se)
    assert c.outcome == "reference"
    comps = [compare(points, "hessian-fd", b) for b in ("plain", "jacobian")]
    assert claim_status(comps) == "supported"
    cfg = replace(FrontierConfig(), methods=(
        Method("plain"), Method("hessian-fd", "hessian", "fd", (1e-3, 1e-1)),
        Method("jacobian", "jacobian", "fd", (1e-2,))))
    text = "\n".join(verdict_lines(points, cfg, metric="robust", name="robust"))
    assert text.startswith("**Verdict on robust: supported.**") and "λ=0.001" in text


def test_coverage_gain_at_the_smallest_lam_carries_its_standard_error():
    points = aggregate(PLAIN + HESS, headline_eps=16.0)
    (row,) = [line for line in coverage_lines(points) if line.startswith("| hessian-fd |")]
    h, p = [0.80, 0.82, 0.81], [0.25, 0.27, 0.26]
    gain = statistics.mean(h) - statistics.mean(p)
    se = math.sqrt(statistics.variance(h) / 3 + statistics.variance(p) / 3)
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1] == "0.001 … 0.1"
    assert cells[2] == f"{100 * gain:+.1f} ± {100 * se:.1f}"
    # clean cost at the largest λ: plain 97.0 % - 90.33 % = 6.67 points, past 3
    assert cells[4] == f"{100 * (0.970 - statistics.mean([0.90, 0.91, 0.90])):+.2f}"
    assert cells[5] == "yes"


def test_verdict_not_settled_or_contradicted():
    noisy = _rows("jacobian", 1e-2, [0.965, 0.966, 0.964], [0.70, 0.85, 0.95])
    points = aggregate(PLAIN + HESS + noisy, headline_eps=16.0)
    c = compare(points, "hessian-fd", "jacobian")
    assert abs(c.diff) <= 2 * c.se and c.outcome == "not settled"
    assert claim_status([compare(points, "hessian-fd", b) for b in ("plain", "jacobian")]) == (
        "not settled")
    strong = _rows("jacobian", 1e-2, [0.965, 0.966, 0.964], [0.90, 0.91, 0.92])
    points = aggregate(PLAIN + HESS + strong, headline_eps=16.0)
    comps = [compare(points, "hessian-fd", b) for b in ("plain", "jacobian")]
    assert [c.outcome for c in comps] == ["reference", "other"]
    assert claim_status(comps) == "contradicted"
    # outside the 1-point window: no matched point, so nothing is decided
    far = _rows("jacobian", 1e-2, [0.90, 0.91, 0.90], [0.99, 0.99, 0.99])
    c = compare(aggregate(PLAIN + HESS + far, headline_eps=16.0), "hessian-fd", "jacobian")
    assert c.outcome == "no matched point" and c.other is None
    # 2 seeds a side: 4.5 standard errors apart is still not settled (Welch df ≈ 1.5)
    two = aggregate(_rows("plain", 0.0, [0.97, 0.97], [0.2, 0.2])
                    + _rows("hessian-fd", 1e-3, [0.97, 0.97], [0.80, 0.82])
                    + _rows("jacobian", 1e-2, [0.97, 0.97], [0.70, 0.74]), headline_eps=16.0)
    c = compare(two, "hessian-fd", "jacobian")
    assert c.diff > 4 * c.se and c.outcome == "not settled"
    # one seed: no uncertainty, never settled
    single = aggregate([PLAIN[0], HESS[0]], headline_eps=16.0)
    assert compare(single, "hessian-fd", "plain").outcome == "not settled"
    with pytest.raises(ValueError, match="plain"):
        compare(aggregate(HESS, headline_eps=16.0), "hessian-fd", "plain")


def test_config_rejects_inconsistent_settings():
    with pytest.raises(ValueError, match="'plain' method"):
        FrontierConfig(methods=(Method("hessian-fd", "hessian", "fd", (1e-3,)),))
    with pytest.raises(ValueError, match="unknown method 'jacobian'"):
        FrontierConfig(methods=(Method("plain"), Method("hessian-fd", "hessian", "fd", (1.0,))))
    with pytest.raises(ValueError, match="ε 16 is not on the PGD eps grid"):
        FrontierConfig(eps=(8.0,))
    with pytest.raises(ValueError, match="ε 8 is not on the PGD eps grid"):
        FrontierConfig(eps=(16.0,))
    quick = FrontierConfig.quick()
    assert len(quick.models()) == 2 * (1 + 5 * 3)
    assert all(len(m.lams) >= 5 for m in FrontierConfig().methods if m.reg != "none")


def test_a_record_written_before_units_and_val_fraction_keeps_its_recipe():
    from seqrobust.studies.records import train_key as _train_key
    from seqrobust.training import TrainConfig

    tcfg = TrainConfig(dataset="mnist-subset", hidden=8, device="cpu")
    old = {k: v for k, v in tcfg.to_json().items() if k not in ("units", "val_fraction")}
    assert _train_key(old) == _train_key(tcfg)
    assert _train_key(old) != _train_key(replace(tcfg, val_fraction=0.25))
