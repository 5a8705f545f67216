"""The cross-dataset tables: architectures ranked and ours against the published benchmark."""

from __future__ import annotations

from pathlib import Path

from arch_cases import arch_row as _row

from seqrobust.studies.architectures import ArchitecturesConfig, DataPlan
from seqrobust.studies.architectures.report import write_report
from seqrobust.studies.architectures.summary import (
    architecture_lines,
    benchmark_lines,
    head_to_head_lines,
    remaining_hours,
)
from seqrobust.studies.architectures.table import aggregate, comparable, head_to_head


def test_each_architecture_shows_its_comparable_configuration_with_the_best_bim(
        tmp_path: Path) -> None:
    rows = [
        _row(dataset="ItalyPowerDemand", arch="rnn", clean=0.96, fgsm=0.85, bim=0.80),
        # highest BIM of the rnn, over two seeds: (0.90 + 0.92) / 2
        *(_row(dataset="ItalyPowerDemand", arch="rnn", mode="cure", lam=10.0, seed=s,
               clean=0.95, fgsm=0.93, bim=b) for s, b in enumerate((0.90, 0.92))),
        # the best BIM of all, but 46 points below the best clean accuracy: not compared
        _row(dataset="ItalyPowerDemand", arch="lstm", clean=0.50, fgsm=0.5, bim=0.99),
        _row(dataset="JapaneseVowels", arch="rnn", clean=0.9),  # nothing published: no row
    ]
    points = aggregate(rows)
    lines = benchmark_lines(points, comparable(points, window=0.05),
                            ["ItalyPowerDemand", "JapaneseVowels"], ["rnn", "lstm", "tcn"])
    assert lines[0] == "| dataset | ResNet (published) | FCN (published) | rnn | lstm | tcn |"
    assert lines[2:] == ["| ItalyPowerDemand | 95.9 / 92.5 / 91.6 | 96.1 / 89.8 / 89.6 | "
                         "95.0 / 93.0 / 91.0 (cure) | not compared (clean ≤ 50.0) | – |"]
    assert benchmark_lines(points, points, ["JapaneseVowels"], ["rnn"]) == []
    cfg = ArchitecturesConfig(datasets=(DataPlan("ItalyPowerDemand"), DataPlan("JapaneseVowels")))
    text = write_report(cfg, tmp_path, rows, []).read_text()
    assert lines[2].replace("| – |", "| – | – | – |") in text.split(
        "## Against the published benchmark")[1]


def test_architectures_are_ranked_by_their_most_robust_configuration_per_dataset() -> None:
    rows = [_row(dataset=d, arch=a, mode=m, worst=w) for d, a, m, w in (
        ("GunPoint", "tcn", "plain", 0.5), ("GunPoint", "tcn", "cure", 0.7),  # tcn: 0.7 cure
        ("GunPoint", "lstm", "plain", 0.6), ("GunPoint", "gru", "plain", 0.6),
        ("ArrowHead", "lstm", "plain", 0.3), ("ArrowHead", "tcn", "hessian", 0.2))]
    lines = architecture_lines(aggregate(rows), ["GunPoint", "ArrowHead"], ["gru", "lstm", "tcn",
                                                                          "rnn"])
    assert lines[0] == "| architecture | GunPoint | ArrowHead | mean rank (datasets) |"
    # GunPoint: tcn 1, lstm and gru tie at 2.5; ArrowHead: lstm 1, tcn 2; rnn has no model
    assert lines[2:] == ["| tcn | 70.0 cure | 20.0 hessian | 1.5 (2) |",
                         "| lstm | 60.0 plain | 30.0 plain | 1.8 (2) |",
                         "| gru | 60.0 plain | – | 2.5 (1) |",
                         "| rnn | – | – | – |"]


def test_the_work_left_is_priced_by_the_same_configurations_recorded_seeds() -> None:
    rows = [_row(), _row(mode="cure", lam=1.0, train_seconds=100.0, eval_seconds=20.0),
            _row(mode="cure", lam=1.0, seed=1, train_seconds=60.0, eval_seconds=0.0)]
    expected = [("GunPoint", "gru", m, s) for m in ("plain", "cure") for s in (0, 1, 2)]
    expected += [("GunPoint", "gru", "jacobian", 0)]
    # plain seeds 1, 2 at 15 s each; cure seed 2 at the mean of its seeds, (120 + 60) / 2;
    # jacobian has no recorded seed
    hours, unknown = remaining_hours(rows, expected)
    assert hours * 3600 == 2 * 15.0 + 90.0 and unknown == 1
    assert remaining_hours(rows, [("GunPoint", "gru", "plain", 0)]) == (0.0, 0)


def test_head_to_head_compares_two_architectures_on_their_shared_datasets() -> None:
    rows = [_row(dataset="A", arch="x", worst=0.5),
            _row(dataset="A", arch="x", mode="cure", lam=1.0, worst=0.1),  # not its best
            _row(dataset="B", arch="x", worst=0.6),
            _row(dataset="A", arch="y", worst=0.4), _row(dataset="B", arch="y", worst=0.7),
            _row(dataset="A", arch="z", worst=0.5)]  # z: on A only, level with x
    points = aggregate(rows)
    games = head_to_head(points, ["A", "B"], ["x", "y", "z"])
    assert games["x", "y"] == (1, 1, 0) and games["y", "x"] == (1, 1, 0)
    assert games["x", "z"] == (0, 0, 1) and games["z", "y"] == (1, 0, 0)
    assert games["y", "z"] == (0, 1, 0) and len(games) == 6
    lines = head_to_head_lines(points, ["A", "B"], ["x", "y", "z"])
    # mean ranks: x (1.5 + 2) / 2, y (3 + 1) / 2, z 1.5: order z, x, y
    assert lines[0] == "| architecture | vs z | vs x | vs y |"
    assert lines[3] == "| x | 0–0 (1 tied) | – | 1–1 |"
