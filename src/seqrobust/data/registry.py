"""Datasets by name, so every command can take ``--dataset NAME``."""

from __future__ import annotations

from pathlib import Path

from seqrobust.data.dataset import SequenceData
from seqrobust.data.mnist import MNISTView, Split, load_mnist

DATASETS = ("mnist", "mnist-pixels", "mnist-subset", "mnist-subset-pixels")


def load_dataset(
    name: str, *, split: Split, root: str | Path | None = None, limit: int | None = None
) -> SequenceData:
    """Load dataset ``name`` (one of :data:`DATASETS`) for ``split``.

    ``mnist`` reads rows as steps, ``mnist-pixels`` pixel by pixel; the ``-subset`` variants use
    the small subset shipped with the package (no fetch needed).

    Raises:
        ValueError: on an unknown name.
    """
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    view: MNISTView = "pixels" if name.endswith("-pixels") else "rows"
    folder = "subset" if "subset" in name else root
    return load_mnist(folder, split=split, view=view, limit=limit)
