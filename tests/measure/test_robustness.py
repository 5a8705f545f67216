"""Robustness curves: ε parsing, sanity checks, records, the ``attack`` command and Figure 7."""

import csv
import json
from dataclasses import replace

import pytest
import torch

from seqrobust.cli import main
from seqrobust.data import SequenceData
from seqrobust.measure.checks import sanity_checks
from seqrobust.measure.robustness import AttackSettings, RobustnessCurve, robustness_curve
from seqrobust.models import RecurrentClassifier
from seqrobust.runs.attack import parse_epsilons
from seqrobust.studies.figure7 import Figure7Config, run_figure7


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("1:30", tuple(float(e) for e in range(1, 31))),
        ("1:30:2", tuple(float(e) for e in range(1, 31, 2))),
        ("2, 4,8", (2.0, 4.0, 8.0)),
        ("0.5:1.5:0.5", (0.5, 1.0, 1.5)),
        ("16", (16.0,)),
    ],
)
def test_parse_epsilons(spec, expected):
    assert parse_epsilons(spec) == expected


@pytest.mark.parametrize("spec", ["", "a:b", "1:2:3:4", "5:1", "0:3", "1:3:0", "2,-1"])
def test_parse_epsilons_rejects(spec):
    with pytest.raises(ValueError, match="--eps") as info:
        parse_epsilons(spec)
    assert "\n" not in str(info.value)


def _curve(acc, *, clean=0.9, eps=(2.0, 8.0, 30.0), attack="pgd", n=100):
    return RobustnessCurve(label="m", settings=AttackSettings(attack=attack), eps=eps,
                           accuracy=tuple(acc), clean_accuracy=clean, n=n, seconds=0.0)


def _status(checks):
    return [c.status for c in checks]


def test_sanity_checks_pass_and_fail():
    good = _curve((0.8, 0.5, 0.02))
    assert _status(sanity_checks(good, plain=True)) == ["pass", "pass", "pass", "n/a"]
    assert _status(sanity_checks(good, plain=False))[2] == "n/a"
    assert _status(sanity_checks(_curve((0.95, 0.5, 0.02)), plain=True))[0] == "fail"
    assert _status(sanity_checks(_curve((0.5, 0.6, 0.02)), plain=True))[1] == "fail"
    assert _status(sanity_checks(_curve((0.8, 0.5, 0.3)), plain=True))[2] == "fail"
    weaker_bb = _curve((0.85, 0.6), eps=(2.0, 8.0), attack="square")
    assert _status(sanity_checks(good, blackbox=weaker_bb))[3] == "pass"
    masking = _curve((0.7, 0.3), eps=(2.0, 8.0), attack="square")
    checks = sanity_checks(good, blackbox=masking)
    assert checks[3].status == "fail" and "+20.00" in checks[3].detail


def test_curve_record_head_and_checks_on_a_model():
    torch.manual_seed(0)
    model = RecurrentClassifier(input_size=5, num_classes=3, hidden_size=8, num_layers=1).eval()
    g = torch.Generator().manual_seed(0)
    data = SequenceData(torch.rand(50, 6, 5, generator=g), torch.randint(0, 3, (50,), generator=g),
                        3, "synthetic")
    settings = AttackSettings(attack="pgd", alpha=8.0, steps=5)
    curve = robustness_curve(model, data, settings=settings, eps=(60.0, 10.0, 30.0), n=40)
    assert curve.eps == (10.0, 30.0, 60.0) and curve.n == 40 and len(curve.first_fooled) == 40
    assert all(a <= curve.clean_accuracy for a in curve.accuracy)
    assert list(curve.accuracy) == sorted(curve.accuracy, reverse=True)
    again = RobustnessCurve.from_json(json.loads(json.dumps(curve.to_json())))
    assert again == curve
    head = curve.head(20)
    first = torch.tensor(curve.first_fooled[:20])
    assert head.n == 20 and head.at(30.0) == pytest.approx(float((first > 1).double().mean()))
    assert replace(curve, first_fooled=()).eps == curve.eps
    with pytest.raises(ValueError, match="no per-input record"):
        replace(curve, first_fooled=()).head(5)



def test_attack_command_writes_curve(tiny_run, tmp_path, capsys):
    out = tmp_path / "pgd"
    code = main(["attack", str(tiny_run), "--eps", "4,16", "--n", "40", "--steps", "5",
                 "--out", str(out), "--quiet", "--device", "cpu"])
    assert code == 0
    text = capsys.readouterr().out
    assert "robust <= clean" in text and "| tiny | pgd | 40 |" in text
    record = json.loads((out / "curve.json").read_text())
    rows = list(csv.reader((out / "curve.csv").read_text().splitlines()))
    assert rows[0] == ["eps_pixels", "robust_accuracy"]
    assert [r[0] for r in rows[1:]] == ["0", "4", "16"]
    assert [float(r[1]) for r in rows[2:]] == pytest.approx(record["curve"]["accuracy"], abs=1e-6)
    assert {c["status"] for c in record["checks"][:2]} == {"pass"}
    assert (out / "curve.png").stat().st_size > 1000


def test_attack_command_errors_are_one_line(tiny_run, capsys):
    assert main(["attack", str(tiny_run), "--eps", "0:3", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --eps values must be positive") and err.count("\n") == 1
    assert main(["attack", str(tiny_run), "--attack", "cw", "--quiet"]) == 2
    assert "unknown attack 'cw'" in capsys.readouterr().err
    assert main(["attack", str(tiny_run), "--alpha", "-1", "--quiet"]) == 2
    assert "alpha must be a positive number" in capsys.readouterr().err


def test_figure7_end_to_end_and_resume(tmp_path):
    pytest.importorskip("torchattacks")
    cfg = replace(
        Figure7Config.quick(), epochs=1, hidden=8, train_limit=200,
        lams=(("hessian", (1e-3, 1e-2)), ("pgd-at", (1.0,))), at_steps=1,
        eps=(4.0, 16.0, 30.0), n_test=30, steps=3, check_eps=(16.0,), check_n=20, apgd_steps=2,
        square_queries=5,
    )
    report = run_figure7(cfg, tmp_path, device="cpu", progress=False)
    text = report.read_text()
    assert "| plain | pgd | 30 |" in text and "hessian (λ=" in text and "pgd-at (λ=1)" in text
    assert (tmp_path / "figure7.png").stat().st_size > 1000
    rows = list(csv.DictReader((tmp_path / "figure7.csv").read_text().splitlines()))
    assert {r["attack"] for r in rows} == {"pgd", "apgd-ce", "apgd-dlr", "square"}
    stamp = (tmp_path / "curves" / "plain-pgd.json").stat().st_mtime_ns
    run_figure7(cfg, tmp_path, device="cpu", progress=False)  # everything cached
    assert (tmp_path / "curves" / "plain-pgd.json").stat().st_mtime_ns == stamp
    assert report.read_text().split("## Timing")[0] == text.split("## Timing")[0]
