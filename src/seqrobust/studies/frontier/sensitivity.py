"""Two checks on the frontier verdict, reported beside it and never replacing it.

- **Matching window.** The verdict (:mod:`~seqrobust.studies.frontier.table`, rule 2) matches
  points within 1 point of plain's clean accuracy; :func:`window_comparisons` repeats rule 3
  for other windows, to show whether the verdict hinges on that choice.
- **Held-out seed.** The rule picks each method's best λ with the seeds that then measure it
  (a winner's curse that favours methods with more λ). :func:`heldout_seed_diffs` picks each
  method's best matched λ on all seeds but one and measures the difference on the held-out
  seed only, once per seed: the selection never sees the seed it is scored on. The differences
  of the held-out seeds are paired (same seed, same test inputs), so their mean is judged by
  a one-sample t-test over seeds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy.stats import t as student_t

from seqrobust.studies.frontier.table import (
    Comparison,
    FrontierPoint,
    FrontierRow,
    aggregate,
    best_matched,
    compare,
)


def window_comparisons(
    points: Sequence[FrontierPoint], reference: str, others: Sequence[str], *, metric: str,
    tols: Sequence[float], confidence: float = 0.95,
) -> list[tuple[float, list[Comparison]]]:
    """Rule 3 of ``reference`` against each of ``others`` for every matching window in
    ``tols`` (fractions: 0.01 = 1 point): ``[(tol, [Comparison per other]), ...]``."""
    return [(tol, [compare(points, reference, o, metric=metric, tol=tol, confidence=confidence)
                   for o in others]) for tol in tols]


@dataclass(frozen=True)
class HeldOut:
    """One held-out seed: the λ each side picked on the other seeds and the difference
    ``reference − other`` of ``metric`` on this seed (fractions)."""

    seed: int
    reference_lam: float
    other_lam: float
    diff: float


def _metric(row: FrontierRow, metric: str, headline_eps: float) -> float:
    return row.robust(headline_eps) if metric == "robust" else float(getattr(row, metric))


def heldout_seed_diffs(
    rows: Sequence[FrontierRow], reference: str, other: str, *, metric: str, tol: float,
    headline_eps: float,
) -> list[HeldOut]:
    """For each seed ``s``: plain's clean accuracy and both methods' best matched λ (rule 2)
    from the models of the other seeds, then ``metric(reference at its λ, seed s) −
    metric(other at its λ, seed s)``. Seeds where a side has no matched point on the other
    seeds, or no model at the picked λ on seed ``s``, are left out.

    ``metric``: ``"robust"`` (worst case at ``headline_eps``) or ``"auc"``.
    """
    out = []
    for s in sorted({r.seed for r in rows}):
        rest = aggregate([r for r in rows if r.seed != s], headline_eps=headline_eps)
        plain = [p for p in rest if p.method == "plain"]
        if not plain:
            continue
        c0 = plain[0].clean.mean
        a, b = (best_matched(rest, m, plain_clean=c0, tol=tol, metric=metric)
                for m in (reference, other))
        if a is None or b is None:
            continue
        held = {(r.method, r.lam): r for r in rows if r.seed == s}
        ra, rb = held.get((a.method, a.lam)), held.get((b.method, b.lam))
        if ra is None or rb is None:
            continue
        out.append(HeldOut(s, a.lam, b.lam, _metric(ra, metric, headline_eps)
                           - _metric(rb, metric, headline_eps)))
    return out


def paired_summary(diffs: Sequence[HeldOut], *, confidence: float = 0.95) -> tuple[
        float, float, float, str]:
    """``(mean, standard error, threshold, outcome)`` of the held-out differences: the
    threshold is the Student-t quantile at ``n − 1`` degrees of freedom times the standard
    error; ``outcome`` is ``"reference"``, ``"other"`` or ``"not settled"``. Fewer than two
    seeds, or no spread between them (identical differences, as the discreteness of accuracy
    on a few hundred inputs can give), leave the test undefined: threshold NaN, not settled."""
    n = len(diffs)
    if n == 0:
        return math.nan, math.nan, math.nan, "not settled"
    values = [d.diff for d in diffs]
    mean = sum(values) / n
    if n < 2:
        return mean, math.nan, math.nan, "not settled"
    se = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1) / n)
    if se <= 1e-12 * max(1.0, abs(mean)):
        return mean, se, math.nan, "not settled"
    threshold = float(student_t.ppf(0.5 + confidence / 2, n - 1)) * se
    if mean > threshold:
        return mean, se, threshold, "reference"
    if mean < -threshold:
        return mean, se, threshold, "other"
    return mean, se, threshold, "not settled"


__all__ = ["HeldOut", "heldout_seed_diffs", "paired_summary", "window_comparisons"]
