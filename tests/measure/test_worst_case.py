"""The attack cascade (``cascade`` and ``sr.worst_case(cascade=True)``): costly attacks see
only the inputs still standing, and the worst case equals the one over every attack run on
every input."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor

import seqrobust as sr
from seqrobust.measure.robustness import AttackSettings, RobustnessCurve
from seqrobust.measure.worst_case import cascade, robust_mask, worst_case_accuracy
from seqrobust.runs.report_summary import curves_of

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


class _Tiny(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.gru = torch.nn.GRU(2, 8, batch_first=True)
        self.head = torch.nn.Linear(8, 3)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.gru(x)[0][:, -1])


def _tiny_data(model: torch.nn.Module) -> sr.SequenceData:
    x = torch.randn(40, 5, 2, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        y = model(x).argmax(1)
    y[:3] = (y[:3] + 1) % 3  # three inputs wrong when clean
    return sr.SequenceData.from_arrays(x, y, num_classes=3)


ATTACKS = (AttackSettings(attack="fgsm"), AttackSettings(attack="pgd", steps=10),
           AttackSettings(attack="pgd", steps=10, alpha=0.02, random_start=False))


def test_worst_case_cascade_equals_every_attack_on_every_input() -> None:
    """Attacks with per-input seeds give the same worst case as a cascade and run each later
    attack only on the inputs every earlier one left standing at the smallest ε."""
    model = _Tiny().eval()
    data = _tiny_data(model)
    eps = [0.05, 0.2, 0.5]
    full = sr.worst_case(model, data, eps=eps, attacks=ATTACKS)
    fast = sr.worst_case(model, data, eps=eps, attacks=ATTACKS, cascade=True)
    assert fast.cascade and not full.cascade
    assert fast.accuracy == full.accuracy
    assert len(set(full.accuracy)) > 1 and 0 < full.accuracy[-1] < full.accuracy[0] < 1
    assert fast.curves[0].first_fooled == full.curves[0].first_fooled
    assert fast.n == full.n == 40
    standing = robust_mask(full.curves[:1], eps[0])
    assert fast.curves[1].n == int(standing.sum()) < 40
    standing &= robust_mask(full.curves[1:2], eps[0])
    assert fast.curves[2].n == int(standing.sum())
    # the report plots only curves on every input
    assert curves_of([fast]) == [fast.curves[0]]


def test_worst_case_cascade_stops_when_no_input_is_left() -> None:
    model = _Tiny().eval()
    data = _tiny_data(model)
    fast = sr.worst_case(model, data, eps=[5.0], attacks=ATTACKS, cascade=True)
    assert fast.accuracy == (0.0,) and fast.attacks == ("fgsm",)
