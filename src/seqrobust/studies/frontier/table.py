"""Records, seed aggregation, the matched-accuracy verdict and the tables of the frontier study.

One :class:`FrontierRow` per trained model; :func:`aggregate` turns rows into one
:class:`FrontierPoint` per (method, λ) with the mean and standard error over seeds;
:func:`verdict` applies the rule below.

**Verdict rule** (per metric: worst-case robust accuracy at the headline ε, and curve area):

1. ``C0`` = plain's clean accuracy, mean over seeds.
2. A method's *matched points* are its λ whose mean clean accuracy is ≥ ``C0 − tol``
   (default 1 point). Its *best matched point* is the one with the highest mean metric
   (plain's is plain itself). A method without matched points cannot be compared.
3. For the reference method A (Hessian, default estimator) against a method B:
   ``d = mean_A − mean_B`` with ``se_d = sqrt(se_A² + se_B²)`` (standard errors over seeds),
   and a two-sided Welch t-test at ``confidence`` (default 95 %): the threshold is
   ``c·se_d`` with ``c`` the Student-t quantile ``1/2 + confidence/2`` at the
   Welch–Satterthwaite degrees of freedom (``c`` ≈ 2.8 for 3 seeds a side, 4.3 at 2 ...
   12.7 for 2 seeds a side). ``d`` above the threshold: A more robust; below minus it: B more
   robust; otherwise *not settled*. Fewer than two seeds on either side: not settled.
4. The poster's claim (Hessian beats plain and Jacobian) is *supported* when A is more robust
   than every baseline, *contradicted* when some baseline is more robust than A, and otherwise
   *not settled*.

Choosing the best λ by the same seeds that measure it favours methods with more λ values
(a winner's curse of order one standard error), and several comparisons are made at once: the
rule is a transparent decision rule, not a calibrated test of the whole study.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from scipy.stats import t as student_t

Pairs = tuple[tuple[float, float], ...]
"""``((eps, accuracy), ...)``."""


def lookup(pairs: Pairs, eps: float) -> float:
    for e, a in pairs:
        if abs(e - eps) < 1e-9:
            return a
    return math.nan


@dataclass(frozen=True)
class FrontierRow:
    """One trained model's measurements (fractions; seconds of wall time).

    Attributes:
        method: method name (``plain``, ``hessian-fd``, ...).
        estimator: Hessian estimator (``""`` for other methods).
        lam: regularisation weight (0 for plain).
        seed: training (and attack) seed.
        clean: clean accuracy on the full test set.
        pgd: robust accuracy under PGD at each ε of its curve (``n_pgd`` inputs).
        worst: worst case over PGD and every check attack at each check ε (``n_check`` inputs);
            empty when no check attack ran.
        pgd_check: PGD alone on the same ``n_check`` inputs at the check ε (how much the check
            attacks added).
        auc: normalised area under the PGD curve.
        mean_r: mean test R = Σ_k ‖∇²f_k‖_F²; median_r: its median.
        mean_j: mean test |J| = ‖∇F‖.
        train_seconds: training wall time; attack_seconds: all attacks' wall time.
        n_pgd: inputs of the PGD curve; n_check: inputs of the worst case.
    """

    method: str
    estimator: str
    lam: float
    seed: int
    clean: float
    pgd: Pairs
    worst: Pairs
    pgd_check: Pairs
    auc: float
    mean_r: float
    median_r: float
    mean_j: float
    train_seconds: float
    attack_seconds: float
    n_pgd: int
    n_check: int

    def robust(self, eps: float) -> float:
        """The reported robust accuracy at ``eps``: the worst case when the check attacks ran
        at ``eps``, else PGD alone (NaN if neither has ``eps``)."""
        worst = lookup(self.worst, eps)
        return worst if not math.isnan(worst) else lookup(self.pgd, eps)


@dataclass(frozen=True)
class Stat:
    """Mean and standard error (NaN with one value) over ``n`` seeds."""

    mean: float
    se: float
    n: int


def mean_se(values: Sequence[float]) -> Stat:
    """The mean and its standard error (sample standard deviation / √n) of ``values``."""
    vals = [v for v in values if not math.isnan(v)]
    if not vals:
        return Stat(math.nan, math.nan, 0)
    mean = sum(vals) / len(vals)
    if len(vals) < 2:
        return Stat(mean, math.nan, 1)
    var = sum((v - mean) ** 2 for v in vals) / (len(vals) - 1)
    return Stat(mean, math.sqrt(var / len(vals)), len(vals))


@dataclass(frozen=True)
class FrontierPoint:
    """One (method, λ) aggregated over seeds; ``robust`` is :meth:`FrontierRow.robust` at the
    headline ε."""

    method: str
    estimator: str
    lam: float
    seeds: int
    clean: Stat
    robust: Stat
    auc: Stat
    pgd: tuple[tuple[float, Stat], ...]
    worst: tuple[tuple[float, Stat], ...]
    mean_r: Stat
    mean_j: Stat
    train_seconds: Stat
    attack_seconds: Stat


def aggregate(rows: Sequence[FrontierRow], *, headline_eps: float) -> list[FrontierPoint]:
    """One point per (method, λ) in order of first appearance, statistics over seeds."""
    groups: dict[tuple[str, float], list[FrontierRow]] = {}
    for row in rows:
        groups.setdefault((row.method, row.lam), []).append(row)
    points = []
    for (method, lam), group in groups.items():
        def stat(get: Callable[[FrontierRow], float], g: list[FrontierRow] = group) -> Stat:
            return mean_se([get(r) for r in g])

        pgd_eps = [e for e, _ in group[0].pgd]
        worst_eps = [e for e, _ in group[0].worst]
        points.append(FrontierPoint(
            method=method, estimator=group[0].estimator, lam=lam, seeds=len(group),
            clean=stat(lambda r: r.clean), robust=stat(lambda r: r.robust(headline_eps)),
            auc=stat(lambda r: r.auc),
            pgd=tuple((e, mean_se([lookup(r.pgd, e) for r in group])) for e in pgd_eps),
            worst=tuple((e, mean_se([lookup(r.worst, e) for r in group])) for e in worst_eps),
            mean_r=stat(lambda r: r.mean_r), mean_j=stat(lambda r: r.mean_j),
            train_seconds=stat(lambda r: r.train_seconds),
            attack_seconds=stat(lambda r: r.attack_seconds),
        ))
    return points


@dataclass(frozen=True)
class Comparison:
    """The reference method's best matched point against another method's (verdict rule 3).

    ``outcome``: ``"reference"`` (reference more robust), ``"other"``, ``"not settled"`` or
    ``"no matched point"``. ``threshold`` is the Welch critical difference (NaN: undefined).
    """

    reference: FrontierPoint | None
    other_method: str
    other: FrontierPoint | None
    diff: float
    se: float
    threshold: float
    outcome: str


def best_matched(
    points: Sequence[FrontierPoint], method: str, *, plain_clean: float, tol: float,
    metric: str,
) -> FrontierPoint | None:
    """The method's point with the highest mean ``metric`` among those with mean clean
    accuracy ≥ ``plain_clean − tol`` (rule 2); ``None`` if there is none."""
    ok = [p for p in points if p.method == method and p.clean.mean >= plain_clean - tol - 1e-12]
    return max(ok, key=lambda p: getattr(p, metric).mean, default=None)


def welch_threshold(a: Stat, b: Stat, *, confidence: float = 0.95) -> float:
    """The two-sided Welch critical difference ``c·sqrt(se_a² + se_b²)`` (NaN with fewer than
    two values on either side; 0 when both spreads are 0)."""
    if a.n < 2 or b.n < 2 or math.isnan(a.se) or math.isnan(b.se):
        return math.nan
    va, vb = a.se**2, b.se**2
    if va + vb == 0:
        return 0.0
    df = (va + vb) ** 2 / (va**2 / (a.n - 1) + vb**2 / (b.n - 1))
    return float(student_t.ppf(0.5 + confidence / 2, df)) * math.sqrt(va + vb)


def compare(
    points: Sequence[FrontierPoint], reference: str, other: str, *, metric: str = "robust",
    tol: float = 0.01, confidence: float = 0.95,
) -> Comparison:
    """Rule 3 for ``reference`` against ``other`` on ``metric`` (``"robust"`` or ``"auc"``).

    Raises:
        ValueError: if there is no plain point to match against.
    """
    plain = [p for p in points if p.method == "plain"]
    if not plain:
        raise ValueError("the verdict needs the plain model")
    c0 = plain[0].clean.mean
    a = best_matched(points, reference, plain_clean=c0, tol=tol, metric=metric)
    b = best_matched(points, other, plain_clean=c0, tol=tol, metric=metric)
    if a is None or b is None:
        return Comparison(a, other, b, math.nan, math.nan, math.nan, "no matched point")
    sa, sb = getattr(a, metric), getattr(b, metric)
    diff, se = sa.mean - sb.mean, math.hypot(sa.se, sb.se)
    threshold = welch_threshold(sa, sb, confidence=confidence)
    if math.isnan(threshold):
        outcome = "not settled"
    elif diff > threshold:
        outcome = "reference"
    elif diff < -threshold:
        outcome = "other"
    else:
        outcome = "not settled"
    return Comparison(a, other, b, diff, se, threshold, outcome)


def claim_status(comparisons: Sequence[Comparison]) -> str:
    """Rule 4: ``"supported"``, ``"contradicted"`` or ``"not settled"``."""
    if any(c.outcome == "other" for c in comparisons):
        return "contradicted"
    if comparisons and all(c.outcome == "reference" for c in comparisons):
        return "supported"
    return "not settled"


__all__ = [
    "Comparison",
    "FrontierPoint",
    "FrontierRow",
    "Pairs",
    "Stat",
    "aggregate",
    "best_matched",
    "claim_status",
    "compare",
    "lookup",
    "mean_se",
    "welch_threshold",
]
