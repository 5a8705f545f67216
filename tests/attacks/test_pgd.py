"""PGD / FGSM: constraints, oracles, early stop and the cycle shortcut."""

import pytest
import torch
import torch.nn.functional as F
from attack_models import tiny_batch, tiny_model, trained_mnist_model

from seqrobust.attacks import FGSM, L2PGD, LinfPGD, pgd_linf
from seqrobust.attacks.pgd import projected_gradient
from seqrobust.models import RecurrentClassifier


def _linf(a, b):
    return (a - b).flatten(1).abs().amax(1)


@pytest.mark.parametrize("random_start", [True, False])
def test_pgd_linf_stays_in_ball_and_range(random_start):
    model = tiny_model()
    x, y = tiny_batch(32)
    adv = pgd_linf(model, x, y, eps=0.1, alpha=0.03, steps=7, random_start=random_start,
                   generator=torch.Generator().manual_seed(1))
    assert adv.shape == x.shape and adv.dtype == x.dtype and not adv.requires_grad
    assert float(_linf(adv, x).max()) <= 0.1 + 1e-6
    assert float(adv.min()) >= 0.0 and float(adv.max()) <= 1.0
    assert float(_linf(adv, x).max()) > 0.05  # it moved


def test_pgd_linf_keeps_dtype_and_custom_bounds():
    model = tiny_model(dtype=torch.float64)
    x, y = tiny_batch(8, dtype=torch.float64)
    x = 0.2 + 0.5 * x  # inside (0.2, 0.7)
    adv = pgd_linf(model, x, y, eps=0.3, alpha=0.1, steps=5, bounds=(0.2, 0.7))
    assert adv.dtype == torch.float64
    assert float(adv.min()) >= 0.2 and float(adv.max()) <= 0.7
    assert float(_linf(adv, x).max()) <= 0.3 + 1e-12


def test_pgd_linf_one_step_matches_fgsm_oracle():
    """One step from the clean input with alpha = eps is x + eps * sign(grad CE), clipped."""
    model = tiny_model(dtype=torch.float64)
    x, _ = tiny_batch(12, dtype=torch.float64)
    with torch.no_grad():
        y = model(x).argmax(-1)  # all correct: FGSM attacks every row
    xr = x.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(F.cross_entropy(model(xr), y), xr)
    expected = (x + 0.05 * g.sign()).clamp(0, 1)
    adv = pgd_linf(model, x, y, eps=0.05, alpha=0.05, steps=1, random_start=False)
    torch.testing.assert_close(adv, expected, rtol=0, atol=1e-12)
    fgsm = FGSM()(model, x, y, epsilons=0.05).adversarials[0]
    torch.testing.assert_close(fgsm, expected, rtol=0, atol=1e-12)


def test_pgd_linf_in_train_mode_does_not_touch_parameter_grads():
    torch.manual_seed(0)
    model = RecurrentClassifier(input_size=5, num_classes=4, hidden_size=8, num_layers=2,
                                dropout=0.5).train()
    x, y = tiny_batch(16)
    adv = pgd_linf(model, x, y, eps=0.1, alpha=0.02, steps=3)
    assert model.training
    assert all(p.grad is None for p in model.parameters())
    assert float(_linf(adv, x).max()) <= 0.1 + 1e-6


def test_pgd_increases_the_loss():
    model = tiny_model(dtype=torch.float64)
    x, y = tiny_batch(64, dtype=torch.float64)
    adv = pgd_linf(model, x, y, eps=0.2, alpha=0.05, steps=10, random_start=False)
    with torch.no_grad():
        clean = F.cross_entropy(model(x), y, reduction="none")
        attacked = F.cross_entropy(model(adv), y, reduction="none")
    assert float((attacked - clean).min()) > 0


def test_l2_pgd_stays_in_l2_ball():
    model = tiny_model()
    x, y = tiny_batch(20)
    result = L2PGD(alpha=0.2, steps=6)(model, x, y, epsilons=[0.3, 1.0])
    for k, eps in enumerate(result.epsilons):
        dist = (result.adversarials[k] - x).flatten(1).norm(dim=1)
        assert float(dist.max()) <= eps + 1e-5
    assert float(result.adversarials.min()) >= 0 and float(result.adversarials.max()) <= 1


def test_early_stop_and_cycles_match_the_full_run():
    """With early stop and cycle detection, robust rows end exactly where the full 30-step run
    ends, and every row the full run fools is fooled too (first fooling iterate)."""
    model, x, y = trained_mnist_model()
    args = dict(alpha=2 / 255, steps=30, norm="linf", random_init=False, bounds=(0.0, 1.0),
                generator=None)
    for pixels in (1.0, 3.0, 8.0):
        eps = torch.full((x.shape[0],), pixels / 255)
        full = projected_gradient(model, x, y, eps=eps, stop_when_fooled=False, **args)
        fast = projected_gradient(model, x, y, eps=eps, stop_when_fooled=True, cycle_window=4,
                                  **args)
        with torch.no_grad():
            fooled_full = model(full).argmax(-1) != y
            fooled_fast = model(fast).argmax(-1) != y
        assert bool((fooled_fast | ~fooled_full).all())
        robust = ~fooled_fast
        assert torch.equal(fast[robust], full[robust])
        assert float(_linf(fast, x).max()) <= pixels / 255 + 1e-6


def test_cycle_detection_is_off_for_modules_in_train_mode():
    torch.manual_seed(0)
    model = RecurrentClassifier(input_size=5, num_classes=4, hidden_size=8, num_layers=2,
                                dropout=0.5).train()
    x, y = tiny_batch(8)
    attack = LinfPGD(alpha=0.05, steps=4)
    result = attack(model, x, y, epsilons=0.1)  # runs with dropout, no shortcut
    assert result.success.shape == (1, 8)
    from seqrobust.attacks.pgd import _deterministic

    assert not _deterministic(model) and _deterministic(model.eval())
