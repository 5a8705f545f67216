"""The nested ε-sweep: monotone, nested, exact against independent runs, and never weaker than
torchattacks' PGD run once per ε."""

import pytest
import torch
from attack_models import tiny_batch, tiny_model, trained_mnist_model

from seqrobust.attacks import FGSM, L2PGD, LinfPGD, sweep

PIXELS = (1.0, 2.0, 4.0, 8.0, 12.0, 16.0, 24.0)


def test_sweep_is_monotone_and_nested():
    model, x, y = trained_mnist_model()
    result = sweep(LinfPGD(alpha=2 / 255, steps=10), model, x, y,
                   epsilons=[e / 255 for e in reversed(PIXELS)], batch_size=50,
                   generator=torch.Generator().manual_seed(0), keep_adversarials=True)
    assert result.epsilons == tuple(e / 255 for e in PIXELS)  # sorted
    acc = result.robust_accuracy
    assert bool((acc[1:] <= acc[:-1]).all())
    assert float(acc[0]) <= result.clean_accuracy
    assert float(acc[-1]) < result.clean_accuracy - 0.2  # the attack works
    success = result.success
    assert bool((success[1:] | ~success[:-1]).all())  # fooled at ε => fooled at every larger ε
    with torch.no_grad():
        clean_wrong = model(x).argmax(-1) != y
        adv = result.adversarials
        assert adv is not None
        adv_wrong = model(adv).argmax(-1) != y
    assert torch.equal(result.first_fooled == -1, clean_wrong)
    fooled = result.first_fooled >= 0
    fooled &= result.first_fooled < len(PIXELS)
    assert bool(adv_wrong[fooled].all())
    radius = torch.tensor(result.epsilons)[result.first_fooled[fooled]]
    dist = (adv[fooled] - x[fooled]).flatten(1).abs().amax(1)
    assert bool((dist <= radius + 1e-6).all())
    assert torch.equal(adv[~fooled], x[~fooled])


def test_sweep_equals_independent_runs_for_a_deterministic_attack():
    """Without random start, PGD is deterministic: the sweep's fooled set at ε is exactly the
    union of the independent runs' fooled sets at every radius up to ε."""
    model, x, y = trained_mnist_model()
    attack = LinfPGD(alpha=2 / 255, steps=10, random_start=False)
    eps = [e / 255 for e in PIXELS]
    result = sweep(attack, model, x, y, epsilons=eps, batch_size=1000)
    independent = attack(model, x, y, epsilons=eps).success
    union = torch.cumsum(independent.int(), dim=0) > 0
    assert torch.equal(result.success, union)
    # batch size does not matter either
    small = sweep(attack, model, x, y, epsilons=eps, batch_size=7)
    assert torch.equal(small.first_fooled, result.first_fooled)


def test_sweep_with_any_attack_and_misclassified_inputs():
    model = tiny_model()
    x, y = tiny_batch(40)
    result = sweep(FGSM(), model, x, y, epsilons=[0.05, 0.5])
    with torch.no_grad():
        wrong = model(x).argmax(-1) != y
    assert abs(result.clean_accuracy - float((~wrong).double().mean())) < 1e-9
    assert bool(result.success[:, wrong].all())
    assert result.adversarials is None


def _torchattacks_accuracy(ta, model, x, y, pixels, *, random_start, seed):
    accs = []
    for e in pixels:
        torch.manual_seed(seed + int(e))
        atk = ta.PGD(model, eps=e / 255, alpha=2 / 255, steps=30, random_start=random_start)
        adv = atk(x, y)
        with torch.no_grad():
            accs.append(int((model(adv).argmax(-1) == y).sum()))
    return torch.tensor(accs)


def test_sweep_never_weaker_than_torchattacks_per_eps():
    ta = pytest.importorskip("torchattacks")
    model, x, y = trained_mnist_model()
    eps = [e / 255 for e in PIXELS]
    # deterministic PGD: the sweep contains every per-ε run, so it is at least as strong
    result = sweep(LinfPGD(alpha=2 / 255, steps=30, random_start=False), model, x, y,
                   epsilons=eps)
    ours = (~result.success).sum(dim=1)  # robust inputs per ε
    theirs = _torchattacks_accuracy(ta, model, x, y, PIXELS, random_start=False, seed=0)
    assert bool((ours <= theirs).all()), (ours, theirs)
    # random starts: equal in distribution per ε plus the carried successes; allow 2 inputs
    # of sampling noise (on 120 inputs) where torchattacks' start happens to be luckier
    result = sweep(LinfPGD(alpha=2 / 255, steps=30), model, x, y, epsilons=eps,
                   generator=torch.Generator().manual_seed(0))
    ours = (~result.success).sum(dim=1)
    theirs = _torchattacks_accuracy(ta, model, x, y, PIXELS, random_start=True, seed=0)
    assert bool((ours <= theirs + 2).all()), (ours, theirs)
    assert int(ours.sum()) <= int(theirs.sum())


@pytest.mark.parametrize("norm_attack", [LinfPGD, L2PGD])
def test_row_seeds_make_results_independent_of_batching_and_sharding(norm_attack):
    """With per-input seeds an input's random starts depend only on its seed: any batch size,
    and any split of the inputs into shards, gives the same per-input result."""
    model, x, y = trained_mnist_model()
    x, y = x[:60], y[:60]
    attack = norm_attack(alpha=2 / 255 if norm_attack is LinfPGD else 0.1, steps=5, restarts=2)
    eps = [e / 255 for e in (2.0, 8.0, 16.0)] if norm_attack is LinfPGD else [0.3, 1.0, 2.0]
    seeds = 7 * 1_000_003 + torch.arange(60)
    whole = sweep(attack, model, x, y, epsilons=eps, batch_size=60, seeds=seeds,
                  keep_adversarials=True)
    small = sweep(attack, model, x, y, epsilons=eps, batch_size=7, seeds=seeds,
                  keep_adversarials=True)
    assert torch.equal(whole.first_fooled, small.first_fooled)
    assert whole.adversarials is not None and small.adversarials is not None
    # equal up to float rounding (matrix kernels may round differently for other batch sizes)
    torch.testing.assert_close(whole.adversarials, small.adversarials, atol=1e-5, rtol=0)
    merged = torch.empty_like(whole.first_fooled)
    for shard in range(3):
        rows = torch.arange(shard, 60, 3)
        part = sweep(attack, model, x[rows], y[rows], epsilons=eps, batch_size=11,
                     seeds=seeds[rows])
        merged[rows] = part.first_fooled
    assert torch.equal(merged, whole.first_fooled)
    # the seeds matter: other seeds give other random starts (and here other outcomes)
    other = sweep(attack, model, x, y, epsilons=eps, batch_size=60, seeds=seeds + 1,
                  keep_adversarials=True)
    assert other.adversarials is not None
    assert float((other.adversarials - whole.adversarials).abs().max()) > 1e-3


def test_row_seeds_shape_is_checked():
    model, x, y = trained_mnist_model()
    with pytest.raises(ValueError, match="seeds must be an int64 tensor of shape"):
        sweep(LinfPGD(alpha=0.01, steps=1), model, x, y, epsilons=[0.1],
              seeds=torch.arange(3))
