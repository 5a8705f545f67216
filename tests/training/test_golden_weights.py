"""Golden weights: the same config trains to bit-identical weights across refactors.

The SHA-256 values were computed with the code *before* the training loop was split into
``fit``/``engine``/``runfolder`` (commit 154ac00), one thread, on CPU, one per ATen CPU
capability (AVX2 and AVX512 kernels round differently; see ``training_cases.GOLDEN``). A
running study trains with that code; a change here means its results would change too. Do not
update a digest unless a behaviour change is intended and announced.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from training_cases import GOLDEN, golden_digest, weights_digest

from seqrobust.training import TrainConfig, train


@pytest.mark.parametrize(("name", "options", "digests"), GOLDEN)
def test_weights_are_bit_identical_to_the_recorded_code(
    name: str, options: dict[str, object], digests: dict[str, str], tmp_path: Path,
    one_thread: None
) -> None:
    expected = golden_digest(digests)
    train(TrainConfig(**options), tmp_path / name, progress=False)  # type: ignore[arg-type]
    assert weights_digest(tmp_path / name) == expected
