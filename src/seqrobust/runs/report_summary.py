"""From one model's results to what the report leads with: the headline numbers
(:class:`~seqrobust.reporting.headline.Headline`) and the trust badges (the sanity checks of
:mod:`seqrobust.measure.checks` and the report's own). Run folders and in-memory results both
come here as result objects, so there is one way to compute each number."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from seqrobust.measure.analyze import Analysis
from seqrobust.measure.checks import Check, sanity_checks
from seqrobust.measure.curvature import Curvature
from seqrobust.measure.noise_bound import NoiseBound
from seqrobust.measure.robustness import RobustnessCurve
from seqrobust.measure.worst_case import WorstCase, worst_case_accuracy
from seqrobust.reporting.badges import Badge
from seqrobust.reporting.headline import (
    ATTACK_NAMES,
    Headline,
    RobustAt,
    attack_name,
    regulariser_name,
)

Result = Analysis | RobustnessCurve | WorstCase | NoiseBound | Curvature
RESULT_TYPES = (Analysis, RobustnessCurve, WorstCase, NoiseBound, Curvature)
KEY_RADII = {"pixel": (8.0, 16.0, 30.0), "training std": (0.1, 0.25, 0.5)}
"""Radii the headline prefers, by perturbation unit (the poster's for MNIST pixels)."""
APGD_GAP = 0.02
"""PGD may report at most this much (fraction) more robust accuracy than APGD."""
RESIDUAL_SMALL = 0.1
"""Largest relative Lanczos residual counted as small."""


@dataclass(frozen=True)
class ModelInfo:
    """What the report knows about a model besides its measurements; every field optional.
    Put one in a model's result list: ``sr.report({"mine": [curve, ModelInfo(regulariser=
    "hessian", lam=1e-2)]}, ...)``.

    Attributes:
        regulariser: ``"none"``, ``"hessian"``, ``"jacobian"``, ``"cure"``, ``"pgd-at"`` or
            any name.
        lam: its weight λ.
        train_seconds: training wall time.
        train_detail: e.g. ``", 10 epochs (790 steps)"``.
        clean: clean accuracy (fraction) measured by the model's own evaluation.
        clean_n: its number of inputs (``None``: unknown).
        clean_where: what those inputs are.
        padding: ``"trim"``, ``"fed"``, ``"fixed"`` or ``"refused"`` (``None``: not checked).
        padding_reason: the padding check in words.
        worst: a worst case over attacks measured elsewhere, ``((eps, accuracy), ...)`` (a study
            record without per-input results); used only without a worst-case result.
        worst_n: its number of inputs.
        worst_attacks: its attacks.
        description: one line under the model's heading.
    """

    regulariser: str | None = None
    lam: float | None = None
    train_seconds: float | None = None
    train_detail: str = ""
    clean: float | None = None
    clean_n: int | None = None
    clean_where: str = "test inputs"
    padding: str | None = None
    padding_reason: str = "the report was not given the model"
    worst: tuple[tuple[float, float], ...] = ()
    worst_n: int | None = None
    worst_attacks: tuple[str, ...] = ()
    description: str = ""


def curves_of(results: Sequence[Result]) -> list[RobustnessCurve]:
    """Every robustness curve: the separate ones, then those inside worst cases (a cascade's
    curves on the inputs still standing left out: they are not the model's curves)."""
    own = [r for r in results if isinstance(r, RobustnessCurve)]
    inner = [c for r in results if isinstance(r, WorstCase) for c in r.curves if c.n == r.n]
    return own + inner


def main_curve(results: Sequence[Result]) -> RobustnessCurve | None:
    """The white-box curve the headline quotes: PGD (L∞) on the most inputs, else the first
    curve."""
    curves = curves_of(results)
    pgd = [c for c in curves if c.settings.attack == "pgd"]
    return max(pgd, key=lambda c: c.n) if pgd else (curves[0] if curves else None)


def worst_of(results: Sequence[Result]) -> WorstCase | None:
    """The worst case over attacks: a given one, else combined from the separate curves of two
    or more attacks with per-input records (on their common first inputs and radii)."""
    given = [r for r in results if isinstance(r, WorstCase)]
    if given:
        return max(given, key=lambda w: w.n)
    curves = [r for r in results if isinstance(r, RobustnessCurve) and r.first_fooled]
    if len({c.settings.attack for c in curves}) < 2:
        return None
    n = min(c.n for c in curves)
    grid = sorted(set.intersection(*(set(c.eps) for c in curves)))
    if not grid or n == 0:
        return None
    heads = tuple(c.head(n) for c in curves)
    accuracy = tuple(worst_case_accuracy(heads, e) for e in grid)
    return WorstCase(tuple(grid), accuracy, heads, heads[0].unit)


def _on(grid: Sequence[float], eps: float) -> bool:
    return any(abs(e - eps) < 1e-9 for e in grid)


def key_radii(grid: Sequence[float], unit: str) -> list[float]:
    """Up to three radii of ``grid`` for the headline: the preferred ones of the unit when on
    the grid, else three spread over it."""
    kind = "pixel" if unit.startswith("pixel") else unit
    preferred = [e for e in KEY_RADII.get(kind, ()) if _on(grid, e)]
    if preferred or not grid:
        return preferred
    values = sorted(grid)
    picks = {values[round(k * (len(values) - 1) / 2)] for k in range(3)} if len(values) > 3 \
        else set(values)
    return sorted(picks)


def radii_of(results: Sequence[Result], info: ModelInfo) -> list[float]:
    """The radii this model's headline shows."""
    curve, worst = main_curve(results), worst_of(results)
    grid = sorted({*(curve.eps if curve else ()), *(worst.eps if worst else ()),
                   *(e for e, _ in info.worst)})
    unit = curve.unit if curve else (worst.unit if worst else "")
    return key_radii(grid, unit)


def _analysis(results: Sequence[Result]) -> Analysis | None:
    found = [r for r in results if isinstance(r, Analysis) and r.summary.get("inputs")]
    return found[0] if found else None


def headline_of(
    results: Sequence[Result], info: ModelInfo, *, radii: Sequence[float] | None = None
) -> Headline:
    """The headline numbers of one model at ``radii`` (default :func:`radii_of`)."""
    curve, worst = main_curve(results), worst_of(results)
    robust = []
    for e in radii if radii is not None else radii_of(results, info):
        pgd = curve.at(e) if curve is not None and _on(curve.eps, e) else None
        w: float | None = worst.at(e) if worst is not None and _on(worst.eps, e) else None
        attacks = tuple(attack_name(a) for a in worst.attacks) if worst is not None else ()
        w_n = worst.n if worst is not None else None
        if worst is None and info.worst:
            w = next((a for x, a in info.worst if abs(x - e) < 1e-9), None)
            attacks, w_n = tuple(attack_name(a) for a in info.worst_attacks), info.worst_n
        robust.append(RobustAt(e, pgd, curve.n if curve else None,
                               attack_name(curve.settings.attack) if curve else "",
                               w, w_n if w is not None else None, attacks))
    clean, clean_n, where = info.clean, info.clean_n, info.clean_where
    if clean is None and curve is not None:
        clean, clean_n, where = curve.clean_accuracy, curve.n, "attacked test inputs"
    fields: dict[str, object] = {}
    analysis = _analysis(results)
    if analysis is not None:
        s = analysis.summary
        q = (s.get("attacks", {}).get("measured", {}) or {}).get("norm") or {}
        v = (s.get("curvature", {}).get("v") or {})
        bracket = s.get("bracket", {})
        if q:
            fields["distance"] = (q["q25"], q["q50"], q["q75"])
        fields.update(distance_unit=analysis.unit, distance_n=int(s.get("attacked", 0)),
                      bracket=bracket.get("lower_le_measured_le_upper"),
                      lower_ok=bracket.get("lower_le_measured"),
                      bracket_n=int(s.get("attacked", 0)), curvature=v.get("q50"),
                      curvature_n=int(s.get("inputs", 0)))
        if clean is None:
            clean, clean_n, where = s.get("accuracy"), int(s["inputs"]), "analysed inputs"
    return Headline(
        clean=clean, clean_n=clean_n, clean_where=where,
        eps_unit=curve.unit if curve else (worst.unit if worst else ""), robust=tuple(robust),
        regulariser=None if info.regulariser is None else regulariser_name(info.regulariser),
        lam=info.lam, cost_seconds=info.train_seconds, cost_detail=info.train_detail,
        **fields,  # type: ignore[arg-type]
    )


def _words(detail: str) -> str:
    """A check's detail with ε for ``eps`` and attacks by name."""
    text = detail.replace("eps=", "ε = ").replace("eps ", "ε ")
    for code, name in sorted(ATTACK_NAMES.items(), key=lambda kv: -len(kv[0])):
        text = re.sub(rf"(?<![\w-]){re.escape(code)}(?![\w-])", name, text)
    return text


def _badge(label: str, check: Check) -> Badge:
    return Badge(label, check.status, _words(check.detail))  # type: ignore[arg-type]


def _every_curve(curves: Sequence[RobustnessCurve], k: int, label: str) -> Badge:
    """Check ``k`` of :func:`sanity_checks` over every curve: the first failure, else the main
    curve's detail."""
    if not curves:
        return Badge(label, "n/a", "no robustness curve")
    found = [(c, sanity_checks(c)[k]) for c in curves]
    bad = [(c, ch) for c, ch in found if ch.status == "fail"]
    c, ch = bad[0] if bad else found[0]
    more = f" ({len(curves)} curves checked)" if len(curves) > 1 else ""
    return Badge(label, ch.status,  # type: ignore[arg-type]
                 f"{attack_name(c.settings.attack)}: {_words(ch.detail)}{more}")


def _apgd(curve: RobustnessCurve | None, curves: Sequence[RobustnessCurve]) -> Badge:
    label = "PGD near APGD (white-box attack strong enough)"
    apgd = [c for c in curves if c.settings.attack.startswith("apgd")]
    if curve is None or not apgd:
        return Badge(label, "n/a", "no APGD curve to compare PGD with (attack apgd-ce adds one)")
    n = min(c.n for c in [curve, *apgd])
    head = _on_first(curve, n)
    if head is None:
        return Badge(label, "n/a", f"PGD ran on {curve.n} inputs, APGD on {n}, and PGD has no "
                                   "per-input record to compare on the same inputs")
    common = [e for e in head.eps if all(_on(c.eps, e) for c in apgd)]
    if not common:
        return Badge(label, "n/a", "PGD and APGD share no radius")
    gap = max(head.at(e) - min(c.at(e) for c in apgd) for e in common)
    return Badge(label, "pass" if gap <= APGD_GAP else "fail",
                 f"largest gap PGD − best APGD {100 * gap:+.2f} points (n={n}; flagged above "
                 f"+{100 * APGD_GAP:.0f})")


def _on_first(curve: RobustnessCurve, n: int) -> RobustnessCurve | None:
    """``curve`` on its first ``n`` inputs (``None`` when that needs a missing record)."""
    if curve.n == n:
        return curve
    return curve.head(n) if curve.first_fooled else None


def _residual(analysis: Analysis | None) -> Badge:
    label = "Lanczos residuals small (curvature converged)"
    if analysis is None:
        return Badge(label, "n/a", "no geometry analysis")
    res = np.asarray([float(x) for x in analysis.column("lanczos_rel_residual")])
    res = res[np.isfinite(res)]
    if res.size == 0:
        return Badge(label, "n/a", "no residual recorded")
    top = float(res.max())
    return Badge(label, "pass" if top <= RESIDUAL_SMALL else "fail",
                 f"largest relative residual {100 * top:.2g} % (median "
                 f"{100 * float(np.median(res)):.2g} %, n={res.size}; flagged above "
                 f"{100 * RESIDUAL_SMALL:.0f} %: raise the Lanczos steps)")


def _padding(info: ModelInfo) -> Badge:
    label = "padding semantics checked"
    if info.padding in ("trim", "fed"):
        return Badge(label, "pass", info.padding_reason)
    if info.padding == "refused":
        return Badge(label, "fail", info.padding_reason)
    return Badge(label, "n/a", info.padding_reason)


def badges_of(results: Sequence[Result], info: ModelInfo) -> list[Badge]:
    """Every trust badge of one model."""
    curves = curves_of(results)
    curve = main_curve(results)
    badges = [_every_curve(curves, 0, "robust accuracy ≤ clean accuracy"),
              _every_curve(curves, 1, "robust accuracy non-increasing in ε"), _apgd(curve, curves)]
    square = [c for c in curves if c.settings.attack == "square"]
    masking = "no gradient masking (Square not better than white-box)"
    plain = None if info.regulariser is None else info.regulariser == "none"
    if curve is None:
        badges += [Badge(masking, "n/a", "no robustness curve"),
                   Badge("plain model broken at ε = 30", "n/a", "no robustness curve")]
    else:
        box = square[0] if square and _on_first(curve, square[0].n) is not None else None
        checks = sanity_checks(curve, plain=plain, blackbox=box)
        gap = checks[3] if box is not None or not square else Check(
            masking, "n/a", f"PGD ran on {curve.n} inputs, Square on {square[0].n}, and PGD has "
                            "no per-input record to compare on the same inputs")
        badges += [_badge(masking, gap), _badge("plain model broken at ε = 30", checks[2])]
    badges += [_residual(_analysis(results)), _padding(info)]
    return badges



__all__ = [
    "APGD_GAP", "KEY_RADII", "RESIDUAL_SMALL", "RESULT_TYPES", "ModelInfo", "Result",
    "badges_of", "curves_of", "headline_of", "key_radii", "main_curve", "radii_of",
    "worst_of",
]
