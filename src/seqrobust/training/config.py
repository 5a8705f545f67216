"""The training configuration: one frozen dataclass that owns its defaults, its ``--help`` texts
and checks itself."""

from __future__ import annotations

import dataclasses
import json
import math
import typing
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, TypeVar

from seqrobust._checks import check_choice
from seqrobust._safeio import read_text
from seqrobust.data.registry import MNIST_DATASETS, check_dataset
from seqrobust.models.factory import ARCHS
from seqrobust.models.recurrent import CELLS
from seqrobust.training.sizes import MAX_LAYERS, check_size

REGULARIZERS = ("none", "hessian", "jacobian", "cure", "pgd-at")
ESTIMATORS = ("hutchinson", "fd", "central", "exact")
UNITS = ("std", "raw")
VAL_SPLIT_SEED = 0
"""Seeds the ``val_fraction`` split: fixed, so runs of every seed and λ share one validation set."""
_T = TypeVar("_T")


def _opt(default: _T, help: str) -> _T:
    """A field with its ``--help`` text (``seqrobust train`` builds its options from these)."""
    return dataclasses.field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a training run (saved as ``config.json``).

    The defaults are the poster's model (2-layer tanh RNN, hidden 128, MNIST rows) with a recipe
    that reaches >= 98 % test accuracy: Adam, lr 2e-3 with cosine decay to 0, gradient-norm
    clipping at 1, orthogonal recurrent initialisation. Each field's ``metadata["help"]`` is
    its ``--help`` text.

    ``units="raw"`` trains an aeon set in its shipped units (unbounded, not standardised);
    MNIST has std units only. ``val_fraction > 0`` holds out a stratified validation set from
    the (``train_limit``-cut) training split with
    :func:`~seqrobust.data.splits.split_validation` and split seed :data:`VAL_SPLIT_SEED`, not
    ``seed``: models of every seed and λ are selected on the same validation inputs. The model
    trains on the rest; a finished run records ``val_accuracy`` in ``model.json``.

    Raises:
        ValueError: one line naming the field, on a value of the wrong type, an unknown
            choice, a non-finite number or one out of range.
    """

    dataset: str = _opt("mnist", "mnist | mnist-pixels | mnist-subset | ... (or an aeon set)")
    data_root: str | None = _opt(None, "Folder with the data files.")
    units: str = _opt("std", "Data units: std (standardised with training statistics) | raw "
                             "(aeon series as shipped, unbounded: the published UCR protocol).")
    cell: str = dataclasses.field(default="rnn", metadata={
        "help": "Architecture: rnn | lstm | gru | transformer | tcn (also --arch).",
        "aliases": ("--arch",)})
    layers: int = _opt(2, "Recurrent layers or encoder blocks (tcn: as many residual blocks as "
                          "cover the sequence).")
    hidden: int = _opt(128, "Hidden units per layer (transformer: model width; tcn: channels).")
    heads: int = _opt(4, "Attention heads (transformer).")
    dropout: float = _opt(0.0, "Dropout between layers, in [0, 1).")
    epochs: int = _opt(10, "Training epochs.")
    batch_size: int = _opt(128, "Batch size.")
    lr: float = _opt(2e-3, "Peak learning rate (cosine decay to 0).")
    weight_decay: float = _opt(0.0, "Adam weight decay.")
    clip: float = _opt(1.0, "Gradient-norm clipping (0 = off).")
    seed: int = _opt(0, "Random seed.")
    train_limit: int | None = _opt(None, "Use only N training examples.")
    test_limit: int | None = _opt(None, "Use only N test examples.")
    val_fraction: float = _opt(
        0.0, "Hold out this fraction of each class of the training inputs as a validation set "
             "(a fixed split, the same for every --seed; the model trains on the rest), in "
             "[0, 0.5); 0 = none.")
    log_every: int = _opt(50, "Write a metrics line every N steps.")
    checkpoint_every: int = _opt(
        0, "Also checkpoint every N steps (0: only at the end of each epoch).")
    reg: str = _opt("none", "none | hessian | jacobian | cure | pgd-at")
    lam: float = _opt(0.0, "Regularisation weight (needs --reg).")
    estimator: str = _opt("fd", "hutchinson | fd | central | exact")
    probes: int = _opt(1, "Random probes per input.")
    fd_step: float | None = _opt(None, "Finite-difference step.")
    reg_fraction: float = _opt(
        1.0, "Fraction of a batch regularised (an unbiased random subset), in (0, 1].")
    at_eps: float = _opt(8.0, "PGD-AT radius (pixel units 0-255 for MNIST).")
    at_steps: int = _opt(7, "PGD-AT steps.")
    at_alpha: float = _opt(2.0, "PGD-AT step (pixel units).")
    device: str = _opt("auto", "auto | cpu | cuda | cuda:N")

    def __post_init__(self) -> None:
        _check_types(self)
        check_dataset(self.dataset)
        check_choice(self.units, UNITS, name="units")
        if self.units != "std" and self.dataset in MNIST_DATASETS:
            raise ValueError(f"--units {self.units} applies to aeon datasets only; "
                             f"{self.dataset} is in [0, 1] (use --units std)")
        check_choice(self.cell, ARCHS, name="arch")
        check_choice(self.reg, REGULARIZERS, name="regulariser")
        check_choice(self.estimator, ESTIMATORS, name="estimator")
        _check_ranges(self)
        if self.cell in CELLS:
            check_size(cell=self.cell, hidden=self.hidden, layers=self.layers)
        if self.cell == "transformer" and self.hidden % self.heads:
            raise ValueError(f"hidden {self.hidden} must be a multiple of heads {self.heads}")
        if self.reg != "none" and self.lam == 0:
            raise ValueError(f"--reg {self.reg} needs a positive --lam")
        if self.reg == "none" and self.lam != 0:
            raise ValueError(f"--lam {self.lam:g} needs a regulariser; pass --reg "
                             "(hessian, jacobian, cure or pgd-at) or drop --lam")

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict of every field."""
        return dataclasses.asdict(self)

    def dumps(self) -> str:
        """The ``config.json`` text (strict JSON: never ``NaN``)."""
        return json.dumps(self.to_json(), indent=1, allow_nan=False) + "\n"

    @classmethod
    def help(cls) -> dict[str, str]:
        """Each field's ``--help`` text."""
        return {f.name: str(f.metadata.get("help", "")) for f in fields(cls)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TrainConfig:
        """Rebuild a config, rejecting unknown keys (a typo must not pass silently)."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown config keys: {', '.join(unknown)}")
        return cls(**data)

    @classmethod
    def load(cls, path: str | Path) -> TrainConfig:
        """Read ``config.json``; a malformed file gives a one-line error naming it.

        Raises:
            ValueError: on a missing, non-regular or malformed file, or a bad field.
        """
        path = Path(path)
        try:
            data = json.loads(read_text(path.parent, path.name), parse_constant=_no_constant)
        except FileNotFoundError:
            raise ValueError(f"{path}: not found (is this a seqrobust run folder?)") from None
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: malformed JSON ({exc.msg} at line {exc.lineno})") from None
        except ValueError as exc:  # a non-finite constant, or an unsafe path
            raise ValueError(f"{path}: {exc}" if str(path) not in str(exc) else str(exc)
                             ) from None
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected a JSON object, got {type(data).__name__}")
        try:
            return cls.from_json(data)
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from None


def _no_constant(name: str) -> float:
    raise ValueError(f"non-finite number {name} (NaN and Infinity are not JSON)")


_INT_RANGES: dict[str, tuple[int, int]] = {
    "layers": (1, MAX_LAYERS), "hidden": (1, 1 << 24), "heads": (1, 4096),
    "epochs": (1, 1_000_000),
    "batch_size": (1, 1 << 24), "log_every": (1, 1 << 40), "probes": (1, 10_000),
    "at_steps": (1, 100_000), "seed": (0, (1 << 32) - 1), "checkpoint_every": (0, 1 << 40),
    "train_limit": (1, 1 << 40), "test_limit": (1, 1 << 40),
}
_FLOAT_RANGES: dict[str, tuple[float, float, str]] = {  # low, high, which ends are open
    "lr": (0.0, 10.0, "(]"), "weight_decay": (0.0, 1e6, "[]"), "clip": (0.0, 1e12, "[]"),
    "lam": (0.0, 1e12, "[]"), "dropout": (0.0, 1.0, "[)"), "reg_fraction": (0.0, 1.0, "(]"),
    "at_eps": (0.0, 1e6, "(]"), "at_alpha": (0.0, 1e6, "(]"), "fd_step": (0.0, 1e6, "(]"),
    "val_fraction": (0.0, 0.5, "[)"),
}


def _check_types(cfg: TrainConfig) -> None:
    """Each field holds its annotated type (``int`` for floats is fine; ``bool`` never)."""
    hints = typing.get_type_hints(TrainConfig)
    for f in fields(cfg):
        value, hint = getattr(cfg, f.name), hints[f.name]
        allowed = typing.get_args(hint) or (hint,)
        if value is None:
            if type(None) not in allowed:
                raise ValueError(f"{f.name} must not be null")
            continue
        if isinstance(value, bool):
            ok = bool in allowed
        elif isinstance(value, int):
            ok = int in allowed or float in allowed
        else:
            ok = isinstance(value, tuple(t for t in allowed if isinstance(t, type)))
        if not ok:
            names = " or ".join(t.__name__ for t in allowed if t is not type(None))
            raise ValueError(f"{f.name} must be {_article(names)}, got {value!r} "
                             f"({type(value).__name__})")


def _article(names: str) -> str:
    return {"int": "an integer", "float": "a number", "str": "a string"}.get(names, names)


def check_range(name: str, value: float | None) -> None:
    """Require ``value`` in the range of hyperparameter ``name`` (``None`` passes).

    Raises:
        ValueError: ``"NAME must be ..., got VALUE"``.
    """
    if value is None:
        return
    if name in _INT_RANGES:
        low, high = _INT_RANGES[name]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"{name} must be an integer in [{low}, {high}], got {value!r}")
        return
    flo, fhi, ends = _FLOAT_RANGES[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value}")
    above = value > flo if ends[0] == "(" else value >= flo
    below = value < fhi if ends[1] == ")" else value <= fhi
    if not (above and below):
        raise ValueError(f"{name} must be in {ends[0]}{flo:g}, {fhi:g}{ends[1]}, got {value:g}")


def _check_ranges(cfg: TrainConfig) -> None:
    for name in (*_INT_RANGES, *_FLOAT_RANGES):
        check_range(name, getattr(cfg, name))
