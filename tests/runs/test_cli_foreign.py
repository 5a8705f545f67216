"""``seqrobust evaluate | attack | analyze | noise | curvature`` on a user's model file, weights
and npz give exactly the numbers of the Python API on the same model and data, and record the
files' SHA-256."""

from __future__ import annotations

import copy
import hashlib
import json
import math
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
import torch
from foreign_cases import CLASSES, Files, model_args
from torch import nn

import seqrobust as sr
from seqrobust.cli import main

FACTORIES = ["make_packed", "make_lstm"]


def _same(a: Any, b: Any) -> bool:
    """Equal, with NaN equal to NaN (JSON keeps floats exactly)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return sorted(a) == sorted(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return bool(a == b)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _reference(files: Files, factory: str) -> tuple[nn.Module, sr.SequenceData]:
    """The user's own model object and their arrays, as the Python API gets them."""
    model = copy.deepcopy(files.packed if "packed" in factory else files.lstm).eval()
    data = sr.SequenceData.from_arrays(files.x, files.y, lengths=files.lengths,
                                       num_classes=CLASSES, name="data.npz")
    return model, data


def _check_provenance(record: dict[str, Any], files: Files, factory: str) -> None:
    weights = files.packed_weights if "packed" in factory else files.lstm_weights
    prov = record["provenance"]
    assert prov["model"] == f"{files.model}:{factory}" and prov["model_kwargs"] == {}
    assert prov["weights_sha256"] == _sha(weights) and prov["data_sha256"] == _sha(files.data)
    assert prov["takes_lengths"] is ("packed" in factory)


@pytest.mark.parametrize("factory", FACTORIES)
def test_evaluate_is_a_plain_loop(foreign_files: Files, factory: str,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    model, data = _reference(foreign_files, factory)
    assert data.lengths is not None
    with torch.no_grad():
        logits = (model(data.inputs, data.lengths) if "packed" in factory
                  else model(data.inputs))  # the padded tensor, as the user calls it
    own = float((logits.argmax(1) == data.labels).double().mean())
    assert main(["evaluate", *model_args(foreign_files, factory)]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["n"] == len(data) and record["accuracy"] == own
    assert 0.0 < own < 1.0  # the check can tell right from wrong
    _check_provenance(record, foreign_files, factory)


@pytest.mark.parametrize("factory", FACTORIES)
def test_attack_equals_robustness_curve(foreign_files: Files, factory: str,
                                        tmp_path: Path) -> None:
    out = tmp_path / "attacks" / "pgd"
    argv = ["attack", *model_args(foreign_files, factory), "--eps", "0.1,0.5", "--steps", "3",
            "--out", str(out), "--quiet"]
    assert main(argv) == 0
    record = json.loads((out / "curve.json").read_text())
    model, data = _reference(foreign_files, factory)
    settings = sr.AttackSettings(attack="pgd", alpha=0.5 / 15, steps=3, seed=0)
    api = sr.robustness_curve(model, data, eps=[0.1, 0.5], settings=settings)
    cli = record["curve"]
    assert cli["accuracy"] == list(api.accuracy) and cli["clean_accuracy"] == api.clean_accuracy
    assert cli["first_fooled"] == list(api.first_fooled) and cli["unit"] == "model units"
    assert cli["settings"] == asdict(api.settings)
    _check_provenance(record, foreign_files, factory)
    assert (out / "curve.csv").exists() and (out / "curve.png").exists()


@pytest.mark.parametrize("factory", FACTORIES)
def test_analyze_equals_the_api_table(foreign_files: Files, factory: str,
                                      tmp_path: Path) -> None:
    opts = {"lanczos_iters": 5, "fmn_steps": 5, "profile_n": 2}
    argv = ["analyze", *model_args(foreign_files, factory), "--n", "4", "--no-plots",
            "--out", str(tmp_path), "--quiet"]
    argv += [a for k, v in opts.items() for a in (f"--{k.replace('_', '-')}", str(v))]
    assert main(argv) == 0
    model, data = _reference(foreign_files, factory)
    api = sr.analyze(model, data, n=4, **opts)
    assert (tmp_path / "rows.csv").read_bytes() == api.csv().encode()
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["inputs"] == 4 and summary["bracket"] == api.summary["bracket"]
    _check_provenance(summary, foreign_files, factory)


@pytest.mark.parametrize("factory", FACTORIES)
def test_noise_equals_run_noise(foreign_files: Files, factory: str, tmp_path: Path) -> None:
    argv = ["noise", *model_args(foreign_files, factory), "--n", "2", "--samples", "20",
            "--out", str(tmp_path), "--quiet"]
    assert main(argv) == 0
    record = json.loads((tmp_path / "noise.json").read_text())
    model, data = _reference(foreign_files, factory)
    api = sr.noise_bound(model, data, n=2, samples=20)
    assert len(record["inputs"]) == 2
    assert _same(record["inputs"], [asdict(r) for r in api.records])
    assert _same(record["config"], asdict(api.config))
    _check_provenance(record, foreign_files, factory)


@pytest.mark.parametrize("factory", FACTORIES)
def test_curvature_equals_the_api(foreign_files: Files, factory: str, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "curvature.json"
    argv = ["curvature", *model_args(foreign_files, factory), "--n", "4", "--probes", "4",
            "--out", str(out), "--quiet"]
    assert main(argv) == 0
    printed = json.loads(capsys.readouterr().out)
    record = json.loads(out.read_text())
    assert printed == record
    model, data = _reference(foreign_files, factory)
    api = sr.curvature(model, data, n=4, probes=4, seed=0).summary()
    assert (record["n"], record["mean_R"], record["se_R"], record["median_R"]) == (
        api["n"], api["mean_R"], api["se_R"], api["median_R"])
    _check_provenance(record, foreign_files, factory)


def test_a_named_dataset_and_factory_kwargs(foreign_files: Files, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """JapaneseVowels (12 features, 9 classes) through the same model file."""
    argv = ["evaluate", "--model", f"{foreign_files.model}:make_packed", "--model-kwargs",
            '{"features": 12, "classes": 9}', "--dataset", "JapaneseVowels", "--limit", "10"]
    assert main(argv) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["n"] == 10 and record["provenance"]["dataset"] == "JapaneseVowels-test"
    assert record["provenance"]["model_kwargs"] == {"features": 12, "classes": 9}
    assert record["provenance"]["weights_sha256"] is None
