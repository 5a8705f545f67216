"""The architecture study's pure parts: the λ rule, rank correlations with bootstrap
intervals, seed aggregation and the record format."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from arch_cases import arch_row as _row
from scipy.stats import rankdata, spearmanr

from seqrobust.studies.architectures import ArchitecturesConfig, DataPlan
from seqrobust.studies.architectures.evaluate import ArchRow, quartiles
from seqrobust.studies.architectures.report import dataset_table, measure_lines, write_report
from seqrobust.studies.architectures.select import choose_lam, scan_lams
from seqrobust.studies.architectures.table import (
    MIN_CONFIGS,
    aggregate,
    comparable,
    curvature_correlations,
    lead,
    rank_correlation,
    ranked,
    split_correlations,
)
from seqrobust.studies.records import row_from_json, row_to_json


def test_choose_lam_takes_the_largest_within_tolerance() -> None:
    cands = {1e-3: 0.90, 1e-2: 0.895, 1e-1: 0.85, 1.0: 0.905}
    assert choose_lam(0.90, cands, tolerance=0.01) == (1.0, True)
    assert choose_lam(0.90, {1e-3: 0.90, 1e-2: 0.895, 1e-1: 0.85}, tolerance=0.01) == (1e-2, True)
    assert choose_lam(0.90, {1e-3: 0.90, 1e-2: 0.895}, tolerance=0.0) == (1e-3, True)
    # every λ costs more than the tolerance: the smallest, flagged
    assert choose_lam(0.95, {1e-2: 0.80, 1e-3: 0.85}, tolerance=0.01) == (1e-3, False)
    # exactly at the tolerance (a float sum) counts as within
    assert choose_lam(0.3, {0.5: 0.29}, tolerance=0.01) == (0.5, True)


def test_scan_lams_validates_only_what_the_rule_needs() -> None:
    rng = np.random.default_rng(0)
    grid = (1e-3, 1e-2, 1e-1, 1.0)
    for _ in range(300):
        plain = float(rng.choice([0.8, 0.9, 1.0]))
        full = {lam: float(rng.choice([0.7, 0.8, 0.85, 0.89, 0.9, 0.95, 1.0])) for lam in grid}
        asked: list[float] = []

        def validate(lam: float, full: dict[float, float] = full,
                     asked: list[float] = asked) -> float:
            asked.append(lam)
            return full[lam]

        found = scan_lams(plain, grid, validate, tolerance=0.01)
        assert choose_lam(plain, found, tolerance=0.01) == choose_lam(plain, full,
                                                                       tolerance=0.01)
        assert asked == sorted(found, reverse=True) and len(set(asked)) == len(asked)
        lam, within = choose_lam(plain, full, tolerance=0.01)
        # down to the chosen λ when one passes, the whole grid when none does
        assert asked == ([g for g in sorted(grid, reverse=True) if g >= lam] if within
                         else sorted(grid, reverse=True))


@pytest.mark.parametrize("args, match", [
    ((0.9, {}, 0.01), "at least one"),
    ((0.9, {0.1: 0.8}, -0.1), "tolerance"),
    ((math.nan, {0.1: 0.8}, 0.01), "finite"),
])
def test_choose_lam_rejects(args: tuple, match: str) -> None:
    plain, cands, tol = args
    with pytest.raises(ValueError, match=match):
        choose_lam(plain, cands, tolerance=tol)


def test_rank_correlation_matches_scipy_and_brackets_it() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=40)
    y = -0.7 * x + rng.normal(scale=0.7, size=40)
    c = rank_correlation(x, y, reps=500)
    assert c.rho == pytest.approx(spearmanr(x, y).statistic, abs=1e-12)
    assert c.low <= c.rho <= c.high and c.high < 0 and c.outcome == "supported"
    assert rank_correlation(x, -y, reps=200).outcome == "contradicted"
    perfect = rank_correlation([1, 2, 3, 4, 5], [5, 4, 3, 2, 1], reps=200)
    assert (perfect.rho, perfect.n) == (pytest.approx(-1.0), 5)
    v_shape = rank_correlation(range(20), [abs(i - 9.5) for i in range(20)], reps=500)
    assert v_shape.rho == pytest.approx(0.0, abs=1e-12)  # no monotone trend at all
    assert v_shape.low < 0 < v_shape.high and v_shape.outcome == "not settled"
    short = rank_correlation([1.0, 2.0, math.nan], [1.0, 2.0, 3.0])
    assert math.isnan(short.rho) and short.n == 2 and short.outcome == "not settled"


def test_grouped_rank_correlation_ranks_within_groups() -> None:
    # within each group y falls with x, but group b sits far higher on both axes: pooled raw
    # values would correlate positively, within-group ranks negatively
    x = [1, 2, 3, 4, 100, 200, 300, 400]
    y = [0.4, 0.3, 0.2, 0.1, 0.9, 0.8, 0.7, 0.6]
    groups = ["a"] * 4 + ["b"] * 4
    assert spearmanr(x, y).statistic > 0
    c = rank_correlation(x, y, groups=groups, reps=300)
    assert c.rho == pytest.approx(-1.0) and c.outcome == "supported"


def test_bootstrap_interval_matches_scipy_on_each_resample() -> None:
    # the percentile interval, recomputed one resample at a time with scipy's spearmanr on
    # the within-group ranks, from the same random stream (ties and a constant resample too)
    rng = np.random.default_rng(3)
    x = np.round(rng.normal(size=15), 1)
    y = np.round(x + rng.normal(size=15), 1)
    groups = ["a"] * 6 + ["b"] * 9
    c = rank_correlation(x, y, groups=groups, reps=400, seed=5)
    members = [np.arange(6), np.arange(6, 15)]
    stream, boots = np.random.default_rng(5), []
    for _ in range(400):
        take = [stream.choice(m, size=m.size) for m in members]
        rx = np.concatenate([rankdata(x[t]) / t.size for t in take])
        ry = np.concatenate([rankdata(y[t]) / t.size for t in take])
        if np.ptp(rx) > 0 and np.ptp(ry) > 0:
            boots.append(spearmanr(rx, ry).statistic)
    assert (c.low, c.high) == pytest.approx(tuple(np.quantile(boots, (0.025, 0.975))), abs=1e-12)


def test_row_round_trips_through_json_with_nan() -> None:
    row = _row()
    data = row_to_json(row)
    assert data["r"] == [1.0, 2.0, None] and data["pgd"] == [[0.05, 0.6], [0.1, 0.25]]
    back = row_from_json(ArchRow, data)
    assert back.pgd == row.pgd and math.isnan(back.r[2]) and back.at(0.1) == 0.25
    with pytest.raises(ValueError, match="missing"):
        row_from_json(ArchRow, {k: v for k, v in data.items() if k != "bim"})


def test_aggregate_means_and_standard_errors_over_seeds() -> None:
    rows = [_row(seed=s, worst=w, r=(0.0, m, 0.0)) for s, w, m in ((0, 0.2, 1.0), (1, 0.4, 3.0))]
    rows.append(_row(arch="tcn"))
    points = aggregate(rows)
    assert [(p.arch, p.seeds) for p in points] == [("gru", 2), ("tcn", 1)]
    gru = points[0]
    assert gru.mean["worst"] == pytest.approx(0.3) and gru.mean["r"] == pytest.approx(2.0)
    assert gru.se["worst"] == pytest.approx(0.1)  # std(ddof=1)/sqrt(2) of (0.2, 0.4)
    assert math.isnan(points[1].se["worst"]) and gru.pgd[0.1] == pytest.approx(0.25)
    assert gru.quartiles["r"] == (0.0, 0.0) and gru.quartiles["v"] == pytest.approx((0.1, 0.3))


def test_dataset_table_shows_median_and_quartiles_of_each_measure() -> None:
    rows = [_row(seed=s, r=(q, 2 * q, 3 * q)) for s, q in enumerate((1.0, 3.0))]
    (row,) = dataset_table(aggregate(rows), "GunPoint", 0.1)[-1:]
    cells = row.split(" | ")
    assert "4 [2, 6]" in cells and "0.2 [0.1, 0.3]" in cells and "0.6 [0.5, 0.7]" in cells


MODES4 = ("plain", "jacobian", "hessian", "cure")


def _grid(datasets: tuple[str, ...], seeds: int = 1) -> list[ArchRow]:
    # between architectures (plain), more curvature goes with more robustness; within each
    # architecture every defence flattens the boundary a decade more and gains 5 points
    return [_row(dataset=d, arch=a, mode=m, seed=s, r=(0.0, 10.0 ** (i - k) * (1 + j), 0.0),
                 worst=0.1 + 0.1 * i + 0.05 * k + 0.01 * j)
            for j, d in enumerate(datasets) for i, a in enumerate(("rnn", "lstm", "gru",
                                                                   "transformer", "tcn"))
            for k, m in enumerate(MODES4) for s in range(seeds)]


def test_curvature_correlations_count_configurations_not_seeds() -> None:
    rows = _grid(("GunPoint", "ArrowHead"), seeds=3)
    points = aggregate(rows)
    corr = curvature_correlations(points, reps=200)
    for d in ("GunPoint", "ArrowHead"):
        ps = [p for p in points if p.dataset == d]
        expected = spearmanr([p.mean["r"] for p in ps], [p.mean["worst"] for p in ps]).statistic
        assert corr[d].n == 20 and corr[d].rho == pytest.approx(expected)
    # pooled: Spearman of the within-dataset ranks, side by side
    ranks = [[rankdata([p.mean[k] for p in points if p.dataset == d])
              for d in ("GunPoint", "ArrowHead")] for k in ("r", "worst")]
    expected = spearmanr(np.concatenate(ranks[0]), np.concatenate(ranks[1])).statistic
    assert corr["pooled"].n == 40 and corr["pooled"].rho == pytest.approx(expected)


def test_split_correlations_separate_architectures_from_defences() -> None:
    split = split_correlations(aggregate(_grid(("GunPoint", "ArrowHead"))), reps=300)
    between, within = split["between architectures"], split["between defences"]
    assert (between.n, within.n) == (10, 40)
    assert between.rho == pytest.approx(1.0) and between.outcome == "contradicted"
    assert within.rho == pytest.approx(-1.0) and within.outcome == "supported"


def test_measure_lines_recompute_the_pooled_rho_with_lambda_max_and_the_gradient() -> None:
    rows = [replace(r, v=(0.0, -r.worst, 0.0), j=(0.0, r.worst ** 2, 0.0))
            for r in _grid(("GunPoint", "ArrowHead"))]
    (line,) = measure_lines(aggregate(rows))
    assert ("median λ_max of the margin Hessian ρ = -1.00 [-1.00, -1.00] (n = 40), supported"
            in line)
    assert "median |J| ρ = +1.00 [+1.00, +1.00] (n = 40), contradicted" in line


def test_comparable_keeps_configurations_near_each_datasets_best_clean_accuracy() -> None:
    # GunPoint: best 0.96 (lstm), window 5 points: 0.91 is in, 0.909 and chance are out;
    # ArrowHead has its own best (0.70), so its 0.66 is in although below GunPoint's cut
    rows = [_row(dataset="GunPoint", arch=a, clean=c) for a, c in
            (("rnn", 0.5), ("lstm", 0.96), ("gru", 0.91), ("tcn", 0.909))]
    rows += [_row(dataset="ArrowHead", arch=a, clean=c) for a, c in
             (("rnn", 0.33), ("tcn", 0.70), ("transformer", 0.66))]
    rows += [_row(dataset="ArrowHead", arch="lstm", clean=0.70, seed=0),
             _row(dataset="ArrowHead", arch="lstm", clean=0.50, seed=1)]  # mean 0.60: out
    kept = comparable(aggregate(rows), window=0.05)
    assert [(p.dataset, p.arch) for p in kept] == [
        ("GunPoint", "lstm"), ("GunPoint", "gru"), ("ArrowHead", "tcn"),
        ("ArrowHead", "transformer")]
    assert len(comparable(aggregate(rows), window=1.0)) == 8
    assert [p.arch for p in comparable(aggregate(rows), window=0.0)] == ["lstm", "tcn"]


def test_a_dataset_with_too_few_configurations_has_no_verdict() -> None:
    points = aggregate(_grid(("GunPoint",)))
    few = [p for p in points if p.mode == "plain"][:MIN_CONFIGS - 1]  # ρ = 1 exactly
    corr = curvature_correlations(few, reps=100)["GunPoint"]
    assert math.isnan(corr.rho) and corr.n == MIN_CONFIGS - 1 and corr.outcome == "not settled"
    enough = [p for p in points if p.mode == "plain"][:MIN_CONFIGS]
    corr = curvature_correlations(enough, reps=100)["GunPoint"]
    assert corr.rho == pytest.approx(1.0) and corr.outcome == "contradicted"


def test_report_ranks_only_comparable_configurations(tmp_path: Path) -> None:
    # the chance-level rnn has the best worst case of GunPoint's "models" but is not compared
    rows = [_row(arch="rnn", clean=0.5, worst=0.45, bim=0.45),
            _row(arch="lstm", clean=0.96, worst=0.30, bim=0.31),
            _row(arch="tcn", clean=0.94, worst=0.20, bim=0.25)]
    cfg = ArchitecturesConfig(datasets=(DataPlan("GunPoint"),))
    text = write_report(cfg, tmp_path, rows, []).read_text()
    assert "| rnn plain (not compared) |" in text and "| lstm plain |" in text
    summary = text.split("## Most robust per dataset")[1].split("## GunPoint")[0]
    assert ("| GunPoint | lstm plain (30.0) | 96.0 | tcn plain (20.0) | +10.0 (single seed) | "
            "lstm plain (31.0) | 96.0 | 16.0 (100.0) | yes |") in summary
    assert "2 of 3" in text.split("## Verdict")[1]


def test_lead_is_the_difference_of_means_with_its_standard_error(tmp_path: Path) -> None:
    # lstm: worst (0.50, 0.54) mean 0.52 s.e. 0.02; tcn: (0.40, 0.46) mean 0.43 s.e. 0.03
    rows = [_row(arch=a, seed=s, worst=w) for a, ws in (("tcn", (0.40, 0.46)),
                                                      ("lstm", (0.50, 0.54)))
            for s, w in enumerate(ws)]
    first, second = ranked(aggregate(rows), "GunPoint")
    assert (first.arch, second.arch) == ("lstm", "tcn")
    diff, se = lead(first, second)
    assert diff == pytest.approx(0.09) and se == pytest.approx(math.hypot(0.02, 0.03))
    cfg = ArchitecturesConfig(datasets=(DataPlan("GunPoint"),))
    text = write_report(cfg, tmp_path, rows, []).read_text()
    assert "| +9.0 ± 3.6, clear |" in text  # 9.0 > 2 × 3.6
    rows[3] = _row(arch="lstm", seed=1, worst=0.60)  # lstm 0.55 ± 0.05: 12.0 > 2 × 5.8
    text = write_report(cfg, tmp_path, rows, []).read_text()
    assert "| +12.0 ± 5.8, clear |" in text
    rows[2:] = [_row(arch="lstm", seed=s, worst=w) for s, w in enumerate((0.46, 0.56))]
    text = write_report(cfg, tmp_path, rows, []).read_text()  # 0.51 ± 0.05: 8.0 < 2 × 5.8
    assert "| +8.0 ± 5.8, within noise |" in text


def test_config_checks_and_names() -> None:
    with pytest.raises(ValueError, match="not on the PGD curve"):
        DataPlan("GunPoint", eps=0.3)
    cfg = ArchitecturesConfig()
    with pytest.raises(ValueError, match="val_fraction"):
        replace(cfg, val_fraction=0.6)
    with pytest.raises(ValueError, match="clean_window"):
        replace(cfg, clean_window=-0.01)
    assert len(cfg.units()) == len(cfg.datasets) * 5 and cfg.units()[0] == ("ItalyPowerDemand",
                                                                            "rnn")
    hess = cfg.mode("hessian")
    sel = cfg.train_config("GunPoint", "tcn", hess, 0.1, 0, selection=True)
    final = cfg.train_config("GunPoint", "tcn", hess, 0.1, 2, selection=False)
    assert (sel.val_fraction, final.val_fraction) == (0.25, 0.0)
    assert (final.units, final.cell, final.reg, final.lam, final.seed) == ("raw", "tcn",
                                                                           "hessian", 0.1, 2)
    mnist = cfg.train_config("mnist", "rnn", cfg.mode("plain"), 0.0, 0, selection=False)
    assert (mnist.units, mnist.lam, mnist.reg_fraction) == ("std", 0.0, 1.0)


def test_quartiles_ignore_non_finite() -> None:
    assert quartiles([1.0, 2.0, 3.0, math.nan, math.inf]) == (1.5, 2.0, 2.5)
    assert all(math.isnan(q) for q in quartiles([math.nan]))
