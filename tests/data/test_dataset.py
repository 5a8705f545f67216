import numpy as np
import pytest
import torch

from seqrobust.data import SequenceData
from seqrobust.data.dataset import padding_value


def _x() -> torch.Tensor:
    """(4, 5, 3) float32 spanning exactly [0, 1]."""
    return torch.linspace(0.0, 1.0, 60).reshape(4, 5, 3)


def _y() -> torch.Tensor:
    return torch.tensor([0, 2, 1, 2])


def test_round_trip_numpy_keeps_values_and_dtypes():
    x64 = np.random.default_rng(0).normal(size=(4, 5, 3))
    data = SequenceData.from_arrays(x64, np.array([1, 0, 1, 1], dtype=np.int32))
    assert data.inputs.dtype == torch.float64 and data.labels.dtype == torch.int64
    np.testing.assert_array_equal(data.inputs.numpy(), x64)
    assert data.labels.tolist() == [1, 0, 1, 1]
    x64[0, 0, 0] = 99.0  # numpy input was copied
    assert float(data.inputs[0, 0, 0]) != 99.0
    data32 = SequenceData.from_arrays(x64.astype(np.float32), np.array([0, 1, 2, 0]))
    assert data32.inputs.dtype == torch.float32 and data32.num_classes == 3


def test_defaults_carry_no_pixel_units():
    x = _x()
    data = SequenceData.from_arrays(x, _y())
    assert data.inputs is x  # tensors are used as given
    assert data.bounds is None and data.eps_scale == 1.0 and data.eps_unit == "model units"
    assert data.num_classes == 3 and data.name == "data" and data.lengths is None
    assert (len(data), data.seq_len, data.num_features) == (4, 5, 3)


def test_stated_units_and_lengths_are_kept():
    lengths = np.array([5, 2, 3, 1])
    data = SequenceData.from_arrays(
        _x(),
        _y(),
        lengths=lengths,
        num_classes=4,
        bounds=[0, 1],
        unit="pixel (0-255)",
        scale=1 / 255,
        name="mine",
    )
    assert data.bounds == (0.0, 1.0) and isinstance(data.bounds[0], float)
    assert data.eps_unit == "pixel (0-255)" and data.eps_scale == pytest.approx(1 / 255)
    assert data.num_classes == 4 and data.name == "mine"
    assert data.lengths is not None and data.lengths.dtype == torch.int64
    assert data.mask.sum(1).tolist() == [5, 2, 3, 1]
    assert data.subset(slice(1, 3)).lengths.tolist() == [2, 3]  # type: ignore[union-attr]


def _bad_x(fill: float, count: int) -> torch.Tensor:
    x = _x()
    x.view(-1)[:count] = fill
    return x


