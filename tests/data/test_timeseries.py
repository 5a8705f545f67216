import numpy as np
import pytest
import torch

from seqrobust.data import load_dataset
from seqrobust.data.registry import available_datasets
from seqrobust.data.timeseries import _load_split, standardization
from seqrobust.models import RecurrentClassifier, bind_lengths, twice_differentiable

pytest.importorskip("aeon")

EXPECTED = {  # name: (train N, test N, channels, classes, min length, max length)
    "JapaneseVowels": (270, 370, 12, 9, 7, 29),
    "BasicMotions": (40, 40, 6, 4, 100, 100),
    "GunPoint": (50, 150, 1, 2, 150, 150),
    "ItalyPowerDemand": (67, 1029, 1, 2, 24, 24),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_shapes_classes_lengths(name):
    n_train, n_test, channels, classes, lo, hi = EXPECTED[name]
    train, test = load_dataset(name, split="train"), load_dataset(name, split="test")
    assert (len(train), len(test)) == (n_train, n_test)
    assert train.num_features == channels and train.num_classes == classes
    assert set(train.labels.tolist()) == set(range(classes))
    lengths = torch.cat([d.mask.sum(1) for d in (train, test)])
    assert int(lengths.min()) == lo and int(lengths.max()) == hi
    assert (train.lengths is None) == (lo == hi)
    assert train.bounds is None and train.eps_scale == 1.0


def test_standardisation_fitted_on_train_only():
    train = load_dataset("BasicMotions", split="train")
    x = train.inputs.double().reshape(-1, train.num_features)
    np.testing.assert_allclose(x.mean(0).numpy(), 0, atol=1e-5)
    np.testing.assert_allclose(x.std(0, unbiased=False).numpy(), 1, atol=1e-4)
    raw_test, _ = _load_split("BasicMotions", "test")
    stats = standardization("BasicMotions")
    expected = (raw_test[0] - np.array(stats["mean"])[:, None]) / np.array(stats["std"])[:, None]
    test = load_dataset("BasicMotions", split="test")
    np.testing.assert_allclose(test.inputs[0].numpy().T, expected, rtol=1e-5, atol=1e-5)
    assert abs(float(test.inputs.mean())) > 1e-3  # test statistics were not used


def test_padded_steps_are_zero_and_masked():
    data = load_dataset("JapaneseVowels", split="train")
    assert data.lengths is not None
    assert float(data.inputs[~data.mask].abs().max()) == 0.0
    real = data.inputs[data.mask].double()
    np.testing.assert_allclose(real.mean(0).numpy(), 0, atol=1e-5)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_padding_never_changes_logits_or_gradients(cell):
    model = RecurrentClassifier(input_size=3, num_classes=4, cell=cell, hidden_size=6).double()
    model.eval()
    lengths = torch.tensor([5, 2, 4])
    x = torch.randn(3, 5, 3, dtype=torch.float64)
    junk = x.clone()
    junk[1, 2:] = 50.0
    junk[2, 4:] = -7.0
    longer = torch.cat([junk, torch.randn(3, 3, 3, dtype=torch.float64)], dim=1)
    reference = torch.cat([model(x[i : i + 1, : lengths[i]]) for i in range(3)])
    for inputs in (x, junk, longer):
        for forward in (model.forward_fast, model.forward_twice_differentiable):
            torch.testing.assert_close(forward(inputs, lengths), reference, rtol=0, atol=1e-12)
        f = twice_differentiable(bind_lengths(model, lengths))
        probe = inputs.clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(f(probe)[:, 1].sum(), probe, create_graph=True)
        pad = torch.arange(inputs.shape[1])[None, :] >= lengths[:, None]
        assert float(grad.detach()[pad].abs().max()) == 0.0
        assert float(grad.detach()[~pad].abs().max()) > 0.0
        (hvp,) = torch.autograd.grad((grad * torch.ones_like(grad)).sum(), probe)
        assert float(hvp[pad].abs().max()) == 0.0
        reference_grad = torch.zeros_like(inputs)
        for i in range(3):
            xi = inputs[i : i + 1, : lengths[i]].clone().requires_grad_(True)
            (gi,) = torch.autograd.grad(model.forward_twice_differentiable(xi)[0, 1], xi)
            reference_grad[i, : lengths[i]] = gi[0]
        torch.testing.assert_close(grad.detach(), reference_grad, rtol=0, atol=1e-12)


def test_bound_lengths_must_match_batch():
    model = RecurrentClassifier(input_size=3, num_classes=2, hidden_size=4)
    bound = bind_lengths(model, torch.tensor([2, 3]))
    with pytest.raises(ValueError, match="bound to a batch of 2 lengths but got 1"):
        bound(torch.randn(1, 3, 3))
    with pytest.raises(ValueError, match="lengths must lie in"):
        model(torch.randn(2, 3, 3), torch.tensor([0, 3]))


def test_unknown_dataset_lists_available():
    with pytest.raises(
        ValueError, match="unknown dataset 'Vowels'; choose one of mnist, .*JapaneseVowels"
    ):
        load_dataset("Vowels", split="train")
    assert {"JapaneseVowels", "BasicMotions", "GunPoint", "ItalyPowerDemand"} <= set(
        available_datasets()
    )


def test_tiny_end_to_end_on_speech(tmp_path):
    from seqrobust.cli import main

    out = tmp_path / "jv"
    args = ["--dataset", "JapaneseVowels", "--cell", "gru", "--epochs", "5", "--hidden", "32"]
    args += ["--batch-size", "16", "--lr", "1e-2", "--out", str(out), "--quiet"]
    assert main(["train", *args]) == 0
    from seqrobust.training import accuracy, load_model

    model, cfg = load_model(out)
    acc = accuracy(model, load_dataset(cfg.dataset, split="test"))
    assert acc > 0.4  # 9 speakers: chance is 0.11
