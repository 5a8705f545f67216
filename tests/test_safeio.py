"""``_safeio``: atomic writes, appends and reads that refuse symlinks and escapes (real links in a
temporary folder)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from seqrobust import _safeio
from seqrobust._safeio import (
    append_text,
    inside,
    read_regular_file,
    read_text,
    remove,
    write_bytes_atomic,
    write_text_atomic,
)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """``run/`` with a file, a link to a file outside, a link to a folder outside and a link
    to a file inside; ``outside/`` next to it."""
    run, outside = tmp_path / "run", tmp_path / "outside"
    run.mkdir()
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    (run / "a.txt").write_text("a")
    (run / "out.txt").symlink_to(outside / "secret.txt")
    (run / "away").symlink_to(outside, target_is_directory=True)
    (run / "alias.txt").symlink_to(run / "a.txt")
    return run


def test_atomic_write_replaces_and_leaves_no_temporary(folder: Path) -> None:
    path = write_text_atomic(folder, "a.txt", "new")
    assert path == folder / "a.txt" and path.read_text() == "new"
    write_bytes_atomic(folder, "sub/b.bin", b"\x00\x01")
    assert (folder / "sub" / "b.bin").read_bytes() == b"\x00\x01"
    assert not [p for p in folder.rglob("*.tmp")]


@pytest.mark.parametrize(("name", "message"), [
    ("out.txt", "out.txt: is a symlink; refusing to write through it"),
    ("alias.txt", "alias.txt: is a symlink; refusing to write through it"),
    ("away/secret.txt", "resolves outside"),
    ("../outside/secret.txt", "must be relative and inside the folder"),
    ("/etc/passwd", "must be relative and inside the folder"),
])
def test_writes_refuse_links_and_escapes(folder: Path, name: str, message: str) -> None:
    for write in (lambda: write_text_atomic(folder, name, "x"),
                  lambda: append_text(folder, name, "x")):
        with pytest.raises(ValueError, match=message):
            write()
    assert (folder.parent / "outside" / "secret.txt").read_text() == "secret"
    assert (folder / "a.txt").read_text() == "a"


def test_a_symlinked_temporary_file_is_refused(folder: Path) -> None:
    (folder / ".c.txt.tmp").symlink_to(folder.parent / "outside" / "secret.txt")
    with pytest.raises(ValueError, match=r"\.c\.txt\.tmp: is a symlink"):
        write_text_atomic(folder, "c.txt", "x")
    assert (folder.parent / "outside" / "secret.txt").read_text() == "secret"


def test_the_folder_itself_may_be_a_link(folder: Path) -> None:
    link = folder.parent / "link-to-run"
    link.symlink_to(folder, target_is_directory=True)
    write_text_atomic(link, "d.txt", "d")
    append_text(link, "d.txt", "e")
    assert (folder / "d.txt").read_text() == "de" and read_text(link, "d.txt") == "de"


def test_append_adds_to_the_end(folder: Path) -> None:
    append_text(folder, "m.jsonl", "1\n")
    append_text(folder, "m.jsonl", "2\n")
    assert (folder / "m.jsonl").read_text() == "1\n2\n"


def test_inside(folder: Path) -> None:
    assert inside(folder, "ckpt/step-1.safetensors") == folder / "ckpt" / "step-1.safetensors"
    assert inside(folder, "alias.txt") == folder / "alias.txt"  # a link that stays inside
    for bad, message in (("..", "no '..'"), ("a/../../x", "no '..'"), ("/tmp/x", "relative"),
                         ("out.txt", "resolves outside"), ("away/secret.txt", "resolves outside"),
                         ("", "must be relative")):
        with pytest.raises(ValueError, match=message):
            inside(folder, bad)


def test_read_regular_file(folder: Path) -> None:
    assert read_regular_file(folder, "a.txt") == b"a"
    with pytest.raises(ValueError, match="alias.txt: is a symlink; refusing to read"):
        read_regular_file(folder, "alias.txt")
    with pytest.raises(ValueError, match="out.txt: is a symlink; refusing to read"):
        read_regular_file(folder, "out.txt")
    with pytest.raises(ValueError, match="resolves outside"):
        read_regular_file(folder, "away/secret.txt")
    (folder / "dir").mkdir()
    with pytest.raises(ValueError, match="dir: is not a regular file"):
        read_regular_file(folder, "dir")
    os.mkfifo(folder / "fifo")
    with pytest.raises(ValueError, match="fifo: is not a regular file"):
        read_regular_file(folder, "fifo")
    with pytest.raises(FileNotFoundError):
        read_regular_file(folder, "missing.txt")
    (folder / "latin.txt").write_bytes(b"\xff")
    with pytest.raises(ValueError, match="not UTF-8 text"):
        read_text(folder, "latin.txt")


def test_remove_deletes_a_link_not_its_target(folder: Path) -> None:
    remove(folder, "out.txt")
    remove(folder, "missing.txt")
    assert not (folder / "out.txt").is_symlink()
    assert (folder.parent / "outside" / "secret.txt").read_text() == "secret"
    with pytest.raises(ValueError, match="resolves outside"):
        remove(folder, "away/secret.txt")


def test_fault_hook_sees_every_step_and_a_kill_keeps_the_old_file(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    labels: list[str] = []
    monkeypatch.setattr(_safeio, "FAULT_HOOK", labels.append)
    write_text_atomic(folder, "a.txt", "b")
    assert labels == ["a.txt: open", "a.txt: write", "a.txt: fsync", "a.txt: rename",
                      "a.txt: fsync-dir"]

    class Killed(BaseException):
        pass

    for point in labels[:3]:  # before the rename: the old content survives
        def kill(label: str, point: str = point) -> None:
            if label == point:
                raise Killed

        monkeypatch.setattr(_safeio, "FAULT_HOOK", kill)
        with pytest.raises(Killed):
            write_text_atomic(folder, "a.txt", "c")
        assert (folder / "a.txt").read_text() == "b"
    monkeypatch.setattr(_safeio, "FAULT_HOOK", _safeio._no_fault)
    write_text_atomic(folder, "a.txt", "c")  # a leftover temporary file is reused
    assert (folder / "a.txt").read_text() == "c" and not (folder / ".a.txt.tmp").exists()
