"""The architecture study's cross-dataset tables (pass them the comparable points): the most
robust configuration per dataset with its lead over the next, the architectures ranked over
datasets, and our models against the published UCR benchmark (Fawaz et al., IJCNN 2019)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from seqrobust.reporting.text import md_escape, md_table
from seqrobust.studies.architectures.evaluate import ArchRow
from seqrobust.studies.architectures.published import PUBLISHED
from seqrobust.studies.architectures.table import (
    ArchPoint,
    architecture_ranks,
    best_point,
    head_to_head,
    lead,
    ranked,
)


def pct(x: float, se: float = math.nan) -> str:
    """``x`` (a fraction) in percent, with ``± se`` where finite; "–" if ``x`` is not."""
    if not math.isfinite(x):
        return "–"
    return f"{100 * x:.1f}" if not math.isfinite(se) else f"{100 * x:.1f} ± {100 * se:.1f}"


LEAD_SE = 2.0
"""A lead of more than this many standard errors of the difference counts as clear."""


def _lead(first: ArchPoint, rest: Sequence[ArchPoint]) -> str:
    if not rest:
        return "–"
    diff, se = lead(first, rest[0])
    if not math.isfinite(se):
        return f"{100 * diff:+.1f} (single seed)"
    word = "clear" if diff > LEAD_SE * se else "within noise"
    return f"{100 * diff:+.1f} ± {100 * se:.1f}, {word}"


def summary_lines(points: Sequence[ArchPoint], datasets: Sequence[str]) -> list[str]:
    """Per dataset: the most robust model (worst case), its lead over the next one, and
    whether our best BIM accuracy beats the published ResNet/FCN BIM (pass the comparable
    points)."""
    head = ["dataset", "most robust (worst case)", "its clean", "next (worst case)", "lead",
            "best BIM (ours)", "its clean", "best published BIM (its clean)",
            "ours beats published"]
    rows = []
    for d in datasets:
        order, bim = ranked(points, d), best_point(points, d, "bim")
        if not order or bim is None:
            continue
        best, rest = order[0], order[1:]
        nxt = (f"{md_escape(rest[0].arch)} {md_escape(rest[0].mode)} "
               f"({pct(rest[0].mean['worst'])})") if rest else "–"
        pub = PUBLISHED.get(d)
        top = max(pub.values(), key=lambda v: v[2]) if pub else None
        beats = "–" if top is None else ("yes" if 100 * bim.mean["bim"] > top[2] else "no")
        rows.append([
            md_escape(d), f"{md_escape(best.arch)} {md_escape(best.mode)} "
            f"({pct(best.mean['worst'])})", pct(best.mean["clean"]), nxt, _lead(best, rest),
            f"{md_escape(bim.arch)} {md_escape(bim.mode)} ({pct(bim.mean['bim'])})",
            pct(bim.mean["clean"]), "–" if top is None else f"{top[2]:.1f} ({top[0]:.1f})",
            beats])
    return md_table(head, rows)


def _by_rank(found: dict[str, tuple[list[ArchPoint | None], float]]) -> list[str]:
    """The architectures of :func:`architecture_ranks` by mean rank, unranked last."""
    return sorted(found, key=lambda a: (math.isnan(found[a][1]), found[a][1]))


def architecture_lines(points: Sequence[ArchPoint], datasets: Sequence[str],
                       archs: Sequence[str]) -> list[str]:
    """Markdown table: per architecture, its most robust configuration's worst case on each
    dataset (pass the comparable points) and its mean rank, best first."""
    found = architecture_ranks(points, datasets, archs)
    head = ["architecture", *map(md_escape, datasets), "mean rank (datasets)"]
    rows = []
    for a in _by_rank(found):
        best, rank = found[a]
        cells = [md_escape(a), *("–" if p is None else f"{pct(p.mean['worst'])} "
                                 f"{md_escape(p.mode)}" for p in best),
                 "–" if math.isnan(rank) else
                 f"{rank:.1f} ({sum(p is not None for p in best)})"]
        rows.append(cells)
    return md_table(head, rows)


def head_to_head_lines(points: Sequence[ArchPoint], datasets: Sequence[str],
                       archs: Sequence[str]) -> list[str]:
    """Markdown table: row architecture against column architecture, "wins–losses" of their
    most robust configurations (pass the comparable points) over the datasets where both have
    one (ties, if any, in brackets); architectures in the order of their mean rank."""
    order = _by_rank(architecture_ranks(points, datasets, archs))
    games = head_to_head(points, datasets, archs)

    def cell(a: str, b: str) -> str:
        if a == b:
            return "–"
        won, lost, tied = games[a, b]
        return f"{won}–{lost}" + (f" ({tied} tied)" if tied else "")

    return md_table(["architecture", *(f"vs {md_escape(b)}" for b in order)],
                    [[md_escape(a), *(cell(a, b) for b in order)] for a in order])


def _triple(clean: float, fgsm: float, bim: float) -> str:
    return f"{clean:.1f} / {fgsm:.1f} / {bim:.1f}"


def _cell(points: Sequence[ArchPoint], compared: Sequence[ArchPoint], dataset: str,
          arch: str) -> str:
    mine = [p for p in compared if p.arch == arch]
    best = best_point(mine, dataset, "bim")
    if best is not None:
        m = best.mean
        return f"{_triple(100 * m['clean'], 100 * m['fgsm'], 100 * m['bim'])} ({best.mode})"
    cleans = [p.mean["clean"] for p in points if p.dataset == dataset and p.arch == arch
              and math.isfinite(p.mean["clean"])]
    return f"not compared (clean ≤ {100 * max(cleans):.1f})" if cleans else "–"


def benchmark_lines(points: Sequence[ArchPoint], compared: Sequence[ArchPoint],
                    datasets: Sequence[str], archs: Sequence[str]) -> list[str]:
    """Markdown table, one row per dataset of ``datasets`` with published figures: clean /
    FGSM / BIM accuracy (%) of the published ResNet and FCN, then per architecture of
    ``archs`` its configuration in ``compared`` with the highest mean BIM accuracy (its mode
    in brackets), or "not compared" with the architecture's best clean accuracy over
    ``points``. Empty when no dataset has published figures."""
    rows = [d for d in datasets if d in PUBLISHED]
    if not rows:
        return []
    published = list(dict.fromkeys(name for d in rows for name in PUBLISHED[d]))
    head = ["dataset", *(f"{n} (published)" for n in published), *map(md_escape, archs)]
    return md_table(head, ([md_escape(d),
                            *(_triple(*PUBLISHED[d][n]) if n in PUBLISHED[d] else "–"
                              for n in published),
                            *(_cell(points, compared, d, a) for a in archs)] for d in rows))


def remaining_hours(rows: Sequence[ArchRow], expected: Iterable[tuple[str, str, str, int]]
                    ) -> tuple[float, int]:
    """An estimate of the work left: for every ``(dataset, arch, mode, seed)`` of
    ``expected`` without a row, the mean training + measurement seconds of the rows of the
    same dataset, architecture and mode (other seeds); in hours, with the number of missing
    models that have no such row (not counted)."""
    cost: dict[tuple[str, str, str], list[float]] = {}
    done = set()
    for r in rows:
        cost.setdefault((r.dataset, r.arch, r.mode), []).append(r.train_seconds + r.eval_seconds)
        done.add((r.dataset, r.arch, r.mode, r.seed))
    seconds, unknown = 0.0, 0
    for key in expected:
        if key in done:
            continue
        same = cost.get(key[:3])
        if same:
            seconds += sum(same) / len(same)
        else:
            unknown += 1
    return seconds / 3600, unknown


__all__ = ["LEAD_SE", "architecture_lines", "benchmark_lines", "head_to_head_lines", "pct",
           "remaining_hours", "summary_lines"]
