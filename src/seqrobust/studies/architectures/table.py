"""Seed aggregation, curvature–robustness rank correlations and the verdict of the
architecture study (pure functions of the :class:`ArchRow` records).

**Verdict rule.** The poster's conclusion is "robustness increases as decision-boundary
curvature decreases". On each dataset, over its configurations (every architecture × mode,
each one point: the means over its seeds of the models' median curvature R = Σ_k ‖∇²f_k‖_F²
and of their worst-case robust accuracy at the headline ε), Spearman's ρ with a percentile
bootstrap interval over configurations (``level``, default 95 %). The conclusion is
*supported* on a dataset when the whole interval is below 0, *contradicted* when it is above
0, and otherwise *not settled*. Pooled over datasets, the same with ranks taken within each
dataset and the bootstrap stratified by dataset (curvature has no common scale across
datasets). Seeds are averaged, not counted as models: the seeds of one configuration are
repeated measurements of it, and resampling them as independent models would narrow the
interval without adding configurations.

**Comparable models.** Robust accuracy cannot exceed clean accuracy, so a model that did not
fit its data (the recurrent cells on ArrowHead under the shared budget: test accuracy at
chance) looks "robust" only in the sense of having little to lose, and its curvature says
nothing about a boundary it never learned. The verdict, the most robust model and the
comparison with the published figures therefore use only the configurations whose mean clean
accuracy is within a window (``ArchitecturesConfig.clean_window``, 5 points) of the best
configuration on that dataset (:func:`comparable`); the others stay in the tables, marked.
The window was fixed after the first ArrowHead models, before the study finished; the
report gives the correlation over every configuration beside it.

Two views split the pooled question (context, not the rule; :func:`split_correlations`):
*between architectures* (plain models only: does the architecture with the flatter boundary
resist better?) and *between defences* (ranks within each dataset × architecture: does the
defence that flattens a model's boundary most make it the most robust?).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import rankdata

from seqrobust.studies.architectures.evaluate import ArchRow

MIN_CONFIGS = 5
"""The fewest configurations a per-dataset ρ is computed over."""
METRICS = ("clean", "fgsm", "bim", "worst", "v", "r", "j", "bracket", "rho_inputs",
           "train_seconds")


@dataclass(frozen=True)
class ArchPoint:
    """One (dataset, architecture, mode): means and standard errors over seeds (``v``, ``r``,
    ``j``: of each model's median; ``quartiles``: the means of each model's lower and upper
    quartile of them)."""

    dataset: str
    arch: str
    mode: str
    lam: float
    seeds: int
    mean: dict[str, float]
    se: dict[str, float]
    pgd: dict[float, float]
    quartiles: dict[str, tuple[float, float]]


def _value(row: ArchRow, metric: str) -> float:
    if metric in ("v", "r", "j"):
        return float(getattr(row, metric)[1])
    return float(getattr(row, metric))


def _mean_se(values: Sequence[float]) -> tuple[float, float]:
    v = np.asarray([x for x in values if math.isfinite(x)], dtype=float)
    if not v.size:
        return math.nan, math.nan
    se = float(v.std(ddof=1) / math.sqrt(v.size)) if v.size > 1 else math.nan
    return float(v.mean()), se


def aggregate(rows: Sequence[ArchRow]) -> list[ArchPoint]:
    """One point per (dataset, arch, mode), in the order first seen."""
    groups: dict[tuple[str, str, str], list[ArchRow]] = {}
    for r in rows:
        groups.setdefault((r.dataset, r.arch, r.mode), []).append(r)
    points = []
    for (dataset, arch, mode), rs in groups.items():
        stats = {m: _mean_se([_value(r, m) for r in rs]) for m in METRICS}
        eps = sorted({e for r in rs for e, _ in r.pgd})
        pgd = {e: _mean_se([r.at(e) for r in rs])[0] for e in eps}
        quartiles = {m: (_mean_se([getattr(r, m)[0] for r in rs])[0],
                         _mean_se([getattr(r, m)[2] for r in rs])[0]) for m in ("v", "r", "j")}
        points.append(ArchPoint(dataset, arch, mode, rs[0].lam, len(rs),
                                {m: s[0] for m, s in stats.items()},
                                {m: s[1] for m, s in stats.items()}, pgd, quartiles))
    return points


@dataclass(frozen=True)
class RankCorrelation:
    """Spearman's ρ over ``n`` models with a bootstrap interval ``(low, high)``."""

    rho: float
    low: float
    high: float
    n: int

    @property
    def outcome(self) -> str:
        """``supported`` (interval below 0), ``contradicted`` (above) or ``not settled``."""
        if self.high < 0:
            return "supported"
        if self.low > 0:
            return "contradicted"
        return "not settled"


