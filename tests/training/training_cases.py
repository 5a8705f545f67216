"""Shared helpers of the training tests: tiny configs, weight digests, metrics without time."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from torch import Tensor, nn

from seqrobust.training import TrainConfig
from seqrobust.training.checkpoint import load_file_tensors

DATA = Path(__file__).parent / "data"
"""Run folders written by the code before the checkpoint format changed (commit 154ac00):
``old-killed`` (stopped after 7 of 8 steps, checkpoint at step 6) and ``old-finished``."""
OLD_CONFIG = dict(dataset="mnist-subset", train_limit=256, test_limit=64, epochs=2, hidden=8,
                  batch_size=64, log_every=2, checkpoint_every=3, device="cpu")
OLD_DIGEST = "9ac1cac1806e28feb0917183d36230605405e2fcf4fb1b24720a9f9b2208b066"
"""The final weights of ``old-finished`` (one thread)."""
OLD_TEST_ACCURACY = 0.109375
SMALL = TrainConfig(dataset="mnist-subset", train_limit=32, test_limit=16, batch_size=16,
                    epochs=2, hidden=4, layers=2, dropout=0.2, log_every=2, checkpoint_every=3,
                    device="cpu", seed=1)
"""2 steps per epoch, snapshots at steps 2 (epoch end), 3 (every 3) and 4; 60 write points."""


def digest_tensors(tensors: dict[str, Tensor], prefix: str = "") -> str:
    """SHA-256 over ``tensors`` (name, dtype, shape, bytes; sorted by name)."""
    h = hashlib.sha256()
    for key in sorted(tensors):
        value = tensors[key].detach().cpu().contiguous()
        h.update(f"{prefix}{key}|{value.dtype}|{tuple(value.shape)}|".encode())
        h.update(value.numpy().tobytes())
    return h.hexdigest()


def weights_digest(run_dir: Path) -> str:
    """The digest of a run folder's final ``model::`` tensors."""
    tensors = load_file_tensors(run_dir / "model")
    return digest_tensors({k: v for k, v in tensors.items() if k.startswith("model::")})


def module_digest(model: nn.Module) -> str:
    """The digest :func:`weights_digest` gives for ``model``'s weights saved by a run."""
    return digest_tensors(model.state_dict(), prefix="model::")


def metrics_without_time(run_dir: Path) -> list[dict[str, Any]]:
    """``metrics.jsonl`` with the wall-time field dropped."""
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    return [{k: v for k, v in json.loads(ln).items() if k != "elapsed_s"} for ln in lines]


MNIST = dict(dataset="mnist-subset", train_limit=256, test_limit=64, epochs=1, hidden=8,
             batch_size=64, log_every=2, device="cpu")
JV = dict(dataset="JapaneseVowels", train_limit=48, test_limit=24, epochs=1, hidden=8,
          batch_size=16, log_every=2, device="cpu")
GOLDEN = [  # digests of the code before the split (see test_golden_weights.py)
    pytest.param("plain", MNIST,
                 "4e02d73320c904c7dcd178e99e0957ba21860be7b828fe828911279d06d895c3", id="plain"),
    pytest.param("hessian", {**MNIST, "reg": "hessian", "lam": 0.1},
                 "853e1ed7e17b6a561dc393052c7d119cd41b2391b68327fcd38b8bf99d763360",
                 id="hessian"),
    pytest.param("pgd-at", {**MNIST, "reg": "pgd-at", "lam": 0.5, "at_steps": 2},
                 "48b4043e3984a29e5363ccaa28074315e2ef30f1a0ff9e6a8b90fbc07f8b3c50",
                 id="pgd-at"),
    pytest.param("jv-gru", {**JV, "cell": "gru"},
                 "f9a7b39d0fadeac0a365065857dea8559c055184c5547ef4d7cd47080ae46c25",
                 id="jv-gru"),
    pytest.param(
        "jv-hessian", {**JV, "reg": "hessian", "lam": 0.1},
        "92d242531ae262b043889cb4a6e8477b1edd7844ba46ac30f7fa615c501a5048",
        id="jv-hessian"),
]