ERRORS = [  # (overrides of the good call, expected message fragment)
    ({"x": torch.zeros(4, 5)}, "x must be (N, T, F), got shape (4, 5); add a feature axis"),
    ({"x": torch.zeros(4, 5, 3, 1)}, "x must be (N, T, F), got shape (4, 5, 3, 1)"),
    ({"x": torch.zeros(4, 5, 3, dtype=torch.int64)}, "x must be floating point, got torch.int64"),
    ({"x": np.zeros((4, 5, 3), dtype=np.uint8)}, "x must be floating point, got torch.uint8"),
    ({"x": np.zeros((4, 5, 3), dtype=complex)}, "x has unsupported dtype complex128"),
    ({"x": [[[0.0]]]}, "x must be a numpy array or a tensor, got list"),
    ({"x": torch.zeros(0, 5, 3), "y": torch.zeros(0, dtype=torch.int64)}, "x is empty"),
    ({"x": torch.zeros(4, 0, 3)}, "x is empty (shape (4, 0, 3)); need N, T, F >= 1"),
    ({"x": torch.zeros(4, 5, 0)}, "x is empty (shape (4, 5, 0))"),
    ({"x": _bad_x(float("nan"), 1)}, "x holds 1 NaN/inf values; remove or impute them"),
    ({"x": _bad_x(float("-inf"), 2)}, "x holds 2 NaN/inf values"),
    ({"y": torch.tensor([0, 1, 2])}, "y must have shape (4,) to match x, got (3,)"),
    ({"y": torch.zeros(4, 1, dtype=torch.int64)}, "y must have shape (4,) to match x, got (4, 1)"),
    ({"y": np.array([0.0, 1.0, 1.0, 0.0])}, "y must be integers, got torch.float64"),
    ({"y": torch.tensor([True, False, True, True])}, "y must be integers, got torch.bool"),
    ({"y": torch.tensor([0, -1, 2, 1])}, "labels must lie in [0, 3), found -1..2; remap them"),
    ({"num_classes": 2}, "labels must lie in [0, 2), found 0..2"),
    ({"num_classes": 0}, "num_classes must be a positive integer, got 0"),
    ({"num_classes": 3.0}, "num_classes must be a positive integer, got 3.0"),
    ({"lengths": torch.tensor([5, 0, 3, 1])}, "lengths must lie in [1, 5] (T), found 0..5"),
    ({"lengths": torch.tensor([5, 6, 3, 1])}, "lengths must lie in [1, 5] (T), found 1..6"),
    ({"lengths": np.array([5.0, 2.0, 3.0, 1.0])}, "lengths must be integers, got torch.float64"),
    ({"lengths": torch.tensor([5, 2])}, "lengths must have shape (4,) to match x, got (2,)"),
    ({"bounds": (0.0, float("inf"))}, "bounds must be finite, got (0.0, inf); use None"),
    ({"bounds": (float("nan"), 1.0)}, "bounds must be finite"),
    ({"bounds": (1.0, 1.0)}, "bounds need lower < upper, got (1.0, 1.0)"),
    ({"bounds": (2.0, -1.0)}, "bounds need lower < upper, got (2.0, -1.0)"),
    ({"bounds": (0.0,)}, "bounds must be (lower, upper), got (0.0,)"),
    ({"bounds": "01"}, "bounds must be (lower, upper), got '01'"),
    ({"bounds": (0.0, 0.5)}, "x spans [0, 1], outside bounds (0, 0.5); widen the bounds"),
    ({"bounds": (0.1, 2.0)}, "x spans [0, 1], outside bounds (0.1, 2)"),
    ({"scale": 0.0}, "scale must be positive and finite, got 0.0"),
    ({"scale": -1.0}, "scale must be positive and finite, got -1.0"),
    ({"scale": float("inf")}, "scale must be positive and finite, got inf"),
    ({"scale": float("nan")}, "scale must be positive and finite, got nan"),
    ({"scale": "1"}, "scale must be a number, got '1'"),
    ({"scale": True}, "scale must be a number, got True"),
    ({"unit": ""}, "unit must be a non-empty string, got ''"),
]


@pytest.mark.parametrize(("overrides", "fragment"), ERRORS, ids=[e[1][:40] for e in ERRORS])
def test_from_arrays_rejects(overrides, fragment):
    kwargs = {"x": _x(), "y": _y(), "name": "mine", **overrides}
    x, y = kwargs.pop("x"), kwargs.pop("y")
    with pytest.raises(ValueError) as info:
        SequenceData.from_arrays(x, y, **kwargs)
    message = str(info.value)
    assert fragment in message
    assert message.startswith("mine: ") and "\n" not in message


def test_bounds_that_hold_are_accepted_exactly_at_the_edges():
    data = SequenceData.from_arrays(_x(), _y(), bounds=(0.0, 1.0))
    assert data.bounds == (0.0, 1.0)


def test_padding_value():
    x = torch.randn(3, 4, 2)
    assert padding_value(SequenceData.from_arrays(x, torch.tensor([0, 1, 0]))) is None
    full = SequenceData.from_arrays(x, torch.tensor([0, 1, 0]), lengths=torch.tensor([4, 4, 4]))
    assert padding_value(full) is None
    lengths = torch.tensor([4, 1, 2])
    padded = x.clone()
    padded[1, 1:] = -7.5
    padded[2, 2:] = -7.5
    data = SequenceData.from_arrays(padded, torch.tensor([0, 1, 0]), lengths=lengths)
    assert padding_value(data) == -7.5
    padded[2, 3, 1] = 0.0  # one feature of one padded step differs
    mixed = SequenceData.from_arrays(padded, torch.tensor([0, 1, 0]), lengths=lengths, name="m")
    with pytest.raises(
        ValueError, match=r"^m: padded steps hold different values; pad with a constant$"
    ):
        padding_value(mixed)
