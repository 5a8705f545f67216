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
from pathlib import Path

from scipy.stats import t as student_t

from seqrobust.reporting.text import md_escape
from seqrobust.runs import outputs

Pairs = tuple[tuple[float, float], ...]
"""``((eps, accuracy), ...)``."""


def _lookup(pairs: Pairs, eps: float) -> float:
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
        worst = _lookup(self.worst, eps)
        return worst if not math.isnan(worst) else _lookup(self.pgd, eps)


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
            pgd=tuple((e, mean_se([_lookup(r.pgd, e) for r in group])) for e in pgd_eps),
            worst=tuple((e, mean_se([_lookup(r.worst, e) for r in group])) for e in worst_eps),
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


def pct(s: Stat, digits: int = 1) -> str:
    """``"mean ± se"`` in percent (``"mean"`` alone with one seed)."""
    if math.isnan(s.mean):
        return "–"
    text = f"{100 * s.mean:.{digits}f}"
    return text if math.isnan(s.se) else f"{text} ± {100 * s.se:.{digits}f}"


def num(s: Stat) -> str:
    """``"mean ± se"`` with 3 significant digits."""
    if math.isnan(s.mean):
        return "–"
    return f"{s.mean:.3g}" if math.isnan(s.se) else f"{s.mean:.3g} ± {s.se:.2g}"


def point_label(p: FrontierPoint | None) -> str:
    """``"method (λ=...)"``, the method's name escaped for Markdown."""
    if p is None:
        return "–"
    return md_escape(p.method) + ("" if p.method == "plain" else f" (λ={p.lam:g})")


def format_points(
    points: Sequence[FrontierPoint], *, key_eps: Sequence[float], headline_eps: float
) -> str:
    """The aggregated Markdown table (mean ± s.e. over seeds, percentages)."""
    worst_eps = [e for e, _ in points[0].worst] if points else []
    head = (["method", "λ", "seeds", "clean %"] + [f"PGD ε={e:g}" for e in key_eps]
            + [f"worst ε={e:g}" for e in worst_eps] + [f"robust ε={headline_eps:g}",
            "AUC %", "mean ‖H‖_F²", "mean |J|", "train s", "attack s"])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for p in points:
        pgd = dict(p.pgd)
        worst = dict(p.worst)
        cells = [md_escape(p.method), "–" if p.method == "plain" else f"{p.lam:g}",
                 str(p.seeds), pct(p.clean, 2)]
        cells += [pct(pgd[e]) if e in pgd else "–" for e in key_eps]
        cells += [pct(worst[e]) if e in worst else "–" for e in worst_eps]
        cells += [pct(p.robust), pct(p.auc), num(p.mean_r), num(p.mean_j),
                  f"{p.train_seconds.mean:.3g}", f"{p.attack_seconds.mean:.3g}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


CSV_FIXED = ("method", "estimator", "lam", "seed", "clean_pct")
CSV_TAIL = ("auc_pct", "mean_hess_fro2", "median_hess_fro2", "mean_grad_norm", "train_seconds",
            "attack_seconds", "n_pgd", "n_check")


def csv_header(key_eps: Sequence[float], check_eps: Sequence[float]) -> list[str]:
    """The columns of ``frontier.csv``."""
    return [*CSV_FIXED, *[f"pgd_eps{e:g}_pct" for e in key_eps],
            *[f"worst_eps{e:g}_pct" for e in check_eps], *CSV_TAIL]


def write_csv(
    rows: Sequence[FrontierRow], path: Path, *, key_eps: Sequence[float],
    check_eps: Sequence[float],
) -> None:
    """One line per model (percentages with 2 decimals; empty cell: not measured), atomic."""
    def p(v: float) -> str:
        return "" if math.isnan(v) else f"{100 * v:.2f}"

    lines = [[
        r.method, r.estimator, f"{r.lam:g}", r.seed, p(r.clean),
        *[p(_lookup(r.pgd, e)) for e in key_eps],
        *[p(_lookup(r.worst, e)) for e in check_eps],
        p(r.auc), f"{r.mean_r:.6g}", f"{r.median_r:.6g}", f"{r.mean_j:.6g}",
        f"{r.train_seconds:.3f}", f"{r.attack_seconds:.3f}", r.n_pgd, r.n_check,
    ] for r in rows]
    outputs.write_csv(path.parent, path.name, csv_header(key_eps, check_eps), lines)


__all__ = [
    "Comparison",
    "FrontierPoint",
    "FrontierRow",
    "Stat",
    "aggregate",
    "best_matched",
    "claim_status",
    "compare",
    "csv_header",
    "format_points",
    "mean_se",
    "welch_threshold",
    "write_csv",
]
