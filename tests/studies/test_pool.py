"""Worker processes: results of every task, and no orphans once the study is killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from seqrobust.studies.pool import run_tasks


def _square(x: int, progress: bool) -> int:
    return x * x


def test_one_worker_returns_every_result_in_order() -> None:
    assert run_tasks(_square, [(i,) for i in range(5)], progress=False) == [0, 1, 4, 9, 16]


@pytest.mark.parametrize("workers", [0, -1, 1.5, True])
def test_bad_workers_are_refused(workers: object) -> None:
    with pytest.raises(ValueError, match="workers must be a positive integer"):
        run_tasks(_square, [(1,)], workers=workers, progress=False)  # type: ignore[arg-type]


def _alive(pid: int) -> bool:
    """Running (a zombie left unreaped by a container's init has exited)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    return not (status.exists() and "\nState:\tZ" in status.read_text())


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_workers_exit_when_the_study_is_killed(tmp_path: Path) -> None:
    """SIGKILL the parent while two workers are mid-task: both are gone soon after (before,
    they computed on until their task ended and kept its run folder locked)."""
    pids = tmp_path / "pids"
    pids.mkdir()
    script = tmp_path / "study.py"
    script.write_text(textwrap.dedent(f"""
        import os, time
        from pathlib import Path
        from seqrobust.studies.pool import run_tasks

        def task(i, progress):
            Path({str(pids)!r}, str(os.getpid())).touch()
            time.sleep(600)

        if __name__ == "__main__":
            run_tasks(task, [(0,), (1,)], workers=2, progress=False)
    """))
    parent = subprocess.Popen([sys.executable, str(script)])
    try:
        deadline = time.monotonic() + 120
        while len(list(pids.iterdir())) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        workers = [int(p.name) for p in pids.iterdir()]
        assert len(workers) == 2 and all(_alive(w) for w in workers)
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 60
        while any(_alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(_alive(w) for w in workers)
    finally:
        parent.kill()
        for p in pids.iterdir():
            if _alive(int(p.name)):
                os.kill(int(p.name), signal.SIGKILL)
