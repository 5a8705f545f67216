"""``--shard i/n``: parsing, the inputs of each shard, per-input seeds and the merge checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from seqrobust.runs.shards import (
    WHOLE,
    Shard,
    interleave,
    parse_shard,
    read_shards,
    shard_file,
    shard_indices,
    write_shard,
)
from seqrobust.seeds import input_generator, input_normals, input_seeds


@pytest.mark.parametrize(
    ("spec", "expected"),
    [("0/1", Shard(0, 1)), ("3/4", Shard(3, 4)), (" 1 / 2 ", Shard(1, 2)), (None, WHOLE),
     ("", WHOLE)],
)
def test_parse_shard(spec: str | None, expected: Shard) -> None:
    assert parse_shard(spec) == expected


@pytest.mark.parametrize("spec", ["4/4", "1", "a/b", "-1/2", "1/0", "0/0", "1/2/3", "1.0/2"])
def test_parse_shard_rejects_with_one_line(spec: str) -> None:
    with pytest.raises(ValueError, match="bad --shard") as info:
        parse_shard(spec)
    assert "\n" not in str(info.value) and repr(spec) in str(info.value)


@pytest.mark.parametrize("total", [0, 1, 7, 10])
@pytest.mark.parametrize("count", [1, 2, 3, 5, 11])
@pytest.mark.parametrize("block", [1, 3])
def test_shards_partition_the_inputs_in_whole_blocks(total: int, count: int, block: int) -> None:
    parts = [shard_indices(total, Shard(i, count), block=block) for i in range(count)]
    merged = torch.cat(parts)
    assert sorted(merged.tolist()) == list(range(total))  # every input exactly once
    blocks = [len({int(i) // block for i in p}) for p in parts]
    assert max(blocks) - min(blocks) <= 1  # balanced up to one block
    for i, part in enumerate(parts):
        assert part.tolist() == sorted(part.tolist())
        assert all((int(j) // block) % count == i for j in part)
    num_blocks = -(-total // block)
    assert sum(len(p) > 0 for p in parts) == min(count, num_blocks)


def test_a_shard_can_be_empty() -> None:
    assert shard_indices(4, Shard(4, 5)).numel() == 0
    assert shard_indices(7, Shard(3, 4), block=2).tolist() == [6]
    assert shard_indices(7, Shard(2, 4), block=2).tolist() == [4, 5]


def test_per_input_seeds_do_not_depend_on_the_other_inputs() -> None:
    seeds = input_seeds(5, torch.tensor([0, 3, 7]))
    assert seeds.tolist() == [5 * 1_000_003, 5 * 1_000_003 + 3, 5 * 1_000_003 + 7]
    a = torch.randn(4, generator=input_generator(5, 3))
    b = torch.randn(4, generator=torch.Generator().manual_seed(int(seeds[1])))
    assert torch.equal(a, b)
    like = torch.zeros(1, dtype=torch.float64)
    both = input_normals([input_generator(5, 3), input_generator(5, 7)], (2, 3), like=like)
    alone = input_normals([input_generator(5, 7)], (2, 3), like=like)
    assert both.shape == (2, 2, 3) and both.dtype == torch.float64
    assert torch.equal(both[1], alone[0])
    assert input_normals([], (2, 3), like=like).shape == (0, 2, 3)


def _write_all(folder: Path, count: int, total: int, **config: object) -> None:
    for i in range(count):
        idx = shard_indices(total, Shard(i, count))
        write_shard(
            folder, "noise", Shard(i, count),
            config={"total": total, "block": 1, "seed": 0, "device": f"cuda:{i}", **config},
            indices=idx, payload={"values": [10 * int(j) for j in idx]},
        )


def test_read_shards_merges_in_global_order_and_ignores_the_device(tmp_path: Path) -> None:
    _write_all(tmp_path, 3, 8)
    shards = read_shards(tmp_path, "noise")
    assert shards.count == 3 and shards.indices[2] == [2, 5]
    merged = interleave(shards.indices, [p["values"] for p in shards.payloads])
    assert merged == [10 * i for i in range(8)]


def test_missing_shard_is_named(tmp_path: Path) -> None:
    _write_all(tmp_path, 3, 8)
    shard_file(tmp_path, "noise", Shard(1, 3)).unlink()
    with pytest.raises(ValueError, match=r"missing noise shard 1/3 \(noise.shard-1-of-3.json\)"):
        read_shards(tmp_path, "noise")


def test_shards_of_another_config_or_count_are_refused(tmp_path: Path) -> None:
    _write_all(tmp_path, 2, 5)
    path = shard_file(tmp_path, "noise", Shard(1, 2))
    record = json.loads(path.read_text())
    record["config"]["seed"] = 1
    path.write_text(json.dumps(record))
    with pytest.raises(ValueError, match=r"different config .*\(seed: 1 vs 0\); refusing"):
        read_shards(tmp_path, "noise")
    _write_all(tmp_path, 2, 5)
    write_shard(tmp_path, "noise", Shard(0, 3), config={"total": 5}, indices=[0], payload={})
    with pytest.raises(ValueError, match="different N"):
        read_shards(tmp_path, "noise")
    with pytest.raises(ValueError, match="no attack shards"):
        read_shards(tmp_path, "attack")


def test_a_shard_with_the_wrong_inputs_is_refused(tmp_path: Path) -> None:
    _write_all(tmp_path, 2, 6)
    write_shard(
        tmp_path, "noise", Shard(1, 2), config={"total": 6, "block": 1, "seed": 0},
        indices=[1, 3], payload={"values": [10, 30]},
    )
    with pytest.raises(ValueError, match=r"shard 1/2 holds the wrong inputs \(2 instead of 3"):
        read_shards(tmp_path, "noise")
    with pytest.raises(ValueError, match="in two shards"):
        interleave([[0, 1], [1, 2]], [[0, 0], [0, 0]])
