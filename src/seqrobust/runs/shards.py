"""Sharded evaluation: ``--shard i/n`` jobs and their deterministic merge.

An evaluation over ``N`` inputs (``analyze``, ``noise``, ``attack``) can be split into ``n``
independent jobs, on one machine or many, that share an output folder. The inputs are cut into
*blocks* of ``block`` consecutive global indices (``block`` = the command's ``--batch-size``
for ``analyze`` and ``attack``, 1 for ``noise``); shard ``i`` takes the blocks whose number is
``≡ i (mod n)``. So every shard sees the same batches a single process would (batched floating
point is not bit-identical across batch compositions), the shards' sizes differ by at most one
block, and a shard may be empty.

Every random number of an input comes from its own seed ``seed · 1_000_003 + global index``
(:func:`input_seeds`), never from a stream shared with other inputs, so a per-input result does
not depend on the number of shards. A finished shard writes ``KIND.shard-I-of-N.json`` (its
config, its global indices and its per-input results) atomically; :func:`read_shards` checks
that all ``n`` are there, that they were run with one config and that together they cover
every input exactly once, and returns them in shard order for the command's merge.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from seqrobust._safeio import read_text, write_text_atomic
from seqrobust.runs.outputs import describe, differences


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count`` (``Shard(0, 1)``: the whole job)."""

    index: int = 0
    count: int = 1

    def __post_init__(self) -> None:
        if self.count < 1 or not 0 <= self.index < self.count:
            raise ValueError(f"bad shard {self.index}/{self.count}; need 0 <= I < N")

    @property
    def whole(self) -> bool:
        """Whether this is an unsharded job."""
        return self.count == 1

    def tag(self) -> str:
        """``shard-I-of-N``, used in file names."""
        return f"shard-{self.index}-of-{self.count}"

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


WHOLE = Shard()
_SPEC = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


def parse_shard(spec: str | None) -> Shard:
    """Parse ``"I/N"`` (0-based: ``0/4`` … ``3/4``); ``None`` or ``""`` means the whole job.

    Raises:
        ValueError: one line, on anything but two integers with ``0 <= I < N``.
    """
    if spec is None or not spec.strip():
        return WHOLE
    match = _SPEC.match(spec)
    if match is None:
        raise ValueError(f"bad --shard {spec!r}; use I/N with 0 <= I < N, e.g. 0/4")
    index, count = int(match.group(1)), int(match.group(2))
    if count < 1 or index >= count:
        raise ValueError(f"bad --shard {spec!r}; need 0 <= I < N and N >= 1 (shards are 0-based)")
    return Shard(index, count)


