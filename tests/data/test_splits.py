"""``split_validation``: a stratified, deterministic (fit, validation) split that keeps
everything of the data but the inputs it moves."""

from __future__ import annotations

import pytest
import torch

from seqrobust.data import SequenceData, split_validation

COUNTS = {0: 10, 1: 5, 2: 2, 3: 1, 5: 3}
"""Inputs per class (class 4 absent: ``num_classes`` 6 must survive the split)."""
EXPECTED = {0: 3, 1: 1, 2: 1, 3: 0, 5: 1}
"""Held out at fraction 0.25: 2.5 -> 3 (half up), 1.25 -> 1, 0.5 -> 1 (at least one), a
single input stays in fit, 0.75 -> 1."""


def _data(*, shuffle_seed: int = 7) -> SequenceData:
    """21 inputs whose first value is their index, classes interleaved, lengths 1-4 of 4."""
    labels = torch.tensor([c for c, n in COUNTS.items() for _ in range(n)])
    labels = labels[torch.randperm(len(labels), generator=torch.Generator().manual_seed(
        shuffle_seed))]
    n = len(labels)
    lengths = torch.arange(n) % 4 + 1
    x = torch.zeros(n, 4, 2)
    for i in range(n):
        x[i, : int(lengths[i])] = float(i) + 0.5
    x[:, 0, 0] = torch.arange(n, dtype=torch.float32)
    return SequenceData.from_arrays(x, labels, lengths=lengths, num_classes=6,
                                    bounds=(-1.0, 30.0), unit="volt", scale=0.5, name="toy")


def _ids(data: SequenceData) -> list[int]:
    return [int(v) for v in data.inputs[:, 0, 0]]


def test_each_class_gives_its_rounded_share_and_keeps_one() -> None:
    fit, val = split_validation(_data(), 0.25)
    assert {c: int((val.labels == c).sum()) for c in COUNTS} == EXPECTED
    assert {c: int((fit.labels == c).sum()) for c in COUNTS} == {
        c: COUNTS[c] - EXPECTED[c] for c in COUNTS}
    two, _ = split_validation(SequenceData.from_arrays(torch.zeros(4, 1, 1),
                                                       torch.tensor([0, 0, 1, 1])), 0.49)
    assert two.labels.tolist() == [0, 1]  # 0.98 -> 1 held out, one left in fit per class


def test_the_parts_are_disjoint_and_together_the_data_in_order() -> None:
    data = _data()
    fit, val = split_validation(data, 0.25)
    assert len(fit) == 15 and len(val) == 6
    assert _ids(fit) == sorted(_ids(fit)) and _ids(val) == sorted(_ids(val))
    assert not set(_ids(fit)) & set(_ids(val))
    assert sorted(_ids(fit) + _ids(val)) == list(range(len(data)))
    for part in (fit, val):
        rows = torch.tensor(_ids(part))
        assert torch.equal(part.inputs, data.inputs[rows])
        assert torch.equal(part.labels, data.labels[rows])
        assert part.lengths is not None and torch.equal(part.lengths, data.lengths[rows])


def test_everything_but_the_inputs_is_kept() -> None:
    fit, val = split_validation(_data(), 0.25)
    for part in (fit, val):
        assert (part.num_classes, part.bounds, part.eps_scale, part.eps_unit, part.seq_len) == (
            6, (-1.0, 30.0), 0.5, "volt", 4)
    assert (fit.name, val.name) == ("toy [fit]", "toy [validation]")


def test_the_split_depends_on_the_seed_only() -> None:
    first, again = split_validation(_data(), 0.3), split_validation(_data(), 0.3)
    assert _ids(first[1]) == _ids(again[1]) and _ids(first[0]) == _ids(again[0])
    torch.manual_seed(123)  # the global generator plays no part
    assert _ids(split_validation(_data(), 0.3)[1]) == _ids(first[1])
    assert _ids(split_validation(_data(), 0.3, seed=1)[1]) != _ids(first[1])


@pytest.mark.parametrize(("fraction", "fragment"), [
    (0.0, "fraction must be a number in (0, 1), got 0.0"),
    (1.0, "fraction must be a number in (0, 1), got 1.0"),
    (-0.1, "fraction must be a number in (0, 1), got -0.1"),
    (float("nan"), "fraction must be a number in (0, 1), got nan"),
    (True, "fraction must be a number in (0, 1), got True"),
    ("0.2", "fraction must be a number in (0, 1), got '0.2'"),
])
def test_a_bad_fraction_is_one_line(fraction: object, fragment: str) -> None:
    with pytest.raises(ValueError) as exc:
        split_validation(_data(), fraction)  # type: ignore[arg-type]
    assert str(exc.value) == fragment


def test_a_bad_seed_and_nothing_to_hold_out_are_one_line() -> None:
    with pytest.raises(ValueError, match=r"^seed must be a non-negative integer, got -1$"):
        split_validation(_data(), 0.2, seed=-1)
    singles = SequenceData.from_arrays(torch.zeros(3, 2, 1), torch.tensor([0, 1, 2]),
                                       name="singles")
    with pytest.raises(ValueError) as exc:
        split_validation(singles, 0.2)
    assert str(exc.value) == ("singles: no class has 2 inputs, so fraction 0.2 holds out "
                              "nothing; use more training inputs")
