"""Files a user would bring: a model file with two factories, its safetensors weights and an
npz of padded variable-length sequences (imported by name; not a conftest)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

MODEL_FILE = '''
import torch
from torch import nn


class LastStepLSTM(nn.Module):
    """x only: reads every step it is given, padding included."""

    def __init__(self, features=3, classes=3, hidden=8):
        super().__init__()
        self.lstm = nn.LSTM(features, hidden, batch_first=True)
        self.head = nn.Linear(hidden, classes)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out[:, -1])


class PackedGRU(nn.Module):
    """(x, lengths): packs its batch, so padding never reaches the GRU."""

    def __init__(self, features=3, classes=3, hidden=8):
        super().__init__()
        self.gru = nn.GRU(features, hidden, batch_first=True)
        self.head = nn.Linear(hidden, classes)

    def forward(self, x, lengths):
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths.cpu(), batch_first=True,
                                                   enforce_sorted=False)
        _, h = self.gru(packed)
        return self.head(h[-1])


class Anonymous(PackedGRU):
    """(x, n): a second parameter no signature rule recognises as lengths."""

    def forward(self, x, n):
        return super().forward(x, n)


def make_lstm(features=3, classes=3, hidden=8):
    return LastStepLSTM(features, classes, hidden)


def make_packed(features=3, classes=3, hidden=8):
    return PackedGRU(features, classes, hidden)


def make_anonymous(features=3, classes=3, hidden=8):
    return Anonymous(features, classes, hidden)


def broken():
    raise RuntimeError("the factory is broken")


def not_a_module():
    return [1, 2, 3]


NOT_CALLABLE = 3
'''

N, T, F, CLASSES = 12, 6, 3, 3


@dataclass(frozen=True)
class Files:
    """What :func:`write_files` wrote."""

    root: Path
    model: Path
    lstm_weights: Path
    packed_weights: Path
    data: Path
    lstm: torch.nn.Module
    packed: torch.nn.Module
    x: np.ndarray
    y: np.ndarray
    lengths: np.ndarray


def load_file_module(path: Path) -> object:
    """The user's model file imported the plain way, to build the reference models."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("user_models_reference", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_files(root: Path) -> Files:
    """The model file, weights of one seeded model per factory, and an npz whose labels are
    the packed model's predictions except for three (so both models get some right)."""
    root.mkdir(parents=True, exist_ok=True)
    model = root / "user_models.py"
    model.write_text(MODEL_FILE)
    module = load_file_module(model)
    torch.manual_seed(1)
    lstm = module.make_lstm().eval()  # type: ignore[attr-defined]
    packed = module.make_packed().eval()  # type: ignore[attr-defined]
    gen = np.random.default_rng(0)
    lengths = gen.integers(3, T + 1, size=N)
    lengths[0] = T
    x = gen.normal(size=(N, T, F)).astype(np.float32)
    for i, length in enumerate(lengths):
        x[i, length:] = 0.0
    with torch.no_grad():
        pred = packed(torch.tensor(x), torch.tensor(lengths)).argmax(1).numpy()
    y = pred.copy()
    y[:3] = (y[:3] + 1) % CLASSES
    files = Files(root, model, root / "lstm.safetensors", root / "packed.safetensors",
                  root / "data.npz", lstm, packed, x, y.astype(np.int64), lengths)
    save_file(lstm.state_dict(), str(files.lstm_weights))
    save_file(packed.state_dict(), str(files.packed_weights))
    np.savez(files.data, x=x, y=files.y, lengths=lengths)
    return files


def model_args(files: Files, factory: str = "make_packed") -> list[str]:
    """The command-line arguments naming the model, its weights and the data."""
    weights = files.packed_weights if "packed" in factory else files.lstm_weights
    return ["--model", f"{files.model}:{factory}", "--weights", str(weights),
            "--data", str(files.data)]
