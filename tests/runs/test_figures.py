"""Figures 3 and 4 (``seqrobust plot boundary|taylor``) on unbounded data and on a foreign
model: the minimal perturbation is clipped to ``attack_bounds`` (never binding), not to an
infinite box."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import pytest
from foreign_cases import Files, model_args

from seqrobust.cli import main
from seqrobust.measure._lengths import UNBOUNDED
from seqrobust.runs.figures import run_input


@pytest.mark.parametrize("kind", ["boundary", "taylor"])
def test_figures_of_an_unbounded_aeon_run(vowels_run: Path, tmp_path: Path, kind: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    item = run_input(vowels_run, 3)
    assert item.data.bounds is None and item.x.shape[1] == 12  # standardised, 12 features
    assert item.data.lengths is not None and item.x.shape[0] == int(item.data.lengths[3])
    out = tmp_path / f"{kind}.png"
    extra = ["--grid", "9"] if kind == "boundary" else ["--directions", "20"]
    assert main(["plot", kind, str(vowels_run), "--index", "3", "--out", str(out), *extra]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert out.read_bytes()[:4] == b"\x89PNG" and summary["unit"] == "training std"
    assert json.loads(out.with_suffix(".json").read_text()) == summary
    digest = hashlib.sha256((vowels_run / "model.safetensors").read_bytes()).hexdigest()
    assert summary["provenance"]["weights_sha256"] == digest  # every output says what it used
    assert len(summary["provenance"]["data_tensors_sha256"]) == 64
    if kind == "boundary":
        assert 0 < summary["delta_norm"] < UNBOUNDED[1] and math.isfinite(summary["upper"])
        assert summary["lower"] <= summary["delta_norm"] * (1 + 1e-6)


def test_figure3_of_a_foreign_model_records_provenance(foreign_files: Files, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    out = tmp_path / "figures" / "boundary-1.png"
    argv = ["plot", "boundary", *model_args(foreign_files), "--index", "1", "--grid", "9",
            "--out", str(out)]
    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    assert out.exists() and summary["run"] == f"{foreign_files.model}:make_packed"
    digest = hashlib.sha256(foreign_files.packed_weights.read_bytes()).hexdigest()
    assert summary["provenance"]["weights_sha256"] == digest
    assert main(["plot", "boundary", *model_args(foreign_files), "--index", "99",
                 "--out", str(out)]) == 2
    assert "--index must be in [0, 11], got 99" in capsys.readouterr().err