def shard_indices(total: int, shard: Shard, *, block: int = 1) -> Tensor:
    """Global indices (ascending, int64) of ``shard``'s inputs among ``range(total)``.

    Args:
        total: number of inputs of the whole job.
        shard: which part.
        block: consecutive inputs per block; blocks are dealt out round-robin.

    Returns:
        ``(M,)`` int64, possibly empty.

    Raises:
        ValueError: if ``total < 0`` or ``block < 1``.
    """
    if total < 0 or block < 1:
        raise ValueError(f"need total >= 0 and block >= 1, got {total} and {block}")
    index = torch.arange(total, dtype=torch.long)
    return index[(index // block) % shard.count == shard.index]


def shard_file(folder: str | Path, kind: str, shard: Shard) -> Path:
    """``FOLDER/KIND.shard-I-of-N.json``."""
    return Path(folder) / f"{kind}.{shard.tag()}.json"


def write_json_atomic(path: Path, record: Any, *, folder: str | Path | None = None) -> None:
    """Write ``record`` as JSON to ``path`` atomically (:mod:`seqrobust._safeio`: never through
    a symlink nor outside ``folder``, default ``path``'s own folder)."""
    root = Path(path).parent if folder is None else Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    write_text_atomic(root, Path(path).relative_to(root), json.dumps(record, indent=1) + "\n")


def write_shard(
    folder: str | Path,
    kind: str,
    shard: Shard,
    *,
    config: dict[str, Any],
    indices: Tensor | list[int],
    payload: dict[str, Any],
) -> Path:
    """Record a finished shard (atomically).

    Args:
        folder: the shared output folder.
        kind: ``analyze``, ``noise`` or ``attack``.
        shard: which part this is.
        config: everything that must agree between shards (JSON-serialisable).
        indices: the global indices this shard processed, ascending.
        payload: its per-input results (JSON-serialisable).

    Returns:
        The file written.
    """
    path = shard_file(folder, kind, shard)
    index_list = indices.tolist() if isinstance(indices, Tensor) else list(indices)
    record = {
        "kind": kind,
        "shard": [shard.index, shard.count],
        "config": config,
        "indices": index_list,
        "payload": payload,
    }
    write_json_atomic(path, record, folder=folder)
    return path


@dataclass(frozen=True)
class MergedShards:
    """All shards of one job, in shard order.

    Attributes:
        config: the common config (of shard 0).
        count: number of shards.
        indices: per shard, its global indices.
        payloads: per shard, its results.
    """

    config: dict[str, Any]
    count: int
    indices: list[list[int]]
    payloads: list[dict[str, Any]]


_NAME = re.compile(r"^(?P<kind>[\w-]+)\.shard-(?P<i>\d+)-of-(?P<n>\d+)\.json$")


def _read_record(folder: Path, name: str) -> dict[str, Any]:
    """A shard record of ``folder`` (a regular file inside it, a JSON object)."""
    try:
        record = json.loads(read_text(folder, name))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{folder / name}: not valid JSON (line {exc.lineno}); rerun that "
                         "shard") from None
    keys = ("config", "indices", "payload")
    if not isinstance(record, dict) or any(not isinstance(record.get(k), (dict, list))
                                           for k in keys):
        raise ValueError(f"{folder / name}: not a shard record (needs config, indices and "
                         "payload); rerun that shard")
    return record


def read_shards(
    folder: str | Path,
    kind: str,
    *,
    total: int | None = None,
    block: int | None = None,
    ignore: tuple[str, ...] = ("device",),
) -> MergedShards:
    """Load and check every ``KIND.shard-*-of-N.json`` of ``folder``.

    Args:
        folder: the shared output folder.
        kind: ``analyze``, ``noise`` or ``attack``.
        total: the job's input count (default: ``config["total"]``).
        block: the job's block size (default: ``config["block"]``).
        ignore: config keys that may differ between shards (e.g. the device).

    Returns:
        :class:`MergedShards`.

    Raises:
        ValueError: one line, when no shard is there, shards of different ``N`` or configs are
            mixed, a shard is missing (named), or the indices do not cover every input once.
    """
    folder = Path(folder)
    found: dict[int, dict[int, Path]] = {}
    for path in sorted(folder.glob(f"{kind}.shard-*-of-*.json")) if folder.is_dir() else []:
        match = _NAME.match(path.name)
        if match and match.group("kind") == kind:
            found.setdefault(int(match.group("n")), {})[int(match.group("i"))] = path
    if not found:
        raise ValueError(f"no {kind} shards ({kind}.shard-I-of-N.json) in {folder}")
    if len(found) > 1:
        counts = ", ".join(str(n) for n in sorted(found))
        raise ValueError(f"{folder} mixes {kind} shards of different N ({counts}); remove one set")
    ((count, paths),) = found.items()
    missing = [i for i in range(count) if i not in paths]
    if missing:
        names = ", ".join(f"{i}/{count} ({shard_file(folder, kind, Shard(i, count)).name})"
                          for i in missing)
        raise ValueError(f"missing {kind} shard {names} in {folder}; run it, then merge again")
    records = [_read_record(folder, paths[i].name) for i in range(count)]
    config = records[0]["config"]
    for i, rec in enumerate(records[1:], start=1):
        diff = differences(rec["config"], config, ignore=ignore)
        if diff:
            raise ValueError(
                f"shard {i}/{count} was run with a different config than shard 0/{count} "
                f"({describe(diff)}); refusing to merge"
            )
    total = int(config["total"]) if total is None else total
    block = int(config.get("block", 1)) if block is None else block
    for i, rec in enumerate(records):
        expected = shard_indices(total, Shard(i, count), block=block).tolist()
        if rec["indices"] != expected:
            raise ValueError(
                f"shard {i}/{count} holds the wrong inputs ({len(rec['indices'])} instead of "
                f"{len(expected)} of {total}); rerun it"
            )
    return MergedShards(
        config=config,
        count=count,
        indices=[rec["indices"] for rec in records],
        payloads=[rec["payload"] for rec in records],
    )


def interleave(indices: list[list[int]], values: list[list[Any]]) -> list[Any]:
    """Per-shard value lists put back in global-index order (``indices`` cover ``range(N)``).

    Raises:
        ValueError: if a shard's values do not match its indices in length, or the indices do
            not cover ``range(N)`` exactly once.
    """
    total = sum(len(i) for i in indices)
    out: list[Any] = [None] * total
    seen = [False] * total
    for idx, vals in zip(indices, values, strict=True):
        if len(idx) != len(vals):
            raise ValueError(f"a shard has {len(vals)} results for {len(idx)} inputs")
        for i, v in zip(idx, vals, strict=True):
            if not 0 <= i < total or seen[i]:
                raise ValueError(f"input {i} is out of range or in two shards")
            seen[i], out[i] = True, v
    return out


__all__ = [
    "WHOLE",
    "MergedShards",
    "Shard",
    "interleave",
    "parse_shard",
    "read_shards",
    "shard_file",
    "shard_indices",
    "write_json_atomic",
    "write_shard",
]
