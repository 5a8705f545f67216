"""Checksums verified on every load, hashing each file version at most once per process.

A file version is its resolved path, size, mtime, ctime and inode. Any write to a file sets
its ctime, so a file changed after it was verified is hashed again on its next load. (A write
within the same filesystem-timestamp tick as the verification itself is only seen by the next
process.) Hashing all of MNIST takes some 40 ms, a tenth of reading and unzipping it.
"""

from __future__ import annotations

from pathlib import Path

from seqrobust.data._idx import IDXError, read_bytes
from seqrobust.data.fetch import sha256_of

_Version = tuple[str, int, int, int, int]
_VERIFIED: dict[_Version, str] = {}


def _version(path: Path) -> _Version | None:
    try:
        st = path.stat()
        return (str(path.resolve()), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
    except OSError:
        return None


def read_verified(
    path: Path, expected: str | None, *, fix: str, only_size: int | None = None
) -> bytes:
    """Read ``path`` (raw or gzipped) and check the SHA-256 of its uncompressed contents.

    Args:
        path: the file to read.
        expected: the hex SHA-256 the uncompressed contents must have; ``None`` skips the check.
        fix: what to tell the user to do on a mismatch (ends the error message).
        only_size: check only when the uncompressed contents are this many bytes long (so a
            folder may hold other, smaller files under the same name); ``None`` always checks.

    Returns:
        The uncompressed contents.

    Raises:
        IDXError: on a missing or unreadable file, or a SHA-256 mismatch (one line naming the
            file and ``fix``).
    """
    before = _version(path)
    data = read_bytes(path)
    if expected is None or (only_size is not None and len(data) != only_size):
        return data
    unchanged = before is not None and _version(path) == before
    if unchanged and before is not None and _VERIFIED.get(before) == expected:
        return data
    actual = sha256_of(data)
    if actual != expected:
        raise IDXError(
            f"{path}: SHA-256 mismatch (expected {expected[:16]}..., got {actual[:16]}...); {fix}"
        )
    if unchanged and before is not None:
        _VERIFIED[before] = expected
    return data


def forget_verified() -> None:
    """Forget which file versions were verified (the next load of each file hashes it)."""
    _VERIFIED.clear()
