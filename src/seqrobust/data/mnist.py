"""MNIST read as a sequence: rows as time steps ``(N, 28, 28)`` or pixel by pixel ``(N, 784, 1)``.

Pixel values are scaled to ``[0, 1]`` ("model units"); the poster quotes perturbation sizes in
pixel units ``0..255``; :func:`pixels_to_unit` and :func:`unit_to_pixels` convert.

Every load verifies the SHA-256 of the files it reads: the fetch cache and the shipped subset
always; a user's folder whenever a file has the size of the published MNIST file.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from seqrobust.data import fetch
from seqrobust.data._idx import IDXError, parse_idx
from seqrobust.data._integrity import read_verified
from seqrobust.data.dataset import SequenceData
from seqrobust.data.fetch import mnist_dir

MNISTView = Literal["rows", "pixels"]
Origin = Literal["subset", "cache", "folder"]  # decides which checksums a file must match
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


@functools.cache
def _subset_sums() -> dict[str, str]:
    sums: dict[str, str] = json.loads((SUBSET_DIR / "SHA256SUMS.json").read_text())
    return sums


def _read(path: Path, origin: Origin, *, ndim: int) -> np.ndarray:
    """Read one IDX file, verified against the checksum its ``origin`` calls for."""
    stem = path.name.removesuffix(".gz")
    only_size = None
    if origin == "subset":
        expected = _subset_sums().get(stem)
        fix = "the subset shipped with seqrobust is damaged; reinstall seqrobust"
    elif origin == "cache":
        expected = fetch.MNIST_SHA256.get(stem)
        fix = "re-fetch it with `seqrobust data fetch mnist`"
    else:
        expected, only_size = fetch.MNIST_SHA256.get(stem), fetch.MNIST_SIZES.get(stem)
        fix = "replace it with a good copy, or run `seqrobust data fetch mnist` and load the cache"
    data = read_verified(path, expected, fix=fix, only_size=only_size)
    array = parse_idx(data, ndim=ndim, name=str(path))
    if array.shape[0] == 0:
        raise IDXError(f"{path}: holds 0 examples; {fix}")
    return array


def _folder(root: str | Path | None) -> tuple[Path, Origin]:
    if root is None:
        return mnist_dir(), "cache"
    if str(root) == "subset":
        return SUBSET_DIR, "subset"
    folder = Path(root).expanduser()
    same_as_cache = folder.resolve() == mnist_dir().resolve()
    return folder, "cache" if same_as_cache else "folder"


def load_mnist(
    root: str | Path | None = None,
    *,
    split: Split = "train",
    view: MNISTView = "rows",
    limit: int | None = None,
) -> SequenceData:
    """Load an MNIST split as sequences, verifying the files' SHA-256 on every load.

    Args:
        root: folder with the IDX files (raw or gzipped). ``None`` means the fetch cache,
            ``"subset"`` the small subset shipped with the package (2,000 train, 500 test).
            Files in the cache and the subset must match their checksums; files in another
            folder must match MNIST's when they have the size of the published MNIST file.
        split: ``"train"`` or ``"test"``.
        view: ``"rows"`` gives ``(N, 28, 28)``; ``"pixels"`` gives ``(N, 784, 1)``.
        limit: keep only the first ``limit`` examples.

    Returns:
        Inputs ``(N, T, F)`` float32 in ``[0, 1]`` and labels ``(N,)`` int64, with
        ``bounds=(0, 1)`` and perturbation sizes in pixel units (``eps_scale=1/255``).

    Raises:
        IDXError: on a missing, malformed, corrupted (SHA-256 mismatch) or empty file, or
            image/label counts that differ.
        ValueError: on a bad ``split``, ``view`` or ``limit``.
    """
    if split not in _STEMS:
        raise ValueError(f"unknown split {split!r}; choose train or test")
    if view not in ("rows", "pixels"):
        raise ValueError(f"unknown MNIST view {view!r}; choose rows or pixels")
    if limit is not None and limit <= 0:
        raise ValueError(f"limit must be positive, got {limit}")
    folder, origin = _folder(root)
    images_path = _path(folder, f"{_STEMS[split]}-images-idx3-ubyte")
    labels_path = _path(folder, f"{_STEMS[split]}-labels-idx1-ubyte")
    images = _read(images_path, origin, ndim=3)
    labels = _read(labels_path, origin, ndim=1)
    if images.shape[0] != labels.shape[0]:
        raise IDXError(
            f"{images_path.name} has {images.shape[0]} images but {labels_path.name} has "
            f"{labels.shape[0]} labels"
        )
    if images.shape[1:] != (28, 28):
        raise IDXError(f"{images_path}: images are {images.shape[1:]}, expected (28, 28)")
    if int(labels.max()) > 9:
        raise IDXError(f"{labels_path}: label {int(labels.max())} outside 0..9")
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    x = torch.from_numpy(images.copy()).to(torch.float32).div_(PIXEL_MAX)
    if view == "pixels":
        x = x.reshape(x.shape[0], 28 * 28, 1)
    y = torch.from_numpy(labels.astype("int64"))
    return SequenceData(
        inputs=x,
        labels=y,
        num_classes=10,
        name=f"mnist-{view}-{split}",
        bounds=(0.0, 1.0),
        eps_scale=1.0 / PIXEL_MAX,
        eps_unit="pixel (0-255)",
    )
