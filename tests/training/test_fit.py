"""``fit``: any module, any regulariser, the same loop (and weights) as the run-folder ``train``."""

from __future__ import annotations

import copy
import math

import pytest
import torch
from torch import Tensor, nn
from training_cases import GOLDEN, module_digest, weights_digest

from seqrobust.data import load_dataset
from seqrobust.models import RecurrentClassifier
from seqrobust.training import NonFiniteLoss, TrainConfig, accuracy, fit, train


@pytest.mark.parametrize(("name", "options", "digests"),
                         [g for g in GOLDEN if g.id != "jv-hessian"])
def test_fit_trains_the_same_weights_as_train(name, options, digests, one_thread, tmp_path):
    """The golden configs, through ``fit`` on a model built as ``train`` builds it: the same
    bits as ``train`` gives on this machine (whose own digest the golden test checks)."""
    train(TrainConfig(**options), tmp_path / name, progress=False)
    data = load_dataset(options["dataset"], split="train", limit=options["train_limit"])
    test = load_dataset(options["dataset"], split="test", limit=options["test_limit"])
    torch.manual_seed(0)
    model = RecurrentClassifier(input_size=data.num_features, num_classes=data.num_classes,
                                cell=options.get("cell", "rnn"), hidden_size=options["hidden"],
                                num_layers=2)
    reg = options.get("reg")
    extra = {"at_eps": 8 * data.eps_scale, "at_alpha": 2 * data.eps_scale,
             "at_steps": options["at_steps"]} if reg == "pgd-at" else {}
    result = fit(model, data, reg=reg, lam=options.get("lam", 0.0), epochs=1,
                 batch_size=options["batch_size"], test=test,
                 takes_lengths=data.lengths is not None, progress=False, **extra)
    assert module_digest(model) == weights_digest(tmp_path / name)
    assert result.steps == math.ceil(len(data) / options["batch_size"])
    assert [h.epoch for h in result.history] == [1] and result.history[0].step == result.steps


def test_fit_learns_and_reports_each_epoch():
    data = load_dataset("mnist-subset", split="train", limit=512)
    test = load_dataset("mnist-subset", split="test", limit=200)
    model = RecurrentClassifier(input_size=28, num_classes=10, hidden_size=32, num_layers=1)
    before = accuracy(model, test)
    result = fit(model, data, epochs=3, batch_size=64, lr=5e-3, test=test, progress=False)
    assert result.steps == 3 * 8 and [h.epoch for h in result.history] == [1, 2, 3]
    assert result.test_accuracy == accuracy(model, test)  # the reported number is the model's
    assert result.test_accuracy > before + 0.2
    losses = [h.loss for h in result.history]
    assert losses[2] < losses[0] and all(h.reg is None for h in result.history)
    assert model.training  # the mode it had before


class MeanPool(nn.Module):
    """A user's module that takes lengths: the mean over the real steps, then a linear map."""

    def __init__(self, features: int, classes: int) -> None:
        super().__init__()
        self.linear = nn.Linear(features, classes)
        self.seen: list[Tensor] = []

    def forward(self, x: Tensor, lengths: Tensor) -> Tensor:
        self.seen.append(lengths)
        mask = (torch.arange(x.shape[1])[None, :] < lengths[:, None]).to(x.dtype)
        pooled = (x * mask[..., None]).sum(1) / lengths[:, None].to(x.dtype)
        return self.linear(pooled)


def test_fit_runs_a_lengths_module_and_binds_the_penalised_rows():
    data = load_dataset("JapaneseVowels", split="train", limit=40)
    model = MeanPool(data.num_features, data.num_classes)
    calls = []

    def penalty(forward, x, y, *, generator):
        batch_lengths = model.seen[-1]  # from the step's main forward
        bound = forward(x)
        assert torch.equal(model.seen[-1], batch_lengths[: len(x)])  # the penalised rows'
        calls.append((bound.detach(), model(x, batch_lengths[: len(x)]).detach()))
        return bound.square().mean()

    fit(model, data, reg=penalty, lam=0.1, epochs=1, batch_size=16, reg_fraction=0.5,
        progress=False)
    assert len(calls) == 3  # 40 inputs in batches of 16, 16, 8
    for bound, direct in calls:
        assert len(bound) == 8  # half of the batch (of 16 on one rank; the last batch has 8)
        torch.testing.assert_close(bound, direct, rtol=0, atol=0)
    assert any(bool((s < data.seq_len).any()) for s in model.seen)  # real lengths reached it


def test_non_finite_penalty_stops_with_the_step_and_keeps_the_weights():
    data = load_dataset("mnist-subset", split="train", limit=128)
    model = RecurrentClassifier(input_size=28, num_classes=10, hidden_size=8, num_layers=1)
    calls: list[dict[str, Tensor]] = []

    def penalty(forward, x, y, *, generator):
        calls.append(copy.deepcopy(model.state_dict()))
        scale = float("nan") if len(calls) == 3 else 1.0
        return forward(x).square().mean() * scale

    with pytest.raises(NonFiniteLoss, match=r"^step 3 \(epoch 1\): the loss became [\d.]+ "
                                            r"\(penalty nan\); lower the learning rate or lam$"):
        fit(model, data, reg=penalty, lam=1.0, epochs=1, batch_size=32, progress=False)
    assert len(calls) == 3
    for key, value in model.state_dict().items():  # as after step 2: step 3 changed nothing
        assert torch.equal(value, calls[2][key]), key
    assert not all(torch.equal(value, calls[1][key]) for key, value in calls[2].items())
