"""Datasets by name, so every command can take ``--dataset NAME``."""

from __future__ import annotations

from pathlib import Path

from seqrobust.data.dataset import SequenceData
from seqrobust.data.mnist import MNISTView, Split, load_mnist
from seqrobust.data.timeseries import aeon_datasets, load_aeon

MNIST_DATASETS = ("mnist", "mnist-pixels", "mnist-subset", "mnist-subset-pixels")
DATASETS = MNIST_DATASETS  # kept for backwards compatibility; see available_datasets()


def available_datasets() -> tuple[str, ...]:
    """Every name :func:`load_dataset` accepts: the MNIST views, then aeon's shipped sets."""
    return MNIST_DATASETS + aeon_datasets()


def check_dataset(name: str) -> None:
    """Raise a one-line ``ValueError`` listing the available names if ``name`` is unknown."""
    if name not in MNIST_DATASETS and name not in aeon_datasets():
        raise ValueError(
            f"unknown dataset {name!r}; choose one of {', '.join(available_datasets())}"
            + ("" if aeon_datasets() else " (install seqrobust[timeseries] for aeon's sets)")
        )


def load_dataset(
    name: str, *, split: Split, root: str | Path | None = None, limit: int | None = None
) -> SequenceData:
    """Load dataset ``name`` for ``split``.

    ``mnist`` reads image rows as steps (28 x 28), ``mnist-pixels`` pixel by pixel (784 x 1);
    the ``-subset`` variants use the small subset shipped with the package (no fetch needed).
    Any other name is a classification dataset shipped with aeon (e.g. ``JapaneseVowels``,
    ``BasicMotions``, ``GunPoint``, ``ItalyPowerDemand``), standardised with training statistics.

    Raises:
        ValueError: on an unknown name (the message lists the available ones).
    """
    check_dataset(name)
    if name in MNIST_DATASETS:
        view: MNISTView = "pixels" if name.endswith("-pixels") else "rows"
        folder = "subset" if "subset" in name else root
        return load_mnist(folder, split=split, view=view, limit=limit)
    if limit is not None and limit <= 0:
        raise ValueError(f"limit must be positive, got {limit}")
    return load_aeon(name, split=split, limit=limit)
