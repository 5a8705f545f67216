"""Reader and writer for the IDX format used by MNIST (optionally gzipped).

Every problem with a file becomes a one-line :class:`IDXError` naming the file.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

_DTYPES = {0x08: np.dtype(np.uint8)}
_GZIP_MAGIC = b"\x1f\x8b"


class IDXError(ValueError):
    """A malformed, truncated or mismatched IDX file."""


def read_bytes(path: str | Path) -> bytes:
    """Return the (decompressed, when gzipped) contents of ``path``.

    Raises:
        IDXError: if the file is missing or is a corrupt gzip stream.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise IDXError(f"{path}: file not found") from None
    except OSError as exc:
        raise IDXError(f"{path}: cannot read file ({exc.strerror})") from None
    if raw[:2] == _GZIP_MAGIC:
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise IDXError(f"{path}: corrupt or truncated gzip data ({exc})") from None
    return raw


def parse_idx(data: bytes, *, ndim: int, name: str = "<bytes>") -> np.ndarray:
    """Parse IDX ``data`` holding an unsigned-byte array of rank ``ndim``.

    Args:
        data: the uncompressed file contents.
        ndim: the expected number of dimensions (3 for images, 1 for labels).
        name: how to refer to the data in error messages.

    Returns:
        A read-only ``uint8`` array of the stored shape.

    Raises:
        IDXError: on a wrong magic number, dtype, rank, or size.
    """
    if len(data) < 4:
        raise IDXError(f"{name}: too short to be an IDX file ({len(data)} bytes)")
    if data[0] != 0 or data[1] != 0:
        raise IDXError(f"{name}: wrong magic number {data[:4].hex()} (not an IDX file)")
    code, rank = data[2], data[3]
    if code not in _DTYPES:
        raise IDXError(f"{name}: unsupported IDX data type 0x{code:02x} (expected 0x08, ubyte)")
    if rank != ndim:
        raise IDXError(f"{name}: has {rank} dimensions, expected {ndim}")
    header = 4 + 4 * rank
    if len(data) < header:
        raise IDXError(f"{name}: truncated header")
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(rank))
    expected = int(np.prod(shape, dtype=np.int64)) * _DTYPES[code].itemsize
    found = len(data) - header
    if found < expected:
        raise IDXError(
            f"{name}: truncated: shape {shape} needs {expected} data bytes, found {found}"
        )
    if found > expected:
        raise IDXError(f"{name}: {found - expected} unexpected bytes after the data")
    return np.frombuffer(data, dtype=_DTYPES[code], offset=header).reshape(shape)


def read_idx(path: str | Path, *, ndim: int) -> np.ndarray:
    """Read an IDX file (raw or gzipped) of rank ``ndim``; see :func:`parse_idx`."""
    return parse_idx(read_bytes(path), ndim=ndim, name=str(path))


def encode_idx(array: np.ndarray) -> bytes:
    """Encode a ``uint8`` array as IDX bytes (the inverse of :func:`parse_idx`)."""
    if array.dtype != np.uint8:
        raise ValueError(f"only uint8 arrays can be written as IDX, got {array.dtype}")
    header = bytes([0, 0, 0x08, array.ndim])
    header += b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    return header + np.ascontiguousarray(array).tobytes()
