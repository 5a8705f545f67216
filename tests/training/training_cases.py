"""Shared helpers of the training tests: tiny configs, weight digests, metrics without time."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
import torch
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
_GOLDEN_DIGESTS = {  # name: {ATen CPU capability: digest}, from the code before the split
    "plain": {"AVX2": "4e02d73320c904c7dcd178e99e0957ba21860be7b828fe828911279d06d895c3",
              "AVX512": "0aba2b5df0b905b828ba4223c9b9115a2563677cd4b2b348d7730638e5a82586",
              "DEFAULT": "dc62f0a94c165f96d4bbdd3bfc95db1a29471ed1384f3d327afdc465f989b9e8"},
    "hessian": {"AVX2": "853e1ed7e17b6a561dc393052c7d119cd41b2391b68327fcd38b8bf99d763360",
                "AVX512": "370c94227ec4c5e966e27bdd14740e80270ad6355803c0ddd006c3d5f907c630",
                "DEFAULT": "f3f4060766586abf33814c2f8bc44a099d37e76398cbb3de36fcf85f4fa93dc4"},
    "pgd-at": {"AVX2": "48b4043e3984a29e5363ccaa28074315e2ef30f1a0ff9e6a8b90fbc07f8b3c50",
               "AVX512": "622ca6cb81b0b2269dda9c99a420b504423d9728b71d63b813dbaa109529feab",
               "DEFAULT": "072f931ff40a02f72591455492bf065f09a99c568f283984a530f28f524aa282"},
    "jv-gru": {"AVX2": "f9a7b39d0fadeac0a365065857dea8559c055184c5547ef4d7cd47080ae46c25",
               "AVX512": "8d3f6550c792cea36a71216528ac260636b19a297587d23f1d7c7640c27520b6",
               "DEFAULT": "55a0af026b820c6ec835832e7976f993dfeb6700317713ca128815d4192a9024"},
    "jv-hessian": {"AVX2": "92d242531ae262b043889cb4a6e8477b1edd7844ba46ac30f7fa615c501a5048",
                   "AVX512": "ad173f9579b7bd51c58522cba5f1d62cd0300874deb5aa470acd09275e2e5761",
                   "DEFAULT": "b1fc5880fa4299d08c58b9695d3fe2119ef9e7a2c85007262666a5716a0eae2c"},
}
GOLDEN = [  # the golden configs with the digests of the code before the split
    pytest.param(name, options, _GOLDEN_DIGESTS[name], id=name)
    for name, options in [
        ("plain", MNIST),
        ("hessian", {**MNIST, "reg": "hessian", "lam": 0.1}),
        ("pgd-at", {**MNIST, "reg": "pgd-at", "lam": 0.5, "at_steps": 2}),
        ("jv-gru", {**JV, "cell": "gru"}),
        ("jv-hessian", {**JV, "reg": "hessian", "lam": 0.1}),
    ]
]
"""Per ATen CPU capability (``torch.backends.cpu.get_cpu_capability()``): AVX2 and AVX512
kernels round differently, so each family has its own digest. All were computed with
commit 154ac00 on one machine (AMD EPYC, torch 2.13.0+cpu, one thread), the AVX2 and DEFAULT
ones under ``ATEN_CPU_CAPABILITY=avx2`` / ``default``; the AVX2 ones equal the digests first
recorded on an AVX2 machine, and the current code gives the same bits in all three."""


def golden_digest(digests: dict[str, str]) -> str:
    """The digest for this machine's CPU capability (skips where none was recorded)."""
    capability = torch.backends.cpu.get_cpu_capability()
    if capability not in digests:
        pytest.skip(f"no golden digest recorded for CPU capability {capability}; "
                    f"run with ATEN_CPU_CAPABILITY=default")
    return digests[capability]
