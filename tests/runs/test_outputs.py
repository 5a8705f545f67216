"""The write helpers of the services: refusals before any work, CSV appends, record
comparison and the hash of the data as loaded."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from seqrobust.data import load_dataset
from seqrobust.runs.outputs import (
    append_csv,
    check_targets,
    data_hash,
    describe,
    differences,
    save_figures,
)


@pytest.mark.parametrize(("name", "message"), [
    ("../x.csv", "must be relative and inside the folder"),
    ("/tmp/x.csv", "must be relative and inside the folder"),
    ("link", "is a symlink; refusing to write through it"),
    ("sub/x.csv", "resolves outside"),
    ("dir", "is not a regular file"),
])
def test_check_targets_refuses_escapes(tmp_path: Path, name: str, message: str) -> None:
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    (out / "dir").mkdir(parents=True)
    elsewhere.mkdir()
    (out / "link").symlink_to(elsewhere / "x")
    (out / "sub").symlink_to(elsewhere)
    check_targets(out, "fine.csv", "new/fine.csv")
    with pytest.raises(ValueError, match=message):
        check_targets(out, name)
    assert not any(elsewhere.iterdir())


def test_append_csv_writes_the_header_once(tmp_path: Path) -> None:
    append_csv(tmp_path, "t.csv", ["a", "b"], [[1, 2]])
    append_csv(tmp_path, "t.csv", ["a", "b"], [[3, 4], [5, 6]])
    assert (tmp_path / "t.csv").read_text().splitlines() == ["a,b", "1,2", "3,4", "5,6"]


def test_save_figures_copies_what_was_drawn(tmp_path: Path) -> None:
    def draw(folder: Path) -> None:
        (folder / "one.png").write_bytes(b"1")
        (folder / "two.png").write_bytes(b"2")

    written = save_figures(tmp_path, draw)
    assert [p.name for p in written] == ["one.png", "two.png"]
    assert (tmp_path / "two.png").read_bytes() == b"2"


def test_differences_name_nested_fields() -> None:
    a = {"n": 1, "p": {"w": "aa", "d": "x"}, "device": "cpu"}
    b = {"n": 1, "p": {"w": "bb", "d": "x"}, "device": "cuda", "extra": 2}
    diff = differences(a, b, ignore=("device",))
    assert diff == [("extra", None, 2), ("p.w", "aa", "bb")]
    assert describe(diff) == "extra: None vs 2, p.w"
    assert describe([("h", "0" * 64, "1" * 64)]) == f"h: '{'0' * 16}…' vs '{'1' * 16}…'"


def test_data_hash_changes_with_any_value() -> None:
    data = load_dataset("mnist-subset", split="test", limit=3)
    assert data_hash(data.subset(slice(0, 3))) == data_hash(data) and len(data_hash(data)) == 64
    inputs = data.inputs.clone()
    inputs[2, 5, 7] += 1e-6
    labels = data.labels.clone()
    labels[0] = (labels[0] + 1) % data.num_classes
    for changed in (replace(data, inputs=inputs), replace(data, labels=labels), data.take(2)):
        assert data_hash(changed) != data_hash(data)
