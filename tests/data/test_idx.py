import gzip
import json

import numpy as np
import pytest

from seqrobust.data import IDXError, load_mnist
from seqrobust.data._idx import encode_idx, parse_idx, read_idx
from seqrobust.data.fetch import sha256_of
from seqrobust.data.mnist import SUBSET_DIR


def _write(path, array, *, gz=False):
    data = encode_idx(array)
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def test_roundtrip_raw_and_gzip(tmp_path):
    images = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    for gz in (False, True):
        path = _write(tmp_path / f"a{gz}", images, gz=gz)
        np.testing.assert_array_equal(read_idx(path, ndim=3), images)


def test_wrong_magic(tmp_path):
    data = bytearray(encode_idx(np.zeros((3,), dtype=np.uint8)))
    data[0] = 7
    with pytest.raises(IDXError, match="wrong magic"):
        parse_idx(bytes(data), ndim=1, name="labels")


def test_unsupported_dtype_and_rank():
    data = bytearray(encode_idx(np.zeros((3,), dtype=np.uint8)))
    data[2] = 0x0D
    with pytest.raises(IDXError, match="unsupported IDX data type"):
        parse_idx(bytes(data), ndim=1)
    with pytest.raises(IDXError, match="has 1 dimensions, expected 3"):
        parse_idx(encode_idx(np.zeros((3,), dtype=np.uint8)), ndim=3)


def test_truncated_and_trailing(tmp_path):
    data = encode_idx(np.ones((4, 28, 28), dtype=np.uint8))
    with pytest.raises(IDXError, match=r"truncated: shape \(4, 28, 28\) needs 3136 data bytes"):
        parse_idx(data[:-10], ndim=3, name="imgs")
    with pytest.raises(IDXError, match="unexpected bytes"):
        parse_idx(data + b"xx", ndim=3)
    with pytest.raises(IDXError, match="too short"):
        parse_idx(b"\x00", ndim=1)


def test_corrupt_gzip_names_file(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(encode_idx(np.zeros((1, 28, 28), np.uint8)))[:-12])
    with pytest.raises(IDXError, match="train-images-idx3-ubyte.gz: corrupt or truncated gzip"):
        read_idx(path, ndim=3)


def test_count_mismatch(tmp_path):
    _write(tmp_path / "t10k-images-idx3-ubyte", np.zeros((3, 28, 28), np.uint8))
    _write(tmp_path / "t10k-labels-idx1-ubyte", np.zeros((2,), np.uint8))
    with pytest.raises(IDXError, match="has 3 images but t10k-labels-idx1-ubyte has 2 labels"):
        load_mnist(tmp_path, split="test")


def test_missing_file_message(tmp_path):
    with pytest.raises(IDXError, match="not found .*seqrobust data fetch mnist"):
        load_mnist(tmp_path, split="test")


def test_subset_checksums_and_views():
    sums = json.loads((SUBSET_DIR / "SHA256SUMS.json").read_text())
    for stem, expected in sums.items():
        assert sha256_of(gzip.decompress((SUBSET_DIR / f"{stem}.gz").read_bytes())) == expected
    rows = load_mnist("subset", split="train")
    assert rows.inputs.shape == (2000, 28, 28) and rows.labels.shape == (2000,)
    assert float(rows.inputs.min()) == 0.0 and float(rows.inputs.max()) == 1.0
    assert set(rows.labels.tolist()) == set(range(10))
    pixels = load_mnist("subset", split="test", view="pixels", limit=7)
    assert pixels.inputs.shape == (7, 784, 1)
    np.testing.assert_array_equal(
        pixels.inputs.reshape(7, 28, 28).numpy(), load_mnist("subset", split="test").inputs[:7]
    )


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown MNIST view"):
        load_mnist("subset", view="cols")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="limit must be positive"):
        load_mnist("subset", limit=0)
