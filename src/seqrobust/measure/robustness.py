"""Robustness curves of trained runs (robust accuracy against ε) with the sanity checks that
come with every curve.

ε and the PGD step are given in the dataset's perturbation unit (``SequenceData.eps_unit``):
pixel units (0-255) for MNIST, as on the poster (the models see ``pixels / 255``), and the
training standard deviation for the standardised aeon sets. Variable-length data are attacked
per group of equal length (:func:`~seqrobust.measure._lengths.map_groups`), so padded steps
are never perturbed; unbounded data are not clipped.

Checks (each ``pass``/``fail``/``n/a``):

1. *robust ≤ clean* at every ε;
2. *non-increasing in ε* (guaranteed by the nested sweep; checks a hand-made curve);
3. *plain model broken at ε = 30*: an undefended model should be near 0 there (≤ 10 %);
4. *no gradient masking*: a black-box attack (Square) must not beat the white-box curve on the
   same inputs by more than the tolerance, else the gradients are misleading.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

import torch
from torch import nn

from seqrobust._checks import check_choice
from seqrobust.attacks import APGD, FGSM, L2PGD, FixedEpsilonAttack, LinfPGD, Square, sweep
from seqrobust.attacks.base import check_epsilons
from seqrobust.data import SequenceData
from seqrobust.measure._lengths import attack_bounds, map_groups
from seqrobust.measure._prepare import prepare, require_data
from seqrobust.models.classifier import Classifier, as_classifier
from seqrobust.seeds import input_seeds

ATTACKS: tuple[str, ...] = ("pgd", "pgd-l2", "fgsm", "apgd-ce", "apgd-dlr", "square")
BLACK_BOX: tuple[str, ...] = ("square",)
BROKEN_AT_30 = 0.10
"""A plain model is "near 0" at ε = 30 when its robust accuracy is at most this."""


def to_model_units(size: float, eps_scale: float) -> float:
    """A perturbation size in model units: ``size * eps_scale``, computed as
    ``size / (1 / eps_scale)`` so pixel sizes give exactly ``pixels / 255``."""
    return size / (1.0 / eps_scale)


@dataclass(frozen=True)
class AttackSettings:
    """One attack's configuration, with sizes in the data's perturbation unit (pixels for MNIST).

    Attributes:
        attack: one of :data:`ATTACKS`.
        alpha: step size in perturbation units (PGD, PGD-L2); ``None``: ``max(eps) / 15`` of
            the curve it runs on (2 pixels at the poster's largest ε = 30), never a pixel
            default.
        steps: iterations (PGD, PGD-L2, APGD).
        restarts: random restarts.
        random_start: PGD starts at a random point of the ball.
        queries: Square's query budget per restart.
        seed: seed of the attack's random numbers.
    """

    attack: str = "pgd"
    alpha: float | None = None
    steps: int = 30
    restarts: int = 1
    random_start: bool = True
    queries: int = 1000
    seed: int = 0

    def __post_init__(self) -> None:
        check_choice(self.attack, ATTACKS, name="attack")

    def step(self, eps: Sequence[float]) -> float:
        """The step size in perturbation units for a curve over ``eps``."""
        return self.alpha if self.alpha is not None else max(eps) / 15.0

    def build(self, *, eps_scale: float, eps: Sequence[float] = (1.0,)) -> FixedEpsilonAttack:
        """The attack object (model units); ``eps_scale``: model units per perturbation unit
        (the data's), ``eps``: the radii it will run at (for the default step)."""
        alpha = to_model_units(self.step(eps), eps_scale)
        if self.attack == "pgd":
            return LinfPGD(
                alpha=alpha, steps=self.steps, random_start=self.random_start,
                restarts=self.restarts,
            )
        if self.attack == "pgd-l2":
            return L2PGD(
                alpha=alpha, steps=self.steps, random_start=self.random_start,
                restarts=self.restarts,
            )
        if self.attack == "fgsm":
            return FGSM()
        if self.attack == "square":
            return Square(queries=self.queries, restarts=self.restarts, seed=self.seed)
        loss: Literal["ce", "dlr"] = "ce" if self.attack == "apgd-ce" else "dlr"
        return APGD(loss=loss, steps=self.steps, restarts=self.restarts, seed=self.seed)


@dataclass(frozen=True)
class RobustnessCurve:
    """Robust accuracy against ε for one model and attack.

    Attributes:
        label: the model's name in plots and tables.
        settings: the attack.
        eps: radii in perturbation units (``unit``), increasing.
        accuracy: robust accuracy at each ε (fraction).
        clean_accuracy: accuracy without perturbation.
        n: number of test inputs.
        seconds: wall time of the attack.
        first_fooled: per input, the index of the first ε that fooled it (``-1``: wrong when
            clean, ``len(eps)``: never); lets a curve be restricted to the first inputs.
        unit: the perturbation unit of ``eps`` and ``settings.alpha``.
    """

    label: str
    settings: AttackSettings
    eps: tuple[float, ...]
    accuracy: tuple[float, ...]
    clean_accuracy: float
    n: int
    seconds: float
    first_fooled: tuple[int, ...] = field(default=(), repr=False)
    unit: str = "pixel (0-255)"

    def head(self, n: int) -> RobustnessCurve:
        """The same curve on the first ``n`` inputs only (needs ``first_fooled``)."""
        if not self.first_fooled:
            raise ValueError(f"curve {self.label!r} has no per-input record")
        n = min(n, self.n)
        first = torch.tensor(self.first_fooled[:n])
        acc = tuple(float((first > k).double().mean()) for k in range(len(self.eps)))
        clean = float((first >= 0).double().mean())
        return replace(
            self, accuracy=acc, clean_accuracy=clean, n=n, first_fooled=self.first_fooled[:n]
        )

    def at(self, eps: float) -> float:
        """Robust accuracy at radius ``eps`` (the curve's unit), which must be on the curve."""
        for e, a in zip(self.eps, self.accuracy, strict=True):
            if abs(e - eps) < 1e-9:
                return a
        raise ValueError(f"curve {self.label!r} has no ε = {eps:g}")

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable record."""
        record = asdict(self)
        record["eps"], record["accuracy"] = list(self.eps), list(self.accuracy)
        record["first_fooled"] = list(self.first_fooled)
        return record

    @classmethod
    def from_json(cls, record: dict[str, Any]) -> RobustnessCurve:
        """Inverse of :meth:`to_json`."""
        data = dict(record)
        data["settings"] = AttackSettings(**data["settings"])
        for key in ("eps", "accuracy", "first_fooled"):
            data[key] = tuple(data.get(key, ()))
        return cls(**data)


def robustness_curve(
    model: nn.Module | Classifier,
    data: SequenceData,
    *,
    eps: Sequence[float],
    settings: AttackSettings | None = None,
    attack: str = "pgd",
    n: int | None = None,
    batch_size: int = 1000,
    label: str = "model",
    progress: bool = False,
    indices: torch.Tensor | None = None,
) -> RobustnessCurve:
    """Run the nested ε-sweep of ``settings`` on the first ``n`` inputs of ``data``.

    Input ``i`` of ``data`` draws its random starts from its own seed ``settings.seed ·
    1_000_003 + i`` (:func:`~seqrobust.seeds.input_seeds`), so its result does not
    depend on the batch size or on sharding (APGD and Square, run by torchattacks, draw per
    batch: their curves are equally valid but not identical across shardings).

    The model is attacked in its current mode (eval for a loaded run) on its own device.
    Variable-length data are attacked per group of one length, only real steps perturbed
    (:meth:`~seqrobust.models.Classifier.groups`: trimmed where that is provably the same
    function, else fed padded as the model expects).

    Args:
        model: the classifier: any module, or a :class:`~seqrobust.models.Classifier` for one
            taking ``(x, lengths)``.
        data: test data in model units (variable lengths and no bounds allowed).
        eps: radii in the data's perturbation unit (``data.eps_unit``).
        settings: the attack; default ``AttackSettings(attack=attack)``.
        attack: one of :data:`ATTACKS` (when ``settings`` is not given).
        n: use the first ``n`` inputs (default all).
        batch_size: inputs per attack call.
        label: name of the curve.
        progress: show a progress bar.
        indices: ``(M,)`` int64 global indices of the inputs of ``data`` to attack instead of
            the first ``n`` (one ``--shard``; their seeds follow the global index).

    Returns:
        The curve, in increasing ε.
    """
    require_data(data)
    if settings is None:
        settings = AttackSettings(attack=attack)
    if indices is None:
        subset = data if n is None else data.take(n)
        indices = torch.arange(len(subset))
    else:
        subset = data.subset(indices)
    clf = prepare(model, subset) if len(subset) else as_classifier(model)
    seeds = input_seeds(settings.seed, indices)
    device = next((p.device for p in clf.parameters()), torch.device("cpu"))
    x, y = subset.inputs.to(device), subset.labels.to(device)
    radii = sorted(set(check_epsilons(tuple(eps))))
    bounds = attack_bounds(subset)
    attacker = settings.build(eps_scale=subset.eps_scale, eps=radii)
    scaled = [to_model_units(e, subset.eps_scale) for e in radii]
    started = time.perf_counter()
    first = map_groups(  # one sweep per group of equal length (see above)
        lambda xg, rows, group: {"first": sweep(
            attacker, group.forward(order=1), xg, y[rows], epsilons=scaled, bounds=bounds,
            batch_size=batch_size, seeds=seeds[rows.cpu()],
            progress=progress and subset.lengths is None,
        ).first_fooled},
        x, clf.groups(x, subset.lengths),
    )["first"] if len(subset) else torch.zeros(0, dtype=torch.long)
    seconds = time.perf_counter() - started
    if settings.alpha is None and settings.attack in ("pgd", "pgd-l2"):
        settings = replace(settings, alpha=settings.step(radii))  # record the step it used
    return curve_from_first_fooled(
        first, label=label, settings=settings, eps=tuple(radii), seconds=seconds,
        unit=subset.eps_unit,
    )


def curve_from_first_fooled(
    first: torch.Tensor,
    *,
    label: str,
    settings: AttackSettings,
    eps: tuple[float, ...],
    seconds: float,
    unit: str,
) -> RobustnessCurve:
    """The curve of per-input results ``first`` ``(N,)`` (see ``RobustnessCurve.first_fooled``;
    also used to merge ``--shard`` jobs)."""
    return RobustnessCurve(
        label=label,
        settings=settings,
        eps=eps,
        accuracy=tuple(float((first > k).double().mean()) for k in range(len(eps))),
        clean_accuracy=float((first >= 0).double().mean()),  # float64 like the robust ones
        n=len(first),
        seconds=seconds,
        first_fooled=tuple(int(i) for i in first.tolist()),
        unit=unit,
    )


__all__ = [
    "ATTACKS",
    "AttackSettings",
    "RobustnessCurve",
    "curve_from_first_fooled",
    "robustness_curve",
    "to_model_units",
]
