"""One writer per run folder: ``RUN/.lock``, held with ``flock`` and naming its holder.

The lock file records the holder's PID and host for the error message. The kernel releases
the ``flock`` when the holder dies (however it dies), so a lock file left by a dead process is
stale by construction and is simply taken over; a live holder on the same host is refused. On
systems without ``fcntl`` a lock file whose PID is dead on this host counts as stale.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None  # type: ignore[assignment]

LOCK = ".lock"


def _holder(path: Path) -> tuple[int | None, str]:
    try:
        record = json.loads(path.read_text())
        return int(record["pid"]), str(record["host"])
    except (OSError, ValueError, KeyError, TypeError):
        return None, "?"


def _alive(pid: int | None) -> bool:
    if pid is None:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _refuse(folder: Path, path: Path) -> ValueError:
    pid, host = _holder(path)
    return ValueError(f"{folder} is being written by process {pid} on {host} ({path}); wait "
                      "for it to finish (or delete the lock if that process is gone)")


@contextmanager
def run_lock(folder: str | Path) -> Iterator[None]:
    """Hold ``folder/.lock`` for the duration of the block (``folder`` must exist).

    Raises:
        ValueError: if another live process holds it.
    """
    folder = Path(folder)
    path = folder / LOCK
    if path.is_symlink():
        raise ValueError(f"{path}: is a symlink; refusing to use it as a lock (remove it)")
    me = json.dumps({"pid": os.getpid(), "host": socket.gethostname()}) + "\n"
    while True:
        if fcntl is None:  # pragma: no cover - not POSIX
            pid, host = _holder(path)
            if path.exists() and (host != socket.gethostname() or _alive(pid)):
                raise _refuse(folder, path)
            path.unlink(missing_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise _refuse(folder, path) from None
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:  # not removed by the previous holder between our open and flock
            break
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, me.encode())
        yield
    finally:
        path.unlink(missing_ok=True)
        os.close(fd)
