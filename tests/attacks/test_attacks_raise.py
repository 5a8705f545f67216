"""Error paths: every user mistake is a one-line ValueError naming the problem."""

import sys

import pytest
import torch
from attack_models import tiny_batch, tiny_model

from seqrobust.attacks import (
    APGD,
    FGSM,
    L2PGD,
    LinfPGD,
    MissingDependencyError,
    Square,
    pgd_linf,
    sweep,
)
from seqrobust.models import RecurrentClassifier


def _raises(match, fn, *args, **kwargs):
    with pytest.raises(ValueError, match=match) as info:
        fn(*args, **kwargs)
    assert "\n" not in str(info.value)
    return info.value


@pytest.mark.parametrize("eps", [0.0, -0.1, float("nan"), float("inf")])
def test_bad_epsilon(eps):
    model, (x, y) = tiny_model(), tiny_batch(4)
    _raises("epsilon must be positive", LinfPGD(alpha=0.1), model, x, y, epsilons=eps)
    _raises("epsilon must be positive", sweep, FGSM(), model, x, y, epsilons=[0.1, eps])
    _raises("eps must be a positive number", pgd_linf, model, x, y, eps=eps, alpha=0.1, steps=1)


def test_empty_or_non_numeric_epsilons():
    model, (x, y) = tiny_model(), tiny_batch(4)
    _raises("epsilons must not be empty", LinfPGD(alpha=0.1), model, x, y, epsilons=[])
    _raises("epsilons must not be empty", sweep, FGSM(), model, x, y, epsilons=())
    _raises("epsilon must be a number", FGSM(), model, x, y, epsilons=["0.1"])


def test_wrong_shapes_and_dtypes():
    model, (x, y) = tiny_model(), tiny_batch(4)
    attack = LinfPGD(alpha=0.1)
    _raises(r"shape \(batch, time, features\)", attack, model, x[0], y, epsilons=0.1)
    _raises(r"labels must have shape \(4,\)", attack, model, x, y[:3], epsilons=0.1)
    _raises("labels must be int64", attack, model, x, y.float(), epsilons=0.1)
    _raises("must be floating point", attack, model, (x * 10).long(), y, epsilons=0.1)
    _raises(r"shape \(batch, time, features\)", pgd_linf, model, x[0], y, eps=0.1, alpha=0.1,
            steps=1)


def test_nan_and_out_of_range_inputs():
    model, (x, y) = tiny_model(), tiny_batch(4)
    bad = x.clone()
    bad[1, 2, 3] = float("nan")
    _raises("NaN or infinite", LinfPGD(alpha=0.1), model, bad, y, epsilons=0.1)
    _raises("NaN or infinite", sweep, FGSM(), model, bad, y, epsilons=0.1)
    _raises("inputs must lie in bounds", FGSM(), model, x + 2, y, epsilons=0.1)
    _raises("bounds must be finite with lower < upper", FGSM(), model, x, y, epsilons=0.1,
            bounds=(1.0, 0.0))


def test_bad_hyperparameters():
    _raises("alpha must be a positive number", LinfPGD, alpha=0.0)
    _raises("steps must be a positive integer", L2PGD, alpha=0.1, steps=0)
    _raises("restarts must be a positive integer", LinfPGD, alpha=0.1, restarts=0)
    _raises("cycle_window must be a non-negative integer", LinfPGD, alpha=0.1, cycle_window=-1)
    _raises("unknown APGD loss 'cw'", APGD, loss="cw")
    _raises("queries must be a positive integer", Square, queries=0)
    model, (x, y) = tiny_model(), tiny_batch(4)
    _raises("batch_size must be a positive integer", sweep, FGSM(), model, x, y, epsilons=0.1,
            batch_size=0)
    _raises("steps must be a positive integer", pgd_linf, model, x, y, eps=0.1, alpha=0.1,
            steps=0)


def test_dlr_needs_three_classes():
    pytest.importorskip("torchattacks")
    torch.manual_seed(0)
    model = RecurrentClassifier(input_size=5, num_classes=2, hidden_size=4, num_layers=1).eval()
    x, _ = tiny_batch(4)
    with torch.no_grad():
        y = model(x).argmax(-1)
    _raises("APGD-DLR needs at least 3 classes", APGD(loss="dlr", steps=2), model, x, y,
            epsilons=0.1)


def test_missing_torchattacks_is_a_one_line_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "torchattacks", None)  # makes the import fail
    model, (x, y) = tiny_model(), tiny_batch(4)
    with torch.no_grad():
        y = model(x).argmax(-1)  # all correct, so the attack is called
    err = _raises("needs torchattacks", Square(queries=5), model, x, y, epsilons=0.1)
    assert isinstance(err, MissingDependencyError)


def test_sweep_refuses_labels_outside_the_classes_and_empty_batches():
    model, (x, y) = tiny_model(), tiny_batch(4)
    classes = model(x).shape[1]
    for bad in (classes, -1):
        labels = y.clone()
        labels[0] = bad
        _raises(rf"labels must lie in \[0, {classes}\)", sweep, FGSM(), model, x, labels,
                epsilons=[0.1])
    _raises("sweep needs at least one input", sweep, FGSM(), model, x[:0], y[:0], epsilons=[0.1])


def test_epsilon_lists_are_capped_and_numpy_scalars_accepted():
    import numpy as np

    model, (x, y) = tiny_model(), tiny_batch(4)
    _raises("1001 radii requested; at most 1000", sweep, FGSM(), model, x, y,
            epsilons=[0.001 * (i + 1) for i in range(1001)])
    res = sweep(FGSM(), model, x, y, epsilons=[np.float32(0.1), np.float64(0.2)])
    assert res.epsilons == (pytest.approx(0.1), pytest.approx(0.2))
