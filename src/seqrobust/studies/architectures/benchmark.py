"""One table of our models against the published UCR benchmark (Fawaz et al., IJCNN 2019):
per dataset with published figures, their ResNet and FCN beside, for each of our
architectures, its comparable configuration with the highest BIM accuracy."""

from __future__ import annotations

import math
from collections.abc import Sequence

from seqrobust.reporting.text import md_escape
from seqrobust.studies.architectures.published import PUBLISHED
from seqrobust.studies.architectures.table import ArchPoint, best_point


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
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for d in rows:
        cells = [md_escape(d)]
        cells += [_triple(*PUBLISHED[d][n]) if n in PUBLISHED[d] else "–" for n in published]
        cells += [_cell(points, compared, d, a) for a in archs]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


__all__ = ["benchmark_lines"]
