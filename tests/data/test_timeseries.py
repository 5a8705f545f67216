import numpy as np
import pytest
import torch

from seqrobust.data import load_dataset
from seqrobust.data.dataset import padding_value
from seqrobust.data.registry import available_datasets
from seqrobust.data.timeseries import _aeon_data_dir, _load_split, load_aeon, standardization
from seqrobust.models import Classifier, RecurrentClassifier

pytest.importorskip("aeon")

EXPECTED = {  # name: (train N, test N, channels, classes, min length, max length)
    "ArrowHead": (36, 175, 1, 3, 251, 251),
    "OSULeaf": (200, 242, 1, 6, 427, 427),
    "JapaneseVowels": (270, 370, 12, 9, 7, 29),
    "BasicMotions": (40, 40, 6, 4, 100, 100),
    "GunPoint": (50, 150, 1, 2, 150, 150),
    "ItalyPowerDemand": (67, 1029, 1, 2, 24, 24),
}


@pytest.mark.parametrize("units", ["std", "raw"])
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_shapes_classes_lengths(name, units):
    n_train, n_test, channels, classes, lo, hi = EXPECTED[name]
    train = load_dataset(name, split="train", units=units)
    test = load_dataset(name, split="test", units=units)
    assert (len(train), len(test)) == (n_train, n_test)
    assert train.num_features == channels and train.num_classes == classes
    assert set(train.labels.tolist()) == set(range(classes))
    lengths = torch.cat([d.mask.sum(1) for d in (train, test)])
    assert int(lengths.min()) == lo and int(lengths.max()) == hi
    assert (train.lengths is None) == (lo == hi)
    assert train.bounds is None and train.eps_scale == 1.0


def _aeon(name, split):
    """The split exactly as aeon's own loader returns it: (series (channels, length), labels)."""
    from aeon.datasets import load_classification

    x, y = load_classification(name, split=split, extract_path=str(_aeon_data_dir()))
    return [np.asarray(s) for s in x], np.asarray(y).astype(str)


def _real_steps(data, i):
    """Series ``i`` without its padding, as (channels, length)."""
    return data.inputs[i, : int(data.mask[i].sum())].numpy().T


@pytest.mark.parametrize("name", ["GunPoint", "JapaneseVowels"])
def test_raw_units_are_aeons_values(name):
    series, labels = _aeon(name, "test")
    raw = load_dataset(name, split="test", units="raw")
    std = load_dataset(name, split="test")
    assert raw.name == f"{name}-test (raw)" and std.name == f"{name}-test"
    assert (raw.bounds, raw.eps_scale, raw.eps_unit) == (None, 1.0, "raw units")
    assert (std.bounds, std.eps_scale, std.eps_unit) == (None, 1.0, "training std")
    classes = sorted(set(_aeon(name, "train")[1]), key=float)
    assert raw.labels.tolist() == [classes.index(label) for label in labels]
    assert std.labels.tolist() == raw.labels.tolist() and len(raw) == len(series)
    for i, s in enumerate(series):
        np.testing.assert_array_equal(_real_steps(raw, i), s.astype(np.float32))
    expected_pad = {"GunPoint": None, "JapaneseVowels": 0.0}[name]  # zeros after short series
    assert padding_value(raw) == expected_pad and padding_value(std) == expected_pad


@pytest.mark.parametrize("name", ["GunPoint", "JapaneseVowels"])
def test_std_units_are_raw_minus_train_mean_over_train_std(name):
    train_series, _ = _aeon(name, "train")
    flat = np.concatenate(train_series, axis=1)  # (channels, all real training steps)
    mean, std = flat.mean(axis=1)[:, None], flat.std(axis=1)[:, None]
    test_series, _ = _aeon(name, "test")
    data = load_dataset(name, split="test")
    for i, s in enumerate(test_series):
        np.testing.assert_allclose(_real_steps(data, i), (s - mean) / std, rtol=1e-6, atol=1e-6)


def test_ucr_raw_series_are_z_normalised_per_series():
    raw = load_dataset("GunPoint", split="train", units="raw").inputs.double()[..., 0]
    np.testing.assert_allclose(raw.mean(1).numpy(), 0.0, atol=1e-6)
    np.testing.assert_allclose(raw.std(1).numpy(), 1.0, atol=1e-3)  # aeon ships n-1 z-scores
    std = load_dataset("GunPoint", split="train").inputs.double()[..., 0]
    assert float((std - raw).abs().max()) > 1e-3  # the two unit systems do differ


def test_bad_units_and_limits():
    with pytest.raises(ValueError, match="^unknown units 'z'; choose std or raw$"):
        load_dataset("GunPoint", split="test", units="z")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="^unknown units 'z'; choose std or raw$"):
        load_aeon("GunPoint", split="test", units="z")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="units='raw' applies to aeon datasets only"):
        load_dataset("mnist-subset", split="test", units="raw")
    with pytest.raises(ValueError, match="^limit must be positive, got 0$"):
        load_aeon("GunPoint", split="test", limit=0)
    assert len(load_dataset("GunPoint", split="test", units="raw", limit=3)) == 3


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
        f = Classifier(model).bind(lengths, functional=True)
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
    bound = Classifier(model).bind(torch.tensor([2, 3]))
    with pytest.raises(ValueError, match="multiple of the 2 bound lengths, got 1 inputs"):
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
