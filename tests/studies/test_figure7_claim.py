"""The Figure 7 verdict on the poster's claim: paired differences on shared inputs and the
worst case over attacks, on synthetic per-input records."""

import pytest
import torch

from seqrobust.measure.robustness import AttackSettings, RobustnessCurve
from seqrobust.studies.figure7 import claim_lines, paired_difference, robust_masks

EPS = (4.0, 8.0)


def _curve(label: str, first: list[int], attack: str = "pgd") -> RobustnessCurve:
    ff = torch.tensor(first)
    acc = tuple(float((ff > k).double().mean()) for k in range(len(EPS)))
    return RobustnessCurve(label, AttackSettings(attack=attack), EPS, acc,
                           float((ff >= 0).double().mean()), len(first), 0.0, tuple(first))


def test_robust_masks_and_paired_difference():
    c = _curve("plain", [-1, 0, 1, 2, 2])
    assert robust_masks(c, 4.0).tolist() == [False, False, True, True, True]
    assert robust_masks(c, 8.0).tolist() == [False, False, False, True, True]
    with pytest.raises(ValueError, match="no per-input record at ε = 5"):
        robust_masks(c, 5.0)
    a = torch.tensor([True, True, False, True])
    b = torch.tensor([False, True, False, False])
    d, se = paired_difference(a, b)
    assert d == pytest.approx(50.0)
    # d_i = (1, 0, 0, 1): sample sd = sqrt(1/3), se = sd / 2
    assert se == pytest.approx(100 * (1 / 3) ** 0.5 / 2)


def test_claim_holds_under_pgd_but_not_in_the_worst_case():
    n = 400
    hess = [2] * n  # never fooled by PGD
    plain = [0] * n  # fooled at the first ε
    jac = [0] * (n // 2) + [2] * (n // 2)  # half fooled at the first ε
    curves = [_curve("plain", plain), _curve("jacobian (λ=0.01)", jac),
              _curve("hessian (λ=0.001)", hess)]
    # Square fools every Hessian input at ε = 8 (gradient masking), nothing else changes
    reliability = {
        c.label: [c, _curve(c.label, list(c.first_fooled), attack="square")] for c in curves
    }
    reliability["hessian (λ=0.001)"][1] = _curve("hessian (λ=0.001)", [1] * n, "square")
    text = "\n".join(claim_lines(curves, reliability, pgd_eps=EPS, check_eps=EPS))
    pgd = [line for line in text.splitlines() if "PGD-30, all" in line]
    assert len(pgd) == 2 and all(": holds." in line for line in pgd)
    worst = [line for line in text.splitlines() if "worst case" in line]
    assert len(worst) == 2
    assert all("does not hold at every ε" in line for line in worst)
    assert "ε=8: -50.0 ± 2.5 (not ahead)" in text  # vs Jacobian: 0 vs half robust
    assert "ε=8: +0.0 ± 0.0 (not ahead)" in text  # vs plain: both 0


def test_claim_needs_the_three_models():
    assert claim_lines([_curve("plain", [2])], {}, pgd_eps=EPS, check_eps=EPS) == []
