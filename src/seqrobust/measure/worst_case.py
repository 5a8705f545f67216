"""The worst case over several attacks (an input counts as robust at ε only if no attack fooled
it there) and the area under a robustness curve.

:func:`worst_case` runs the attacks on any classifier; :func:`worst_case_accuracy`,
:func:`robust_mask` and :func:`survivors` combine curves already measured on the same inputs;
:func:`cascade` runs costly attacks only on the inputs still standing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from seqrobust.data.dataset import SequenceData
from seqrobust.measure.robustness import AttackSettings, RobustnessCurve, robustness_curve
from seqrobust.models.classifier import Classifier

WORST_CASE_ATTACKS: tuple[str, ...] = ("pgd", "apgd-ce", "apgd-dlr", "square")
"""The default attacks of :func:`worst_case`: white-box PGD and APGD (cross-entropy and DLR
loss, AutoAttack's pair) and the black-box Square attack (catches gradient masking)."""


def survivors(first_fooled: Tensor, index: Tensor) -> Tensor:
    """Which inputs every attack failed to fool (the worst case over attacks).

    Input ``i`` survives attack ``a`` at the radius with index ``index[a]`` on that attack's
    ε grid iff ``first_fooled[a, i] > index[a]`` (``-1``: wrong when clean, so never robust;
    ``len(eps)``: never fooled). It is robust in the worst case iff it survives every attack.

    Args:
        first_fooled: ``(A, N)`` integer records of ``A`` attacks on the same ``N`` inputs.
        index: ``(A,)`` position of the radius on each attack's ε grid.

    Returns:
        ``(N,)`` boolean mask.

    Raises:
        ValueError: on mismatched shapes.
    """
    if first_fooled.ndim != 2 or index.shape != (first_fooled.shape[0],):
        raise ValueError(
            f"expected first_fooled (A, N) and index (A,), got {tuple(first_fooled.shape)} "
            f"and {tuple(index.shape)}"
        )
    return (first_fooled > index[:, None]).all(dim=0)


def robust_mask(
    curves: Sequence[RobustnessCurve], eps: float, *, n: int | None = None
) -> Tensor:
    """Which inputs no attack in ``curves`` fooled at ``eps``: ``(N,)`` booleans.

    The curves must come from the same model and test inputs (in the same order) and carry
    per-input records; the first ``n`` inputs (default: the smallest curve's) are used.

    Raises:
        ValueError: if a curve lacks ``eps`` or its per-input record, or ``curves`` is empty.
    """
    if not curves:
        raise ValueError("a worst case needs at least one curve")
    count = min(c.n for c in curves) if n is None else min(n, *(c.n for c in curves))
    rows, index = [], []
    for c in curves:
        if len(c.first_fooled) < count:
            raise ValueError(f"curve {c.label!r} ({c.settings.attack}) has no per-input record")
        matches = [k for k, e in enumerate(c.eps) if abs(e - eps) < 1e-9]
        if not matches:
            raise ValueError(f"curve {c.label!r} ({c.settings.attack}) has no ε = {eps:g}")
        rows.append(torch.tensor(c.first_fooled[:count], dtype=torch.long))
        index.append(matches[0])
    return survivors(torch.stack(rows), torch.tensor(index, dtype=torch.long))


def worst_case_accuracy(
    curves: Sequence[RobustnessCurve], eps: float, *, n: int | None = None
) -> float:
    """Robust accuracy at ``eps`` when an input counts only if no attack in ``curves`` fooled it
    (the mean of :func:`robust_mask`; NaN on no inputs)."""
    mask = robust_mask(curves, eps, n=n)
    return float(mask.double().mean()) if mask.numel() else float("nan")


def cascade(run: Callable[[str, Tensor], RobustnessCurve | None], attacks: Sequence[str],
            alive: Tensor, eps: float) -> Tensor:
    """The worst case at ``eps`` with costly attacks run only where they can still matter.

    AutoAttack's order of business: each attack in turn runs only on the inputs that every
    attack before it failed to fool. An input counts as robust iff no attack fooled it, as in
    :func:`worst_case_accuracy` over every attack run on every input, at the cost of the
    inputs still standing.

    Args:
        run: ``run(attack, index)`` gives the attack's curve (with ``eps`` on it) on the inputs
            ``index`` (``(K,)`` positions), or ``None`` to skip the attack.
        attacks: names, in the order to run them (cheapest or strongest first).
        alive: ``(N,)`` booleans, the inputs every earlier attack failed to fool (e.g.
            :func:`robust_mask` of the curves already measured).
        eps: the radius.

    Returns:
        ``(N,)`` booleans: robust against every attack (a new tensor).
    """
    alive = alive.clone()
    for attack in attacks:
        index = torch.nonzero(alive).flatten()
        if not index.numel():
            break
        found = run(attack, index)
        if found is not None:
            alive[index] &= robust_mask([found], eps)
    return alive


def curve_area(curve: RobustnessCurve) -> float:
    """Normalised area under the robust-accuracy curve, a fraction in [0, 1].

    The trapezoidal integral of accuracy over ε from 0 (the clean accuracy) to the largest ε on
    the curve, divided by that ε: the mean robust accuracy over [0, ε_max].
    """
    xs = (0.0, *curve.eps)
    ys = (curve.clean_accuracy, *curve.accuracy)
    area = sum((xs[i + 1] - xs[i]) * (ys[i] + ys[i + 1]) / 2 for i in range(len(xs) - 1))
    return area / xs[-1]


@dataclass(frozen=True)
class WorstCase:
    """Robust accuracy in the worst case over attacks.

    Attributes:
        eps: radii (``unit``), increasing.
        accuracy: worst-case robust accuracy at each ε.
        curves: each attack's own curve, on the same inputs; in a cascade the first attack's
            is on every input and each later one on the inputs still standing (its ``n``).
        unit: the perturbation unit.
        cascade: whether the attacks ran as a cascade (:func:`worst_case`).
    """

    eps: tuple[float, ...]
    accuracy: tuple[float, ...]
    curves: tuple[RobustnessCurve, ...]
    unit: str
    cascade: bool = False

    @property
    def clean_accuracy(self) -> float:
        """Accuracy without perturbation."""
        return self.curves[0].clean_accuracy

    @property
    def n(self) -> int:
        """Number of inputs."""
        return self.curves[0].n

    @property
    def attacks(self) -> tuple[str, ...]:
        """The attacks, in the order run."""
        return tuple(c.settings.attack for c in self.curves)

    def at(self, eps: float) -> float:
        """Worst-case robust accuracy at ``eps`` (on the grid)."""
        for e, a in zip(self.eps, self.accuracy, strict=True):
            if abs(e - eps) < 1e-9:
                return a
        raise ValueError(f"no ε = {eps:g} on the worst-case curve")


def worst_case(
    model: nn.Module | Classifier,
    data: SequenceData,
    *,
    eps: Sequence[float],
    attacks: Sequence[str | AttackSettings] = WORST_CASE_ATTACKS,
    n: int | None = None,
    batch_size: int = 1000,
    label: str = "model",
    progress: bool = False,
    cascade: bool = False,
) -> WorstCase:
    """Every attack of ``attacks`` at every ε on the first ``n`` inputs, and the worst case.

    With ``cascade`` (AutoAttack's order of business) each attack after the first runs only on
    the inputs that every attack before it failed to fool at the smallest ε (an input fooled
    there is fooled at every ε of a nested sweep), so the worst case is the same per-input
    "fooled by any" at the cost of the inputs still standing; attacks with no input left are
    not run. APGD-DLR needs at least three classes and is skipped below that. APGD and Square
    come from torchattacks (a ``MissingDependencyError`` names the install command when
    absent); they draw their randomness per batch, so on other inputs their result is equally
    valid but not identical.

    Args:
        model: the classifier.
        data: test inputs in model units.
        eps: radii in ``data.eps_unit``.
        attacks: names (default settings) or :class:`AttackSettings`.
        n: the first ``n`` inputs (default all).
        batch_size: inputs per attack call.
        label: the model's name.
        progress: progress bars.
        cascade: run the attacks as a cascade (above).

    Returns:
        The :class:`WorstCase`.

    Raises:
        ValueError: on an empty attack list.
    """
    chosen = [a if isinstance(a, AttackSettings) else AttackSettings(attack=a) for a in attacks]
    chosen = [a for a in chosen if not (a.attack == "apgd-dlr" and data.num_classes < 3)]
    if not chosen:
        raise ValueError("worst_case needs at least one attack")
    def run(settings: AttackSettings, index: Tensor | None) -> RobustnessCurve:
        return robustness_curve(model, data, eps=eps, settings=settings, n=n, indices=index,
                                batch_size=batch_size, label=label, progress=progress)

    if not cascade:
        curves = tuple(run(a, None) for a in chosen)
        grid = curves[0].eps
        acc = tuple(worst_case_accuracy(curves, e) for e in grid)
        return WorstCase(grid, acc, curves, curves[0].unit)
    found = [run(chosen[0], None)]
    records = [torch.tensor(found[0].first_fooled, dtype=torch.long)]
    for settings in chosen[1:]:
        index = torch.nonzero(survivors(torch.stack(records), torch.zeros(
            len(records), dtype=torch.long))).flatten()
        if not index.numel():
            break
        found.append(run(settings, index))
        record = torch.full_like(records[0], -1)  # not attacked: already fooled at every ε
        record[index] = torch.tensor(found[-1].first_fooled, dtype=torch.long)
        records.append(record)
    grid, table = found[0].eps, torch.stack(records)
    acc = tuple(float(survivors(table, torch.full((len(records),), k)).double().mean())
                for k in range(len(grid)))
    return WorstCase(grid, acc, tuple(found), found[0].unit, cascade=True)


__all__ = [
    "WORST_CASE_ATTACKS",
    "WorstCase",
    "cascade",
    "curve_area",
    "robust_mask",
    "survivors",
    "worst_case",
    "worst_case_accuracy",
]
