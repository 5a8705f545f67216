import gzip
import json
import os
import shutil

import numpy as np
import pytest

from seqrobust.data import IDXError, load_mnist
from seqrobust.data import fetch as fetch_mod
from seqrobust.data import mnist as mnist_mod
from seqrobust.data._idx import encode_idx
from seqrobust.data._integrity import forget_verified
from seqrobust.data.fetch import fetch_mnist, mnist_dir
from seqrobust.data.mnist import SUBSET_DIR

SUBSET_SUMS = json.loads((SUBSET_DIR / "SHA256SUMS.json").read_text())
SUBSET_SIZES = {s: len(gzip.decompress((SUBSET_DIR / f"{s}.gz").read_bytes())) for s in SUBSET_SUMS}
QUIET = {"mirrors": (), "use_npm": False, "log": lambda _: None}


@pytest.fixture()
def subset_as_mnist(monkeypatch):
    """Pretend the shipped subset is MNIST: its checksums and sizes are the published ones."""
    monkeypatch.setattr(fetch_mod, "MNIST_SHA256", SUBSET_SUMS)
    monkeypatch.setattr(fetch_mod, "MNIST_SIZES", SUBSET_SIZES)


def _flip_byte(path, at=-1):
    """Flip one data byte in place (raw) or inside the gzip stream (``.gz``); the file's
    mtime moves on a second, as for any later write."""
    st = path.stat()
    gz = path.suffix == ".gz"
    data = bytearray(gzip.decompress(path.read_bytes()) if gz else path.read_bytes())
    data[at] ^= 0x01
    with open(path, "r+b") as fh:  # in place: same inode, same size
        fh.write(gzip.compress(bytes(data), mtime=0) if gz else bytes(data))
        fh.truncate()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


def test_units_are_explicit():
    data = load_mnist("subset", split="test", limit=3)
    assert data.bounds == (0.0, 1.0) and data.eps_unit == "pixel (0-255)"
    assert data.eps_scale == 1.0 / 255.0


@pytest.mark.parametrize("stem", ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"])
def test_flipped_byte_in_cache_is_refused_then_refetch_repairs(subset_as_mnist, stem):
    fetch_mnist(source_dir=SUBSET_DIR, **QUIET)
    reference = load_mnist("subset", split="test")
    cached = load_mnist(split="test")  # verified and remembered
    np.testing.assert_array_equal(cached.inputs.numpy(), reference.inputs.numpy())
    _flip_byte(mnist_dir() / stem)
    with pytest.raises(IDXError) as info:
        load_mnist(split="test", limit=5)  # a limit does not skip the check
    message = str(info.value)
    assert message.startswith(f"{mnist_dir() / stem}: SHA-256 mismatch") and "\n" not in message
    assert message.endswith("re-fetch it with `seqrobust data fetch mnist`")
    assert fetch_mnist(source_dir=SUBSET_DIR, **QUIET).source.startswith("local folder")
    repaired = load_mnist(split="test")
    np.testing.assert_array_equal(repaired.labels.numpy(), reference.labels.numpy())
    np.testing.assert_array_equal(repaired.inputs.numpy(), reference.inputs.numpy())


def test_flipped_byte_seen_by_a_fresh_process(subset_as_mnist):
    fetch_mnist(source_dir=SUBSET_DIR, **QUIET)
    load_mnist(split="train", limit=1)
    path = mnist_dir() / "train-images-idx3-ubyte"
    with open(path, "r+b") as fh:  # no mtime help: a corruption the timestamps may not show
        fh.seek(5000)
        byte = fh.read(1)
        fh.seek(5000)
        fh.write(bytes([byte[0] ^ 0x80]))
    forget_verified()  # what a new process starts with
    with pytest.raises(IDXError, match="train-images-idx3-ubyte: SHA-256 mismatch"):
        load_mnist(split="train")


def test_full_size_files_in_a_user_folder_are_verified(subset_as_mnist, tmp_path, monkeypatch):
    folder = tmp_path / "mine"
    shutil.copytree(SUBSET_DIR, folder)
    assert len(load_mnist(folder, split="test")) == 500
    _flip_byte(folder / "t10k-labels-idx1-ubyte.gz")
    with pytest.raises(IDXError, match=r"t10k-labels-idx1-ubyte.gz: SHA-256 mismatch .*good copy"):
        load_mnist(folder, split="test")
    # files of another size under MNIST's names (not the published files) are not checked
    monkeypatch.setattr(fetch_mod, "MNIST_SIZES", {s: 1 for s in SUBSET_SUMS})
    assert len(load_mnist(folder, split="test")) == 500


def test_damaged_shipped_subset_is_refused(tmp_path, monkeypatch):
    copy = tmp_path / "subset"
    shutil.copytree(SUBSET_DIR, copy)
    _flip_byte(copy / "train-labels-idx1-ubyte.gz")
    monkeypatch.setattr(mnist_mod, "SUBSET_DIR", copy)
    with pytest.raises(IDXError, match="train-labels-idx1-ubyte.gz: SHA-256 .*reinstall seqrobust"):
        load_mnist("subset", split="train")
    assert len(load_mnist("subset", split="test")) == 500  # the undamaged split still loads


@pytest.mark.parametrize("folder_kind", ["folder", "cache"])
def test_empty_idx_files_are_refused(tmp_path, folder_kind, monkeypatch):
    folder = tmp_path / "empty" if folder_kind == "folder" else mnist_dir()
    folder.mkdir(parents=True)
    (folder / "t10k-images-idx3-ubyte").write_bytes(encode_idx(np.zeros((0, 28, 28), np.uint8)))
    (folder / "t10k-labels-idx1-ubyte").write_bytes(encode_idx(np.zeros((0,), np.uint8)))
    empty = {s: fetch_mod.sha256_of((folder / s).read_bytes()) for s in os.listdir(folder)}
    monkeypatch.setattr(fetch_mod, "MNIST_SHA256", {**fetch_mod.MNIST_SHA256, **empty})
    root = folder if folder_kind == "folder" else None
    with pytest.raises(IDXError, match=r"t10k-images-idx3-ubyte: holds 0 examples; ") as info:
        load_mnist(root, split="test")
    assert "\n" not in str(info.value)
