"""Golden outputs: ``analyze``, ``attack``, ``noise`` and ``curvature`` on two fixed tiny runs
shipped in ``tests/golden/runs`` (MNIST rows; variable-length JapaneseVowels, trained by
``seqrobust train`` with the options in :data:`RUNS`) give the same CSV/JSON as the files
committed in ``tests/golden/`` (written by the code before the measurement layer moved out of
``experiments/``). Volatile fields (wall times, paths) are dropped; numbers are compared to a
relative 1e-5 (absolute 1e-6 near zero), so a change of behaviour fails while the last float32
bits of another CPU's kernels (AVX2 against AVX512/AMX; Lanczos residuals and FMN end points
differ there by up to 3e-5 relative, 2e-7 absolute) pass.

Regenerate (only for an intended change of behaviour):
``SEQROBUST_WRITE_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden.py``.
"""

from __future__ import annotations

import csv
import json
import math
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from seqrobust.cli import main

GOLDEN = Path(__file__).parent / "golden"
WRITE = os.environ.get("SEQROBUST_WRITE_GOLDEN") == "1"
VOLATILE = {"seconds", "seconds_this_call", "run", "out", "label", "elapsed", "provenance"}
RUNS = {
    "mnist": ["--dataset", "mnist-subset", "--epochs", "2", "--hidden", "8",
              "--train-limit", "1000", "--test-limit", "50"],
    "vowels": ["--dataset", "JapaneseVowels", "--epochs", "2", "--hidden", "8",
               "--train-limit", "120", "--test-limit", "30"],
}
COMMANDS = {
    "analyze": (["analyze", "{run}", "--n", "6", "--profile-n", "3", "--fmn-steps", "10",
                 "--lanczos-iters", "8", "--no-plots", "--out", "{out}"],
                ["rows.csv", "profile.csv", "summary.json"]),
    "attack": (["attack", "{run}", "--eps", "{eps}", "--n", "20", "--steps", "5",
                "--out", "{out}"], ["curve.csv", "curve.json"]),
    "noise": (["noise", "{run}", "--n", "2", "--samples", "20", "--out", "{out}"],
              ["noise.csv", "noise.json"]),
    "curvature": (["curvature", "{run}", "--n", "10", "--out", "{out}/curvature.json"],
                  ["curvature.json"]),
}
EPS = {"mnist": "2,8,16", "vowels": "0.1,0.25,0.5"}
NOT_BEFORE = {("vowels", "curvature")}
"""Pairs the old code could not run (``curvature`` refused padded data): no golden file."""


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def _close(a: Any, b: Any, where: str) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        assert sorted(a) == sorted(b), f"{where}: keys differ"
        for k in a:
            _close(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list) and isinstance(b, list):
        assert len(a) == len(b), f"{where}: lengths differ"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _close(x, y, f"{where}[{i}]")
    elif isinstance(a, float) or isinstance(b, float):
        x, y = float(a), float(b)
        if math.isnan(x) or math.isnan(y):
            assert math.isnan(x) and math.isnan(y), f"{where}: {a} != {b}"
        else:
            assert math.isclose(x, y, rel_tol=1e-5, abs_tol=1e-6), f"{where}: {a} != {b}"
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def _cell(text: str) -> Any:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def _load(path: Path) -> Any:
    if path.suffix == ".json":
        return _strip(json.loads(path.read_text()))
    rows = list(csv.reader(path.read_text().splitlines()))
    return [[_cell(c) for c in row] for row in rows]


@pytest.fixture(scope="module", params=sorted(RUNS))
def golden_run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
               ) -> tuple[str, Path]:
    """A copy of the shipped run (commands may write next to it)."""
    name = request.param
    run = tmp_path_factory.mktemp("golden") / name
    shutil.copytree(GOLDEN / "runs" / name, run)
    return name, run


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_outputs_match_golden(golden_run: tuple[str, Path], command: str, tmp_path: Path):
    name, run = golden_run
    if (name, command) in NOT_BEFORE:
        pytest.skip("no golden output: the code before the move did not support this")
    args, files = COMMANDS[command]
    out = tmp_path / command
    argv = [a.format(run=run, out=out, eps=EPS[name]) for a in args] + ["--quiet"]
    assert main(argv) == 0
    for file in files:
        expected = GOLDEN / name / command / file
        if WRITE:
            expected.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(out / file, expected)
            continue
        assert expected.exists(), f"no golden file {expected}; see the module docstring"
        _close(_load(out / file), _load(expected), f"{name}/{command}/{file}")
