"""Small models and data shared by the attack tests (cached per session)."""

from __future__ import annotations

import functools
import tempfile

import torch
from torch import Tensor

from seqrobust.data import load_dataset
from seqrobust.models import RecurrentClassifier
from seqrobust.training import TrainConfig, load_model, train
from seqrobust.types import CellType


def tiny_model(
    *, cell: CellType = "rnn", seed: int = 0, dtype: torch.dtype = torch.float32
) -> RecurrentClassifier:
    """An untrained 1-layer model on ``(B, 6, 5)`` sequences with 4 classes, in eval mode."""
    torch.manual_seed(seed)
    model = RecurrentClassifier(input_size=5, num_classes=4, cell=cell, hidden_size=8, num_layers=1)
    return model.to(dtype).eval()


def tiny_batch(
    n: int = 16, *, seed: int = 0, dtype: torch.dtype = torch.float32
) -> tuple[Tensor, Tensor]:
    """Inputs in ``[0, 1]`` of shape ``(n, 6, 5)`` and labels in ``[0, 4)``."""
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 6, 5, generator=g, dtype=dtype), torch.randint(0, 4, (n,), generator=g)


@functools.lru_cache(maxsize=1)
def trained_mnist_model() -> tuple[RecurrentClassifier, Tensor, Tensor]:
    """A 1-layer hidden-24 RNN trained 3 epochs on the MNIST subset (about 60 % test accuracy),
    with the first 120 test inputs and labels."""
    folder = tempfile.mkdtemp(prefix="seqrobust-attack-tests-")
    cfg = TrainConfig(
        dataset="mnist-subset", layers=1, hidden=24, epochs=3, batch_size=32, lr=5e-3, seed=0,
        device="cpu",
    )
    train(cfg, folder, progress=False)
    model, _ = load_model(folder)
    test = load_dataset("mnist-subset", split="test", limit=120)
    return model, test.inputs, test.labels
