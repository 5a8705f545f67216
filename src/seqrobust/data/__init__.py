"""Datasets as ``(batch, time, features)`` sequences, and verified fetching."""

from seqrobust.data._idx import IDXError as IDXError
from seqrobust.data.dataset import SequenceData as SequenceData
from seqrobust.data.dataset import padding_value as padding_value
from seqrobust.data.fetch import FetchError as FetchError
from seqrobust.data.fetch import fetch_mnist as fetch_mnist
from seqrobust.data.fetch import mnist_dir as mnist_dir
from seqrobust.data.mnist import load_mnist as load_mnist
from seqrobust.data.mnist import pixels_to_unit as pixels_to_unit
from seqrobust.data.mnist import unit_to_pixels as unit_to_pixels
from seqrobust.data.registry import load_dataset as load_dataset
from seqrobust.data.splits import split_validation as split_validation

__all__ = [
    "FetchError",
    "IDXError",
    "SequenceData",
    "fetch_mnist",
    "load_dataset",
    "load_mnist",
    "mnist_dir",
    "padding_value",
    "pixels_to_unit",
    "split_validation",
    "unit_to_pixels",
]
