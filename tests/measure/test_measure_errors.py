"""Every measurement refuses what it cannot measure with one line naming the fix: a model with
the wrong output shape, a non-differentiable one, NaN logits, inputs of the wrong rank or
feature count, labels outside the classes, a ``(x, lengths)`` model called without lengths,
inputs of another dtype than a model that does not convert them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch
from torch import Tensor, nn

import seqrobust as sr

T, F, L = 4, 3, 3


class Linear(nn.Module):
    def __init__(self, classes: int = L, features: int = F) -> None:
        super().__init__()
        self.lin = nn.Linear(features * T, classes)

    def forward(self, x: Tensor) -> Tensor:
        return self.lin(x.flatten(1))


class Rounded(Linear):
    def forward(self, x: Tensor) -> Tensor:
        return self.lin(x.flatten(1)).detach()


class NaNs(Linear):
    def forward(self, x: Tensor) -> Tensor:
        return self.lin(x.flatten(1)) * float("nan")


class Flat(Linear):
    def forward(self, x: Tensor) -> Tensor:
        return self.lin(x.flatten(1)).sum(1)


class NeedsLengths(Linear):
    def forward(self, x: Tensor, lengths_of_rows: Tensor) -> Tensor:
        return self.lin(x.flatten(1))


class GRUNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.gru = nn.GRU(F, 4, batch_first=True)
        self.head = nn.Linear(4, L)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.gru(x)[0][:, -1])


class Casts(Linear):
    """Works on inputs of any float dtype: it casts them to its own."""

    def forward(self, x: Tensor) -> Tensor:
        return self.lin(x.flatten(1).to(self.lin.weight.dtype))


def _data(**overrides: Any) -> sr.SequenceData:
    gen = torch.Generator().manual_seed(0)
    values: dict[str, Any] = {"x": torch.randn(6, T, F, generator=gen),
                              "y": torch.tensor([0, 1, 2, 0, 1, 2])}
    values.update(overrides)
    return sr.SequenceData.from_arrays(values.pop("x"), values.pop("y"), **values)


def _analyze(model: nn.Module, data: Any) -> object:
    return sr.analyze(model, data, n=2, lanczos_iters=3, fmn_steps=2)


def _curve(model: nn.Module, data: Any) -> object:
    return sr.robustness_curve(model, data, eps=[0.1], n=4)


def _noise(model: nn.Module, data: Any) -> object:
    return sr.noise_bound(model, data, n=1, samples=4)


def _curvature(model: nn.Module, data: Any) -> object:
    return sr.curvature(model, data, n=2, probes=1)


MEASURES: list[Callable[[nn.Module, Any], object]] = [_analyze, _curve, _noise, _curvature]
CASES = [
    ("wrong output shape", lambda: Flat(), _data, "must return logits of shape (batch, classes)"),
    ("classes differ", lambda: Linear(classes=5), _data, "returns 5 logits but the data have 3"),
    ("not differentiable", lambda: Rounded(), _data, "do not depend differentiably"),
    ("NaN logits", lambda: NaNs(), _data, "non-finite (NaN or inf) logits"),
    ("feature count", lambda: Linear(features=2), _data, "check that it takes (batch, time, 3)"),
    ("not data", lambda: Linear(), lambda: torch.randn(6, T, F),
     "must be a seqrobust.SequenceData"),
    ("lengths not declared", lambda: NeedsLengths(), _data, "declare Classifier(model, "
     "takes_lengths=True)"),
    ("dtypes differ", lambda: Linear().double(), _data, "the model failed on float32 inputs, "
     "its parameters are float64; convert one (model.to(torch.float32)"),
    ("dtypes differ (nn.GRU)", lambda: GRUNet().double(), _data, "the model failed on float32 "
     "inputs, its parameters are float64"),
]


@pytest.mark.parametrize("measure", MEASURES, ids=lambda m: m.__name__.strip("_"))
@pytest.mark.parametrize(("case", "model", "data", "message"), CASES, ids=[c[0] for c in CASES])
def test_one_line_errors(measure: Callable[[nn.Module, Any], object], case: str,
                         model: Callable[[], nn.Module], data: Callable[[], Any],
                         message: str) -> None:
    with pytest.raises(ValueError) as info:
        measure(model(), data())
    text = str(info.value)
    assert message in text and "\n" not in text


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"x": torch.randn(6, T)}, "(N, T, F)"),
    ({"y": torch.tensor([0, 1, 2, 0, 1, 7]), "num_classes": 3}, "labels"),
])
def test_bad_arrays_are_refused_when_the_data_is_built(kwargs: dict[str, Any],
                                                       message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        _data(**kwargs)


def test_the_checks_pass_a_good_model() -> None:
    curve = sr.robustness_curve(Linear(), _data(), eps=[0.1], n=4)
    assert curve.n == 4
    # inputs of another dtype are fine for a model that converts them itself
    data = _data(x=torch.randn(6, T, F, generator=torch.Generator().manual_seed(0),
                               dtype=torch.float64))
    model = Casts()
    curve = sr.robustness_curve(model, data, eps=[0.1], n=6)
    with torch.no_grad():
        plain = (model(data.inputs).argmax(1) == data.labels).double().mean()
    assert curve.clean_accuracy == pytest.approx(float(plain))
