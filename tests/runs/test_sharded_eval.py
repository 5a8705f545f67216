"""``analyze``, ``noise`` and ``attack`` with ``--shard i/n`` merge to the single-process outputs
(uneven shards, an empty shard), and the merge refuses incomplete sets."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from seqrobust.cli import main
from seqrobust.data import load_dataset
from seqrobust.measure.robustness import AttackSettings, robustness_curve
from seqrobust.runs.shards import Shard, shard_indices
from seqrobust.training import load_model


def _shards(args: list[str], count: int) -> None:
    for i in range(count):
        assert main([*args, "--shard", f"{i}/{count}"]) == 0, i


def test_sharded_analyze_merges_to_the_single_process_table(
    tiny_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["analyze", str(tiny_run), "--n", "7", "--batch-size", "2", "--fmn-steps", "5"]
    base += ["--lanczos-iters", "5", "--profile-n", "3", "--device", "cpu", "--quiet"]
    assert main([*base, "--out", str(tmp_path / "one"), "--no-plots"]) == 0
    # 4 chunks over 5 shards: chunk c goes to shard c, shard 4 is empty
    _shards([*base, "--out", str(tmp_path / "many")], 5)
    capsys.readouterr()
    empty = json.loads((tmp_path / "many" / "analyze.shard-4-of-5.json").read_text())
    assert empty["indices"] == [] and not (tmp_path / "many" / "rows.shard-4-of-5.csv").exists()
    assert main(["merge", "analyze", str(tmp_path / "many"), "--no-plots"]) == 0
    assert json.loads(capsys.readouterr().out)["shards"] == 5
    for name in ("rows.csv", "profile.csv"):
        single = (tmp_path / "one" / name).read_text()
        assert (tmp_path / "many" / name).read_text() == single
        assert len(single.splitlines()) == 8
    one, many = (json.loads((tmp_path / d / "summary.json").read_text()) for d in ("one", "many"))
    for key in ("seconds_this_call", "shards"):
        one.pop(key, None), many.pop(key, None)
    assert many == one
    (tmp_path / "many" / "analyze.shard-2-of-5.json").unlink()
    assert main(["merge", "analyze", str(tmp_path / "many")]) == 2
    err = capsys.readouterr().err
    assert "missing analyze shard 2/5 (analyze.shard-2-of-5.json)" in err and err.count("\n") == 1


def test_sharded_noise_merges_to_the_single_process_records(
    tiny_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["noise", str(tiny_run), "--n", "2", "--samples", "16", "--rho", "3000"]
    base += ["--rho", "30000", "--num-kappa", "8", "--quiet"]
    assert main([*base, "--out", str(tmp_path / "one")]) == 0
    _shards([*base, "--out", str(tmp_path / "many")], 3)  # inputs 0 and 1; shard 2 empty
    assert main(["merge", "noise", str(tmp_path / "many")]) == 0
    for name in ("noise.json", "noise.csv"):
        assert (tmp_path / "many" / name).read_text() == (tmp_path / "one" / name).read_text()
    record = json.loads((tmp_path / "one" / "noise.json").read_text())
    assert [r["index"] for r in record["inputs"]] == [0, 1]
    capsys.readouterr()


def test_sharded_attack_merges_to_the_single_process_curve(
    tiny_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["attack", str(tiny_run), "--eps", "4,16,40", "--steps", "3", "--n", "11"]
    base += ["--batch-size", "1", "--device", "cpu", "--quiet"]  # batch 1: identical floats
    assert main([*base, "--out", str(tmp_path / "one")]) == 0
    _shards([*base, "--out", str(tmp_path / "many")], 3)  # 4, 4 and 3 inputs
    assert main(["merge", "attack", str(tmp_path / "many")]) == 0
    one, many = (json.loads((tmp_path / d / "curve.json").read_text()) for d in ("one", "many"))
    one["curve"].pop("seconds"), many["curve"].pop("seconds")
    assert many == one
    assert len(one["curve"]["first_fooled"]) == 11
    csvs = [(tmp_path / d / "curve.csv").read_text() for d in ("one", "many")]
    assert csvs[0] == csvs[1]
    assert main([*base, "--shard", "3/3"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: bad --shard '3/3'") and err.count("\n") == 1


def test_per_input_attack_seeds_make_the_curve_independent_of_batches_and_shards(
    tiny_run: Path,
) -> None:
    """float64 so that batch composition cannot move a result; labels = predictions so that
    every input is attacked."""
    model, _ = load_model(tiny_run)
    model = model.double()
    data = load_dataset("mnist-subset", split="test", limit=13)
    with torch.no_grad():
        x = data.inputs.double()
        data = replace(data, inputs=x, labels=model(x).argmax(1))
    settings = AttackSettings(attack="pgd", alpha=3.0, steps=4, seed=3)
    eps = (6.0, 12.0, 24.0)
    whole = robustness_curve(model, data, settings=settings, eps=eps, batch_size=13)
    assert 0 < sum(f < len(eps) for f in whole.first_fooled) < 13  # some fooled, some not
    first = [-2] * 13
    for i in range(3):
        idx = shard_indices(13, Shard(i, 3), block=2)
        part = robustness_curve(
            model, data, settings=settings, eps=eps, batch_size=3, indices=idx
        )
        for j, value in zip(idx.tolist(), part.first_fooled, strict=True):
            first[j] = value
    assert tuple(first) == whole.first_fooled
