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
"""The final weights of ``old-finished`` (one thread, on an AMD EPYC with AVX512)."""
RESUMED_DIGESTS = {
    "AuthenticAMD/AVX512": OLD_DIGEST,
    "GenuineIntel/AVX512": "910724038bc7b2b9cbec11397cc02f9b37ef51666d0fa8c8f4159ffdf5b8acf0",
    "GenuineIntel/AVX2": "48847959072aeba2ca562490d7a16224722f80519e63f24b7324824b816a11ad",
    "GenuineIntel/DEFAULT": "a9ee4b990edb87c7dd156acb700e108f16f00ef6698817bd624227924f02c7d4",
}
"""The final weights of ``old-killed`` resumed (one thread), per :func:`cpu_fingerprint`: on
the machine that wrote the folders, those of ``old-finished``."""
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
_GOLDEN_DIGESTS = {  # name: {cpu_fingerprint(): digest}, from the code before the split
    "plain": {
        "AuthenticAMD/AVX2": "4e02d73320c904c7dcd178e99e0957ba21860be7b828fe828911279d06d895c3",
        "AuthenticAMD/AVX512": "0aba2b5df0b905b828ba4223c9b9115a2563677cd4b2b348d7730638e5a82586",
        "AuthenticAMD/DEFAULT": "dc62f0a94c165f96d4bbdd3bfc95db1a29471ed1384f3d327afdc465f989b9e8",
        "GenuineIntel/AVX512": "3e5bba6d533d19b22f21eb3727a898603319b55fa5866d5bebc6f049bde3dfa7",
        "GenuineIntel/AVX2": "1dab2204841993bcd5ea16ac24582550894b0a5128f2a5d741773e8d174a5fd2",
        "GenuineIntel/DEFAULT": "015248c0446806d152e39f7190c6a7ad8d288d74444831ee0dd6688c93fcda57",
    },
    "hessian": {
        "AuthenticAMD/AVX2": "853e1ed7e17b6a561dc393052c7d119cd41b2391b68327fcd38b8bf99d763360",
        "AuthenticAMD/AVX512": "370c94227ec4c5e966e27bdd14740e80270ad6355803c0ddd006c3d5f907c630",
        "AuthenticAMD/DEFAULT": "f3f4060766586abf33814c2f8bc44a099d37e76398cbb3de36fcf85f4fa93dc4",
        "GenuineIntel/AVX512": "146d92355a0e6de226325c9961e5a9ef80a335feee2c5b9ee696f80a570e8f7a",
        "GenuineIntel/AVX2": "f05842e355bf707bc4f4bc20aa6fbf9ea5380be3e94b23c9636edb21ed18cf8e",
        "GenuineIntel/DEFAULT": "e54bb231ff4172ac66ad5da3ed468f832eee20864f956875c35d83abf6302163",
    },
    "pgd-at": {
        "AuthenticAMD/AVX2": "48b4043e3984a29e5363ccaa28074315e2ef30f1a0ff9e6a8b90fbc07f8b3c50",
        "AuthenticAMD/AVX512": "622ca6cb81b0b2269dda9c99a420b504423d9728b71d63b813dbaa109529feab",
        "AuthenticAMD/DEFAULT": "072f931ff40a02f72591455492bf065f09a99c568f283984a530f28f524aa282",
        "GenuineIntel/AVX512": "62dfc847dfccefd397ef38127968531e8779f5aea9650b20dae35ec55cb3d7d6",
        "GenuineIntel/AVX2": "2ffef4598a449826f84035283940af3756a59e8ac32994586e7305e26b826ec1",
        "GenuineIntel/DEFAULT": "bb56905c6abbaca391bbbee4c9daef00389fb4cbd63b3425574b0b44035b3156",
    },
    "jv-gru": {
        "AuthenticAMD/AVX2": "f9a7b39d0fadeac0a365065857dea8559c055184c5547ef4d7cd47080ae46c25",
        "AuthenticAMD/AVX512": "8d3f6550c792cea36a71216528ac260636b19a297587d23f1d7c7640c27520b6",
        "AuthenticAMD/DEFAULT": "55a0af026b820c6ec835832e7976f993dfeb6700317713ca128815d4192a9024",
        "GenuineIntel/AVX512": "479246fa798edf64d3b2981fcea78a98eb8aab4ee7f74b0d663a8c1c43ad2aef",
        "GenuineIntel/AVX2": "335bb9f3f866ea50deb37458a180d0fe40f57f1649a94bd5a2781c2bcabdfd29",
        "GenuineIntel/DEFAULT": "de39bbe4aea9c986932178899c26506cfd391616a6b6e94aff402b1131337cb2",
    },
    "jv-hessian": {
        "AuthenticAMD/AVX2": "92d242531ae262b043889cb4a6e8477b1edd7844ba46ac30f7fa615c501a5048",
        "AuthenticAMD/AVX512": "ad173f9579b7bd51c58522cba5f1d62cd0300874deb5aa470acd09275e2e5761",
        "AuthenticAMD/DEFAULT": "b1fc5880fa4299d08c58b9695d3fe2119ef9e7a2c85007262666a5716a0eae2c",
        "GenuineIntel/AVX512": "0cea59fdfe39c9d7f1b372f0ee695c6fdbb6144478ca60db18b5bfc6d8284435",
        "GenuineIntel/AVX2": "f74ea0971668942f83f154d06c18bb5a90cddab31184087dfe53de645213f9b1",
        "GenuineIntel/DEFAULT": "d0015267a270e029e371491730bbb374afe8a8c1f6332fdb43298d62f25553ac",
    },
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
"""Per CPU fingerprint (vendor and ATen CPU capability, :func:`cpu_fingerprint`): the AVX2 and
AVX512 kernels round differently, and so do MKL's code paths on AMD and Intel at the same
capability, so each pair has its own digest. The AMD ones were computed with commit 154ac00 on
an AMD EPYC (torch 2.13.0+cpu, one thread), the AVX2 and DEFAULT ones under
``ATEN_CPU_CAPABILITY=avx2`` / ``default``, and the AVX2 ones equal the digests first recorded
on an AVX2 machine; the Intel ones (a Xeon with AVX512, same torch and MKL 2024.2) were
computed with the current code, which gives the AMD digests on the AMD machine, and equal the
ones the CI's Intel machines gave."""


def cpu_fingerprint() -> str:
    """``VENDOR/CAPABILITY`` of this machine, e.g. ``GenuineIntel/AVX512``."""
    vendor = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("vendor_id"):
                vendor = line.split(":", 1)[1].strip()
                break
    return f"{vendor}/{torch.backends.cpu.get_cpu_capability()}"


def golden_digest(digests: dict[str, str]) -> str:
    """The digest for this machine's :func:`cpu_fingerprint` (skips where none was recorded)."""
    fingerprint = cpu_fingerprint()
    if fingerprint not in digests:
        pytest.skip(f"no golden digest recorded for CPU {fingerprint} (recorded: "
                    f"{', '.join(sorted(digests))}); try ATEN_CPU_CAPABILITY=default")
    return digests[fingerprint]
