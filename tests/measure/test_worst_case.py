"""The attack cascade: costly attacks see only the inputs still standing, and the worst case
equals the one over every attack run on every input."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor

from seqrobust.measure.robustness import AttackSettings, RobustnessCurve
from seqrobust.measure.worst_case import cascade, robust_mask, worst_case_accuracy

EPS = 0.1


def _fooling(attack: str, fooled: set[int], rows: list[int]) -> RobustnessCurve:
    """A one-radius curve on ``rows`` in which exactly the inputs of ``fooled`` fall."""
    first = tuple(0 if r in fooled else 1 for r in rows)
    acc = sum(first) / len(first)
    return RobustnessCurve(label="m", settings=AttackSettings(attack=attack), eps=(EPS,),
                           accuracy=(acc,), clean_accuracy=1.0, n=len(first), seconds=0.0,
                           first_fooled=first)


FOOLS = {"pgd": {1, 2, 7}, "apgd-ce": {2, 5}, "square": {0, 5, 9}}


@pytest.mark.parametrize("start", [
    [True] * 10,
    [True, True, False, True, True, True, True, True, False, True],
    [False] * 10,
])
def test_cascade_equals_every_attack_on_every_input(start: list[bool]) -> None:
    alive = torch.tensor(start)
    asked: dict[str, list[int]] = {}

    def run(attack: str, index: Tensor) -> RobustnessCurve | None:
        asked[attack] = index.tolist()
        return None if attack == "apgd-dlr" else _fooling(attack, FOOLS[attack], index.tolist())

    out = cascade(run, ["pgd", "apgd-dlr", "apgd-ce", "square"], alive, EPS)
    everywhere = [_fooling(a, f, list(range(10))) for a, f in FOOLS.items()]
    expected = robust_mask(everywhere, EPS) & alive
    assert out.tolist() == expected.tolist() and alive.tolist() == start  # input unchanged
    assert float(out.double().mean()) == pytest.approx(
        worst_case_accuracy(everywhere, EPS) if all(start) else float(expected.double().mean()))
    if not any(start):
        assert asked == {}  # nothing left to attack: no attack runs
        return
    # each attack saw exactly the inputs that every attack before it failed to fool
    standing = [i for i in range(10) if start[i]]
    assert asked["pgd"] == standing
    after_pgd = [i for i in standing if i not in FOOLS["pgd"]]
    assert asked["apgd-dlr"] == after_pgd and asked["apgd-ce"] == after_pgd  # a skip changes none
    assert asked["square"] == [i for i in after_pgd if i not in FOOLS["apgd-ce"]]
