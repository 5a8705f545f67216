"""Datasets by name, so every command can take ``--dataset NAME``."""

from __future__ import annotations

from pathlib import Path

from seqrobust.data.dataset import SequenceData
from seqrobust.data.mnist import MNISTView, Split, load_mnist
from seqrobust.data.timeseries import Units, aeon_datasets, load_aeon

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
    name: str,
    *,
    split: Split,
    root: str | Path | None = None,
    limit: int | None = None,
    units: Units = "std",
) -> SequenceData:
    """Load dataset ``name`` for ``split``.

    ``mnist`` reads image rows as steps (28 x 28), ``mnist-pixels`` pixel by pixel (784 x 1);
    the ``-subset`` variants use the small subset shipped with the package (no fetch needed).
    MNIST is always in ``[0, 1]`` with perturbation sizes in pixel units.
    Any other name is a classification dataset shipped with aeon (e.g. ``JapaneseVowels``,
    ``BasicMotions``, ``GunPoint``, ``ItalyPowerDemand``): with ``units="std"`` standardised
    with training statistics, with ``units="raw"`` as aeon ships it (see
    :func:`~seqrobust.data.timeseries.load_aeon`).

    Raises:
        ValueError: on an unknown name (the message lists the available ones), unknown
            ``units``, or ``units="raw"`` for MNIST.
    """
    check_dataset(name)
    if units not in ("std", "raw"):
        raise ValueError(f"unknown units {units!r}; choose std or raw")
    if name in MNIST_DATASETS:
        if units != "std":
            raise ValueError(f"units={units!r} applies to aeon datasets only; {name} is in [0, 1]")
        view: MNISTView = "pixels" if name.endswith("-pixels") else "rows"
        folder = "subset" if "subset" in name else root
        return load_mnist(folder, split=split, view=view, limit=limit)
    return load_aeon(name, split=split, limit=limit, units=units)
