"""Shared fixtures: seeded determinism and small run folders."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from seqrobust.cli import main


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


@pytest.fixture(autouse=True)
def _isolated_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tests never touch the user's cache or an ambient data folder."""
    monkeypatch.setenv("SEQROBUST_CACHE", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.delenv("SEQROBUST_DATA", raising=False)


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 1-epoch, hidden-8 RNN trained on 300 MNIST-subset images (50 test inputs): a real run
    folder for command tests. Read-only: tests write their outputs elsewhere."""
    out = tmp_path_factory.mktemp("runs") / "tiny"
    args = ["train", "--dataset", "mnist-subset", "--epochs", "1", "--hidden", "8"]
    args += ["--train-limit", "300", "--test-limit", "50", "--out", str(out), "--quiet"]
    assert main(args) == 0
    return out


RAW_RUN_FLAGS = ["--dataset", "ItalyPowerDemand", "--units", "raw", "--val-fraction", "0.25",
                 "--cell", "gru", "--hidden", "8", "--layers", "1", "--epochs", "2",
                 "--batch-size", "16", "--seed", "2"]
"""``raw_run``'s flags: the 67 training series minus a 17-series hold-out (4 steps per epoch),
all 1029 test series."""


@pytest.fixture(scope="session")
def raw_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-epoch, hidden-8 GRU trained by ``seqrobust train`` on ItalyPowerDemand in raw units
    with a quarter of each class held out (``--val-fraction 0.25``). Read-only."""
    pytest.importorskip("aeon")
    out = tmp_path_factory.mktemp("runs") / "raw"
    assert main(["train", *RAW_RUN_FLAGS, "--out", str(out), "--quiet"]) == 0
    return out
