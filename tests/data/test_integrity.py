import gzip
import os

import numpy as np
import pytest

from seqrobust.data import IDXError
from seqrobust.data import _integrity as integrity
from seqrobust.data._idx import encode_idx
from seqrobust.data._integrity import forget_verified, read_verified
from seqrobust.data.fetch import sha256_of

CONTENTS = encode_idx(np.arange(40, dtype=np.uint8).reshape(2, 4, 5))
GOOD = sha256_of(CONTENTS)


def _flip(path, at=20):
    """Flip one byte in place, as a later write would (its mtime moves on a second)."""
    st = path.stat()
    with open(path, "r+b") as fh:
        fh.seek(at)
        byte = fh.read(1)
        fh.seek(at)
        fh.write(bytes([byte[0] ^ 0x01]))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


@pytest.mark.parametrize("gz", [False, True])
def test_good_file_is_returned_uncompressed(tmp_path, gz):
    path = tmp_path / ("a.gz" if gz else "a")
    path.write_bytes(gzip.compress(CONTENTS) if gz else CONTENTS)
    assert read_verified(path, GOOD, fix="refetch") == CONTENTS


def test_mismatch_names_file_and_fix(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(CONTENTS)
    _flip(path)
    with pytest.raises(IDXError) as info:
        read_verified(path, GOOD, fix="re-fetch it with `seqrobust data fetch mnist`")
    message = str(info.value)
    assert message.startswith(f"{path}: SHA-256 mismatch (expected {GOOD[:16]}..., got ")
    assert message.endswith("; re-fetch it with `seqrobust data fetch mnist`")
    assert "\n" not in message


def test_no_checksum_or_other_size_skips_the_check(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(CONTENTS)
    wrong = "0" * 64
    assert read_verified(path, None, fix="x") == CONTENTS
    assert read_verified(path, wrong, fix="x", only_size=len(CONTENTS) + 1) == CONTENTS
    with pytest.raises(IDXError, match="SHA-256 mismatch"):
        read_verified(path, wrong, fix="x", only_size=len(CONTENTS))


def test_missing_file(tmp_path):
    with pytest.raises(IDXError, match="file not found"):
        read_verified(tmp_path / "nope", GOOD, fix="x")


def test_each_file_version_is_hashed_once_per_process(tmp_path, monkeypatch):
    calls: list[int] = []

    def counting(data: bytes) -> str:
        calls.append(len(data))
        return sha256_of(data)

    monkeypatch.setattr(integrity, "sha256_of", counting)
    path = tmp_path / "f"
    path.write_bytes(CONTENTS)
    for _ in range(3):
        assert read_verified(path, GOOD, fix="x") == CONTENTS
    assert len(calls) == 1
    _flip(path)  # a changed file is hashed again, and the change is caught
    with pytest.raises(IDXError, match="SHA-256 mismatch"):
        read_verified(path, GOOD, fix="x")
    assert len(calls) == 2
    _flip(path)  # flipped back: the same bytes, but a new version, so hashed again
    read_verified(path, GOOD, fix="x")
    forget_verified()
    read_verified(path, GOOD, fix="x")
    assert len(calls) == 4
