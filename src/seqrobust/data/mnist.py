"""MNIST read as a sequence: rows as time steps ``(N, 28, 28)`` or pixel by pixel ``(N, 784, 1)``.

Pixel values are scaled to ``[0, 1]`` ("model units"); the poster quotes perturbation sizes in
pixel units ``0..255``; :func:`pixels_to_unit` and :func:`unit_to_pixels` convert.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import torch

from seqrobust.data._idx import IDXError, read_idx
from seqrobust.data.dataset import SequenceData
from seqrobust.data.fetch import mnist_dir

MNISTView = Literal["rows", "pixels"]
Split = Literal["train", "test"]
PIXEL_MAX = 255.0
SUBSET_DIR = Path(__file__).parent / "mnist_subset"
_STEMS = {"train": "train", "test": "t10k"}


def pixels_to_unit(eps: float) -> float:
    """Convert a perturbation size from pixel units (0-255) to model units ([0, 1])."""
    return eps / PIXEL_MAX


def unit_to_pixels(eps: float) -> float:
    """Convert a perturbation size from model units ([0, 1]) to pixel units (0-255)."""
    return eps * PIXEL_MAX


def _path(root: Path, stem: str) -> Path:
    for name in (stem, stem + ".gz"):
        if (root / name).is_file():
            return root / name
    raise IDXError(
        f"{root / stem}: not found (run `seqrobust data fetch mnist`, or pass the data folder)"
    )


def load_mnist(
    root: str | Path | None = None,
    *,
    split: Split = "train",
    view: MNISTView = "rows",
    limit: int | None = None,
) -> SequenceData:
    """Load an MNIST split as sequences.

    Args:
        root: folder with the IDX files (raw or gzipped). ``None`` means the fetch cache,
            ``"subset"`` the small subset shipped with the package (2,000 train, 500 test).
        split: ``"train"`` or ``"test"``.
        view: ``"rows"`` gives ``(N, 28, 28)``; ``"pixels"`` gives ``(N, 784, 1)``.
        limit: keep only the first ``limit`` examples.

    Returns:
        Inputs ``(N, T, F)`` float32 in ``[0, 1]`` and labels ``(N,)`` int64.

    Raises:
        IDXError: on a missing or malformed file, or image/label counts that differ.
        ValueError: on a bad ``split``, ``view`` or ``limit``.
    """
    if split not in _STEMS:
        raise ValueError(f"unknown split {split!r}; choose train or test")
    if view not in ("rows", "pixels"):
        raise ValueError(f"unknown MNIST view {view!r}; choose rows or pixels")
    if limit is not None and limit <= 0:
        raise ValueError(f"limit must be positive, got {limit}")
    folder = mnist_dir() if root is None else SUBSET_DIR if str(root) == "subset" else Path(root)
    images_path = _path(folder, f"{_STEMS[split]}-images-idx3-ubyte")
    labels_path = _path(folder, f"{_STEMS[split]}-labels-idx1-ubyte")
    images = read_idx(images_path, ndim=3)
    labels = read_idx(labels_path, ndim=1)
    if images.shape[0] != labels.shape[0]:
        raise IDXError(
            f"{images_path.name} has {images.shape[0]} images but {labels_path.name} has "
            f"{labels.shape[0]} labels"
        )
    if images.shape[1:] != (28, 28):
        raise IDXError(f"{images_path}: images are {images.shape[1:]}, expected (28, 28)")
    if labels.size and int(labels.max()) > 9:
        raise IDXError(f"{labels_path}: label {int(labels.max())} outside 0..9")
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    x = torch.from_numpy(images.copy()).to(torch.float32).div_(PIXEL_MAX)
    if view == "pixels":
        x = x.reshape(x.shape[0], 28 * 28, 1)
    y = torch.from_numpy(labels.astype("int64"))
    return SequenceData(inputs=x, labels=y, num_classes=10, name=f"mnist-{view}-{split}")
