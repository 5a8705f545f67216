"""Model sizes: the parameter formula against real modules, and the caps."""

from __future__ import annotations

import pytest
import torch

import seqrobust.training.sizes as sizes
from seqrobust.models import RecurrentClassifier
from seqrobust.training import TrainConfig, train
from seqrobust.training.sizes import check_memory, check_size, recurrent_parameters


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize(("layers", "hidden", "features", "classes"), [(1, 3, 5, 2), (3, 7, 1, 9)])
def test_parameter_count_matches_the_module(cell, layers, hidden, features, classes):
    model = RecurrentClassifier(input_size=features, num_classes=classes, cell=cell,
                                hidden_size=hidden, num_layers=layers)
    expected = sum(p.numel() for p in model.parameters())
    assert recurrent_parameters(cell=cell, input_size=features, hidden=hidden, layers=layers,
                                classes=classes) == expected
    assert check_size(cell=cell, hidden=hidden, layers=layers, input_size=features,
                      classes=classes) == expected


def test_caps_are_checked_before_anything_is_built():
    with pytest.raises(ValueError, match=r"^layers must be at most 1000, got 1001$"):
        check_size(cell="rnn", hidden=1, layers=1001)
    with pytest.raises(ValueError, match=r"^hidden 40000 x layers 2 \(lstm\) is at least "
                                         r"1\.92e\+10 parameters"):
        check_size(cell="lstm", hidden=40000, layers=2)


def test_memory_check_names_the_estimate(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match=r"^net has 1e\+06 parameters, about 0\.0149 GiB to train "
                                         r"\(weights, gradients, Adam state\), more than half of "
                                         r"the 0\.02 GiB on cpu; lower --hidden or --layers$"):
        monkeypatch.setattr(sizes, "available_memory", lambda device: int(0.02 * 2**30))
        check_memory(10**6, torch.device("cpu"), what="net")
    cfg = TrainConfig(dataset="mnist-subset", hidden=2048, epochs=1, train_limit=8, device="cpu")
    with pytest.raises(ValueError, match=r"^hidden 2048 x layers 2 \(rnn\) has 1\.27e\+07 "
                                         r"parameters, about 0\.189 GiB"):
        train(cfg, tmp_path / "run", progress=False)
    assert not (tmp_path / "run" / "ckpt").exists()
