"""Table-driven checks for every fixed-ε attack (foolbox style): one row per attack."""

from collections.abc import Callable
from typing import NamedTuple

import pytest
import torch
from attack_models import trained_mnist_model

from seqrobust.attacks import APGD, FGSM, L2PGD, FixedEpsilonAttack, LinfPGD, Square


class AttackRow(NamedTuple):
    make: Callable[[], FixedEpsilonAttack]
    eps: float  # model units; large enough that the trained model loses accuracy
    norm: str
    needs_torchattacks: bool

    def __repr__(self) -> str:
        return f"{type(self.make()).__name__}-{self.norm}"


ROWS = [
    AttackRow(lambda: LinfPGD(alpha=2 / 255, steps=10), 16 / 255, "linf", False),
    AttackRow(lambda: LinfPGD(alpha=2 / 255, steps=10, random_start=False), 16 / 255, "linf",
              False),
    AttackRow(lambda: L2PGD(alpha=0.2, steps=10), 1.5, "l2", False),
    AttackRow(lambda: FGSM(), 16 / 255, "linf", False),
    AttackRow(lambda: APGD(loss="ce", steps=10), 16 / 255, "linf", True),
    AttackRow(lambda: APGD(loss="dlr", steps=10), 16 / 255, "linf", True),
    AttackRow(lambda: Square(queries=60), 30 / 255, "linf", True),
]


@pytest.mark.parametrize("row", ROWS, ids=repr)
def test_attack_row(row: AttackRow):
    if row.needs_torchattacks:
        pytest.importorskip("torchattacks")
    model, x, y = trained_mnist_model()
    x, y = x[:40], y[:40]
    attack = row.make()
    assert attack.norm == row.norm
    state = torch.get_rng_state()
    result = attack(model, x, y, epsilons=[row.eps / 4, row.eps],
                    generator=torch.Generator().manual_seed(0))
    assert torch.equal(torch.get_rng_state(), state)  # the global RNG is left alone
    adv = result.adversarials
    assert adv.shape == (2, *x.shape) and result.success.shape == (2, 40)
    assert float(adv.min()) >= 0.0 and float(adv.max()) <= 1.0
    for k, eps in enumerate(result.epsilons):
        delta = (adv[k] - x).flatten(1)
        size = delta.abs().amax(1) if row.norm == "linf" else delta.norm(dim=1)
        assert float(size.max()) <= eps * (1 + 1e-5) + 1e-7
        with torch.no_grad():
            wrong = model(adv[k]).argmax(-1) != y
        assert torch.equal(wrong, result.success[k])
    with torch.no_grad():
        clean_wrong = model(x).argmax(-1) != y
    # misclassified clean inputs count as fooled (the clean point is in every ball) ...
    assert bool(result.success[:, clean_wrong].all())
    assert torch.equal(adv[:, clean_wrong], x[clean_wrong].expand(2, -1, -1, -1))
    # ... and the attack lowers accuracy at the larger radius
    assert float(result.success[1].float().mean()) > float(clean_wrong.float().mean()) + 0.1
