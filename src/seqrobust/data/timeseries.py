"""Real sequence-classification data shipped inside the ``aeon`` wheel (no download).

Speech (JapaneseVowels: 12 LPC cepstral channels, 7-29 steps), motion (BasicMotions:
6-channel accelerometer/gyroscope), univariate series (GunPoint, ItalyPowerDemand) and every
other classification set that aeon ships, by name. Variable-length series are padded with
zeros after their last step and carry their lengths. Two unit systems (``units=``):

- ``"std"`` (default): standardised per channel with the mean and standard deviation of the
  *training* split (real steps only); perturbation sizes are in training-std units.
- ``"raw"``: the values exactly as aeon ships them (UCR series are already z-normalised per
  series), unbounded, perturbation sizes in those raw units: the published UCR protocol. The
  dataset ``name`` ends in ``" (raw)"`` so results in the two systems cannot be confused.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from seqrobust.data.dataset import SequenceData

INSTALL_HINT = "pip install 'seqrobust[timeseries]'"
Units = Literal["std", "raw"]


def _aeon_data_dir() -> Path:
    try:
        import aeon.datasets
    except ImportError:
        raise ValueError(f"time-series datasets need aeon; {INSTALL_HINT}") from None
    return Path(aeon.datasets.__file__).parent / "data"


@functools.cache
def aeon_datasets() -> tuple[str, ...]:
    """Names of the classification datasets shipped inside the installed aeon wheel
    (empty when aeon is not installed)."""
    try:
        root = _aeon_data_dir()
    except ValueError:
        return ()
    return tuple(sorted(p.name for p in root.iterdir() if _is_classification(p)))


def _is_classification(folder: Path) -> bool:
    path = folder / f"{folder.name}_TRAIN.ts"
    if not path.is_file():
        return False
    with open(path, errors="replace") as fh:
        for line in fh:
            low = line.strip().lower()
            if low.startswith("@classlabel"):
                return low.split()[1:2] == ["true"]
            if low.startswith("@data"):
                return False
    return False


def _load_split(name: str, split: str) -> tuple[list[np.ndarray], np.ndarray]:
    from aeon.datasets import load_classification

    x: Any
    x, y = load_classification(name, split=split, extract_path=str(_aeon_data_dir()))
    series = [np.asarray(s, dtype=np.float64) for s in x]  # each (channels, length)
    return series, np.asarray(y).astype(str)


def _label_order(labels: np.ndarray) -> list[str]:
    unique = sorted(set(labels.tolist()))
    try:
        return sorted(unique, key=float)
    except ValueError:
        return unique


def _stats(series: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    flat = np.concatenate([s for s in series], axis=1)  # (channels, total real steps)
    mean, std = flat.mean(axis=1), flat.std(axis=1)
    return mean, np.where(std > 0, std, 1.0)


@functools.cache
def _standardization(name: str) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    series, labels = _load_split(name, "train")
    mean, std = _stats(series)
    return mean, std, tuple(_label_order(labels))


def standardization(name: str) -> dict[str, list[float]]:
    """The per-channel ``mean`` and ``std`` fitted on the training split of ``name``."""
    mean, std, _ = _standardization(name)
    return {"mean": mean.tolist(), "std": std.tolist()}


def load_aeon(
    name: str, *, split: str, limit: int | None = None, units: Units = "std"
) -> SequenceData:
    """Load an aeon-shipped classification dataset as padded sequences.

    Args:
        name: dataset name as aeon spells it (see :func:`aeon_datasets`).
        split: ``"train"`` or ``"test"``.
        limit: keep only the first ``limit`` series.
        units: ``"std"`` standardises with training statistics (perturbation sizes in
            training-std units); ``"raw"`` keeps aeon's values (sizes in raw units).

    Returns:
        Inputs ``(N, T_max, channels)`` float32 (zeros after each series' end), labels
        ``(N,)`` (classes in the training split's sorted order), and ``lengths`` when the
        series differ in length. ``bounds`` is ``None``; ``eps_scale`` is 1 and ``eps_unit``
        ``"training std"`` or ``"raw units"``; ``name`` is ``"{name}-{split}"``, with
        ``" (raw)"`` appended for raw units.

    Raises:
        ValueError: on an unknown name (listing the available ones), a missing aeon, unknown
            ``units``, a ``limit`` below 1, or a test label not seen in training.
    """
    if units not in ("std", "raw"):
        raise ValueError(f"unknown units {units!r}; choose std or raw")
    if limit is not None and limit <= 0:
        raise ValueError(f"limit must be positive, got {limit}")
    available = aeon_datasets()
    if not available:
        raise ValueError(f"time-series datasets need aeon; {INSTALL_HINT}")
    if name not in available:
        raise ValueError(f"unknown aeon dataset {name!r}; shipped: {', '.join(available)}")
    mean, std, classes = _standardization(name)
    if units == "raw":
        mean, std = np.zeros_like(mean), np.ones_like(std)
    series, labels = _load_split(name, split)
    if limit is not None:
        series, labels = series[:limit], labels[:limit]
    if not series:
        raise ValueError(f"{name}: the {split} split holds no series")
    index = {label: i for i, label in enumerate(classes)}
    unseen = sorted(set(labels.tolist()) - set(index))
    if unseen:
        raise ValueError(f"{name}: {split} labels {unseen} do not occur in the training split")
    lengths = np.array([s.shape[1] for s in series])
    steps = int(lengths.max())
    x = np.zeros((len(series), steps, series[0].shape[0]), dtype=np.float32)
    for i, s in enumerate(series):
        x[i, : s.shape[1]] = ((s - mean[:, None]) / std[:, None]).T
    varying = bool((lengths != steps).any())
    return SequenceData(
        inputs=torch.from_numpy(x),
        labels=torch.tensor([index[label] for label in labels], dtype=torch.int64),
        num_classes=len(classes),
        name=f"{name}-{split}" + (" (raw)" if units == "raw" else ""),
        lengths=torch.from_numpy(lengths).to(torch.int64) if varying else None,
        bounds=None,
        eps_scale=1.0,
        eps_unit="raw units" if units == "raw" else "training std",
    )
