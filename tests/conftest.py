"""Shared fixtures: seeded determinism and small run folders."""

from __future__ import annotations

import pytest
import torch


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
