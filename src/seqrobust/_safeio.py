"""Safe file access inside one folder: atomic writes, appends and reads that never follow a
symlink out of the folder nor write through one.

Every writer of the package goes through these helpers. An atomic write creates
``.NAME.tmp`` next to the target (refusing a symlink there too), writes and fsyncs it, renames
it over ``NAME`` and fsyncs the folder, so a reader (or a process killed at any instant) sees
the old file or the new one, never a mixture. :data:`FAULT_HOOK` is called with a label after
every step; tests replace it to "kill" the process between any two steps.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path


def _no_fault(label: str) -> None:
    """The default :data:`FAULT_HOOK`: does nothing."""


FAULT_HOOK: Callable[[str], None] = _no_fault
"""Called with a label ``"NAME: STEP"`` (``NAME`` relative to the folder written to, e.g.
``"last.json: rename"``) after each open, write, fsync, rename, append and removal; replace it
in tests to simulate a kill at that point."""


def _fault(label: str) -> None:
    FAULT_HOOK(label)


def _lexical(folder: Path, relative: str | Path) -> Path:
    rel = Path(relative)
    if rel.is_absolute() or ".." in rel.parts or not rel.parts:
        raise ValueError(f"{folder}: path {str(relative)!r} must be relative and inside the "
                         "folder (no '..')")
    return folder / rel


def inside(folder: str | Path, relative: str | Path) -> Path:
    """``folder / relative`` for a path read from a record of ``folder``.

    Args:
        folder: the folder the record belongs to.
        relative: a relative path (e.g. a checkpoint's file name from its manifest).

    Returns:
        The joined path (not resolved), which exists or not.

    Raises:
        ValueError: if ``relative`` is absolute, contains ``..``, or resolves (through
            symlinks) outside ``folder``.
    """
    folder = Path(folder)
    path = _lexical(folder, relative)
    if not path.resolve().is_relative_to(folder.resolve()):
        raise ValueError(f"{path}: resolves outside {folder} (through a symlink); remove the link")
    return path


def _target(folder: str | Path, name: str | Path) -> Path:
    """The path to write ``name`` of ``folder`` to; refuses symlinks and escapes."""
    path = _lexical(Path(folder), name)
    if path.is_symlink():
        raise ValueError(f"{path}: is a symlink; refusing to write through it (remove it)")
    inside(folder, name)
    if path.exists() and not path.is_file():
        raise ValueError(f"{path}: is not a regular file; refusing to overwrite it")
    return path


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_bytes_atomic(folder: str | Path, name: str | Path, data: bytes) -> Path:
    """Replace ``folder/name`` by ``data`` atomically (temporary file, fsync, rename, fsync of
    the folder). Missing parent folders inside ``folder`` are created.

    Returns:
        The written path.

    Raises:
        ValueError: if the target or its temporary file is a symlink, not a regular file, or
            outside ``folder``.
    """
    path = _target(folder, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _target(folder, Path(name).with_name(f".{path.name}.tmp"))
    label = str(Path(name))
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
    try:
        _fault(f"{label}: open")
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        _fault(f"{label}: write")
        os.fsync(fd)
    finally:
        os.close(fd)
    _fault(f"{label}: fsync")
    os.replace(tmp, path)
    _fault(f"{label}: rename")
    _fsync_dir(path.parent)
    _fault(f"{label}: fsync-dir")
    return path


def write_text_atomic(folder: str | Path, name: str | Path, text: str) -> Path:
    """:func:`write_bytes_atomic` of ``text`` encoded as UTF-8."""
    return write_bytes_atomic(folder, name, text.encode("utf-8"))


def append_text(folder: str | Path, name: str | Path, text: str) -> Path:
    """Append ``text`` to ``folder/name`` (created if missing) in one write, then fsync.

    Raises:
        ValueError: if the target is a symlink, not a regular file, or outside ``folder``.
    """
    path = _target(folder, name)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o644)
    try:
        view = memoryview(text.encode("utf-8"))
        while view:
            view = view[os.write(fd, view):]
        _fault(f"{Path(name)}: append")
        os.fsync(fd)
    finally:
        os.close(fd)
    _fault(f"{Path(name)}: fsync")
    return path


def remove(folder: str | Path, name: str | Path) -> None:
    """Delete ``folder/name`` if it exists (a symlink is removed itself, never its target).

    Raises:
        ValueError: if ``name`` is not a relative path whose folder lies inside ``folder``.
    """
    folder = Path(folder)
    path = _lexical(folder, name)
    if not path.parent.resolve().is_relative_to(folder.resolve()):
        raise ValueError(f"{path}: resolves outside {folder} (through a symlink); remove the link")
    try:
        path.unlink()
    except FileNotFoundError:
        return
    _fault(f"{Path(name)}: remove")


def read_regular_file(folder: str | Path, name: str | Path) -> bytes:
    """The bytes of ``folder/name``, which must be a regular file inside ``folder``.

    Raises:
        FileNotFoundError: if it does not exist.
        ValueError: if it is a symlink, not a regular file, or outside ``folder``.
    """
    path = _lexical(Path(folder), name)
    if path.is_symlink():
        raise ValueError(f"{path}: is a symlink; refusing to read through it")
    inside(folder, name)
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        raise FileNotFoundError(2, "No such file or directory", str(path)) from None
    if stat.S_ISLNK(mode):
        raise ValueError(f"{path}: is a symlink; refusing to read through it")
    if not stat.S_ISREG(mode):
        raise ValueError(f"{path}: is not a regular file")
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as fh:
        return fh.read()


def read_text(folder: str | Path, name: str | Path) -> str:
    """:func:`read_regular_file` decoded as UTF-8.

    Raises:
        ValueError: as :func:`read_regular_file`, or if the file is not valid UTF-8.
    """
    data = read_regular_file(folder, name)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{Path(folder, name)}: not UTF-8 text (byte {exc.start})") from None
