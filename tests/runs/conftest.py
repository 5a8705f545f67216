"""Fixtures of the run-service tests: a user's own model files and a tiny unbounded aeon run."""

from __future__ import annotations

from pathlib import Path

import pytest
from foreign_cases import Files, write_files

from seqrobust.cli import main


@pytest.fixture(scope="session")
def foreign_files(tmp_path_factory: pytest.TempPathFactory) -> Files:
    """A model file with two factories, their weights and an npz (read-only for tests)."""
    return write_files(tmp_path_factory.mktemp("foreign"))


@pytest.fixture(scope="session")
def vowels_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 1-epoch, hidden-8 run on standardised (unbounded) JapaneseVowels: 60 train and 20
    test inputs of 7-29 steps; 6 steps of batch 10 reach 70 % on those 20 (the default batch
    of 128 makes one step, which gets none right, and a gallery of no input). Read-only: tests
    write their outputs elsewhere."""
    out = tmp_path_factory.mktemp("runs") / "vowels"
    args = ["train", "--dataset", "JapaneseVowels", "--epochs", "1", "--hidden", "8",
            "--train-limit", "60", "--test-limit", "20", "--batch-size", "10", "--lr", "0.02",
            "--out", str(out), "--quiet"]
    assert main(args) == 0
    return out
