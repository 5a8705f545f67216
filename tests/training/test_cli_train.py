"""``seqrobust train``: options generated from ``TrainConfig``, ``--resume`` checks, bad flags."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest

from seqrobust.cli import main
from seqrobust.training import TrainConfig

BASE = ["train", "--dataset", "mnist-subset", "--epochs", "1", "--hidden", "4", "--layers", "1",
        "--train-limit", "32", "--test-limit", "16", "--batch-size", "16", "--seed", "3",
        "--quiet"]


def test_help_lists_every_config_field_with_help_and_default(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    assert main(["train", "--help"]) == 0
    text = re.sub(r"\s+", " ", capsys.readouterr().out)
    for f in dataclasses.fields(TrainConfig):
        default = "none" if f.default is None else str(f.default)
        help_text = re.sub(r"\s+", " ", f.metadata["help"])
        assert re.search(rf"--{f.name.replace('_', '-')}[ ,]", text), f.name
        assert f"{help_text} (default: {default})" in text, f.name
    for flag in ("--out", "--resume", "--quiet", "--cell", "--arch"):
        assert flag in text


def test_train_writes_the_given_flags(tmp_path, capsys):
    assert main([*BASE, "--lr", "0.01", "--out", str(tmp_path / "r")]) == 0
    saved = TrainConfig.load(tmp_path / "r" / "config.json")
    assert saved == TrainConfig(dataset="mnist-subset", epochs=1, hidden=4, layers=1,
                                train_limit=32, test_limit=16, batch_size=16, seed=3, lr=0.01)
    assert "test accuracy" in capsys.readouterr().out


def test_resume_checks_flags_and_reports_a_finished_run(tmp_path, capsys):
    out = str(tmp_path / "r")
    assert main([*BASE, "--out", out]) == 0
    first = capsys.readouterr().out
    record = json.loads((tmp_path / "r" / "model.json").read_text())
    assert main(["train", "--out", out, "--resume", "--seed", "4", "--lam", "0"]) == 2
    err = capsys.readouterr().err
    assert err == "error: --resume with a different config: --seed 4 (saved: 3); omit them\n"
    assert main(["train", "--out", out, "--resume", "--seed", "3", "--device", "cpu",
                 "--quiet"]) == 0
    again = capsys.readouterr().out
    assert "already finished: " in again
    assert again.split("finished: ")[1] == first.split(": ", 1)[1]  # the same numbers
    assert json.loads((tmp_path / "r" / "model.json").read_text()) == record


@pytest.mark.parametrize(("flags", "message"), [
    (["--clip", "nan"], "error: clip must be a finite number, got nan\n"),
    (["--lr", "inf"], "error: lr must be a finite number, got inf\n"),
    (["--lam", "0.1"], "error: --lam 0.1 needs a regulariser; pass --reg (hessian, jacobian, "
                       "cure or pgd-at) or drop --lam\n"),
    (["--hidden", "1000000"], "error: hidden 1000000 x layers 1 (rnn) is at least 1e+12 "
                              "parameters, above the limit of 2.15e+09; lower --hidden or "
                              "--layers\n"),
    (["--layers", "10000000"], "error: layers must be an integer in [1, 1000], got 10000000\n"),
    (["--reg", "hessian"], "error: --reg hessian needs a positive --lam\n"),
    (["--units", "raw"], "error: --units raw applies to aeon datasets only; mnist-subset is in "
                         "[0, 1] (use --units std)\n"),
    (["--units", "z"], "error: unknown units 'z'; choose one of std, raw\n"),
    (["--val-fraction", "0.5"], "error: val_fraction must be in [0, 0.5), got 0.5\n"),
])
def test_bad_flags_are_one_line_and_write_nothing(tmp_path, capsys, flags, message):
    assert main([*BASE, *flags, "--out", str(tmp_path / "r")]) == 2
    assert capsys.readouterr().err == message
    assert not (tmp_path / "r").exists()


def test_resume_of_a_missing_run(tmp_path, capsys):
    assert main(["train", "--out", str(tmp_path / "none"), "--resume"]) == 2
    assert "config.json: not found" in capsys.readouterr().err


def test_units_and_val_fraction_flags_reach_the_run_and_its_report(raw_run, tmp_path, capsys):
    import shutil

    saved = TrainConfig.load(raw_run / "config.json")
    assert (saved.dataset, saved.units, saved.val_fraction) == ("ItalyPowerDemand", "raw", 0.25)
    shutil.copytree(raw_run, tmp_path / "r")
    assert main(["train", "--out", str(tmp_path / "r"), "--resume", "--quiet"]) == 0
    meta = json.loads((raw_run / "model.json").read_text())["meta"]
    assert capsys.readouterr().out.endswith(
        f"already finished: test accuracy {100 * meta['test_accuracy']:.2f} % (validation "
        f"{100 * meta['val_accuracy']:.2f} %) after 8 steps, {meta['elapsed']:.1f} s of "
        "training\n")
