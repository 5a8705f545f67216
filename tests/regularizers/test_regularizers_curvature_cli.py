"""``seqrobust curvature``: mean R of a run's test inputs."""

from __future__ import annotations

import json

from reg_cases import dense_r

from seqrobust.cli import main
from seqrobust.data import load_dataset
from seqrobust.training import load_model


def test_curvature_command_estimate_agrees_with_dense_oracle(tmp_path, capsys):
    run = tmp_path / "run"
    assert main([
        "train", "--dataset", "mnist-subset", "--train-limit", "64", "--test-limit", "32",
        "--batch-size", "32", "--hidden", "8", "--layers", "1", "--epochs", "1", "--out",
        str(run), "--quiet",
    ]) == 0
    capsys.readouterr()
    out = tmp_path / "curv.json"
    assert main(["curvature", str(run), "--n", "2", "--probes", "200", "--quiet", "--device",
                 "cpu", "--out", str(out)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert json.loads(out.read_text()) == result
    assert result["n"] == 2 and 0 <= result["accuracy"] <= 1
    model, _ = load_model(run)
    exact = float(dense_r(model, load_dataset("mnist-subset", split="test", limit=2).inputs).mean())
    # 200 probes of the exact-over-outputs estimator: relative SD <= sqrt(2 / 200) = 0.1
    assert abs(result["mean_R"] / exact - 1) < 0.4, (result, exact)
    assert main(["curvature", str(run), "--n", "0"]) == 2