def _rho_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Spearman's ρ of each row of ``x`` with the same row of ``y`` (``(reps, n)``); NaN for
    a row with fewer than 3 columns or a constant ``x`` or ``y``."""
    rx, ry = rankdata(x, axis=1), rankdata(y, axis=1)
    rx -= rx.mean(axis=1, keepdims=True)
    ry -= ry.mean(axis=1, keepdims=True)
    den = np.sqrt((rx * rx).sum(axis=1) * (ry * ry).sum(axis=1))
    out = np.full(x.shape[0], math.nan)
    ok = (den > 0) & (x.shape[1] >= 3)
    out[ok] = (rx * ry).sum(axis=1)[ok] / den[ok]
    return out


def rank_correlation(x: Sequence[float], y: Sequence[float], *, groups: Sequence[str] | None = None,
                     reps: int = 2000, level: float = 0.95, seed: int = 0, min_n: int = 3
                     ) -> RankCorrelation:
    """Spearman's ρ of ``x`` and ``y`` with a percentile bootstrap interval.

    With ``groups``, ranks are taken within each group and the bootstrap resamples within each
    group (pooling quantities without a common scale). Pairs with a non-finite value are left
    out; fewer than ``min_n`` (at least 3) pairs give NaNs.
    """
    xa, ya = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    ga = np.asarray(groups if groups is not None else [""] * len(xa))
    keep = np.isfinite(xa) & np.isfinite(ya)
    xa, ya, ga = xa[keep], ya[keep], ga[keep]
    members = [np.flatnonzero(ga == g) for g in sorted(set(ga.tolist()))]

    def rho(idx: np.ndarray) -> np.ndarray:
        """ρ of each row of ``idx`` (``(reps, n)``: each group's indices in one block, in
        the order of ``members``), ranks taken within each block."""
        parts, start = [], 0
        for m in members:
            block = idx[:, start:start + m.size]
            parts.append([rankdata(v[block], axis=1) / m.size for v in (xa, ya)])
            start += m.size
        if not parts:
            return np.full(idx.shape[0], math.nan)
        return _rho_rows(*(np.concatenate([p[k] for p in parts], axis=1) for k in (0, 1)))

    point = float(rho(np.concatenate(members, dtype=int)[None, :] if members
                      else np.empty((1, 0), dtype=int))[0])
    if math.isnan(point) or xa.size < min_n:
        return RankCorrelation(math.nan, math.nan, math.nan, int(xa.size))
    rng = np.random.default_rng(seed)
    idx = np.stack([np.concatenate([rng.choice(m, size=m.size) for m in members])
                    for _ in range(reps)])
    b = rho(idx)
    b = b[np.isfinite(b)]
    low, high = np.quantile(b, ((1 - level) / 2, (1 + level) / 2)) if b.size else (math.nan,) * 2
    return RankCorrelation(point, float(low), float(high), int(xa.size))


def curvature_correlations(points: Sequence[ArchPoint], *, curvature: str = "r",
                           reps: int = 2000) -> dict[str, RankCorrelation]:
    """Per dataset and ``"pooled"`` (ranks within each dataset): ρ(median curvature,
    worst-case robust accuracy) over the configurations (one :class:`ArchPoint` each; a
    dataset with fewer than :data:`MIN_CONFIGS` has no ρ: a bootstrap over 3 or 4 points is
    degenerate)."""
    out: dict[str, RankCorrelation] = {}
    datasets = sorted({p.dataset for p in points})
    for d in datasets:
        ps = [p for p in points if p.dataset == d]
        out[d] = rank_correlation([p.mean[curvature] for p in ps], [p.mean["worst"] for p in ps],
                                  reps=reps, min_n=MIN_CONFIGS)
    if len(datasets) > 1:
        out["pooled"] = rank_correlation([p.mean[curvature] for p in points],
                                         [p.mean["worst"] for p in points],
                                         groups=[p.dataset for p in points], reps=reps)
    return out


def split_correlations(points: Sequence[ArchPoint], *, curvature: str = "r", reps: int = 2000
                       ) -> dict[str, RankCorrelation]:
    """The pooled ρ split in two: ``"between architectures"`` over the plain configurations
    (ranks within each dataset) and ``"between defences"`` over all configurations with ranks
    within each dataset × architecture."""
    plain = [p for p in points if p.mode == "plain"]
    return {
        "between architectures": rank_correlation(
            [p.mean[curvature] for p in plain], [p.mean["worst"] for p in plain],
            groups=[p.dataset for p in plain], reps=reps),
        "between defences": rank_correlation(
            [p.mean[curvature] for p in points], [p.mean["worst"] for p in points],
            groups=[f"{p.dataset}/{p.arch}" for p in points], reps=reps),
    }


def comparable(points: Sequence[ArchPoint], *, window: float) -> list[ArchPoint]:
    """The points whose mean clean accuracy is at least the best of their dataset minus
    ``window`` (a fraction), in their order."""
    best: dict[str, float] = {}
    for p in points:
        if math.isfinite(p.mean["clean"]):
            best[p.dataset] = max(best.get(p.dataset, -math.inf), p.mean["clean"])
    return [p for p in points if p.dataset in best
            and p.mean["clean"] >= best[p.dataset] - window - 1e-12]


def ranked(points: Sequence[ArchPoint], dataset: str, metric: str = "worst"
           ) -> list[ArchPoint]:
    """The points of ``dataset`` with a finite mean ``metric``, highest first."""
    found = [p for p in points if p.dataset == dataset and math.isfinite(p.mean[metric])]
    return sorted(found, key=lambda p: p.mean[metric], reverse=True)


def best_point(points: Sequence[ArchPoint], dataset: str, metric: str = "worst"
               ) -> ArchPoint | None:
    """The point of ``dataset`` with the highest mean ``metric``."""
    return next(iter(ranked(points, dataset, metric)), None)


def lead(first: ArchPoint, second: ArchPoint, metric: str = "worst") -> tuple[float, float]:
    """``first``'s lead over ``second`` in mean ``metric`` and the standard error of that
    difference, ``sqrt(se₁² + se₂²)`` (NaN unless both have at least two seeds)."""
    return (first.mean[metric] - second.mean[metric],
            math.hypot(first.se[metric], second.se[metric]))


def architecture_ranks(points: Sequence[ArchPoint], datasets: Sequence[str],
                       archs: Sequence[str]) -> dict[str, tuple[list[ArchPoint | None], float]]:
    """Per architecture: its most robust point (highest mean worst case, any mode) on each of
    ``datasets`` (``None`` where it has none among ``points``, e.g. none comparable), and its
    mean rank among the architectures over the datasets where it has one (1: most robust;
    ties share the mean rank; NaN where it has none)."""
    best = {a: [best_point([p for p in points if p.arch == a], d) for d in datasets]
            for a in archs}
    ranks: dict[str, list[float]] = {a: [] for a in archs}
    for i in range(len(datasets)):
        present = [(a, p) for a in archs if (p := best[a][i]) is not None]
        order = rankdata([-p.mean["worst"] for _, p in present])
        for (a, _), r in zip(present, order, strict=True):
            ranks[a].append(float(r))
    return {a: (best[a], float(np.mean(ranks[a])) if ranks[a] else math.nan) for a in archs}


def head_to_head(points: Sequence[ArchPoint], datasets: Sequence[str], archs: Sequence[str]
                 ) -> dict[tuple[str, str], tuple[int, int, int]]:
    """For every ordered pair ``(a, b)`` of different ``archs``: over the datasets where both
    have a point, on how many ``a``'s most robust point (as in :func:`architecture_ranks`) has
    the higher mean worst case, the lower, the same: ``(wins, losses, ties)``. Unlike the
    mean rank, each count compares the two on the same datasets."""
    best = {a: found for a, (found, _) in architecture_ranks(points, datasets, archs).items()}
    out = {}
    for a in archs:
        for b in archs:
            if a == b:
                continue
            pairs = [(p.mean["worst"], q.mean["worst"]) for p, q in zip(best[a], best[b],
                                                                       strict=True)
                     if p is not None and q is not None]
            out[a, b] = (sum(x > y for x, y in pairs), sum(x < y for x, y in pairs),
                         sum(x == y for x, y in pairs))
    return out


__all__ = ["METRICS", "MIN_CONFIGS", "ArchPoint", "RankCorrelation", "aggregate",
           "architecture_ranks", "best_point", "head_to_head",
           "comparable", "curvature_correlations", "lead", "rank_correlation", "ranked",
           "split_correlations"]
