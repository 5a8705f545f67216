"""Theorem 1 (corrected) bounds against measured adversarial distances, per input, for any
classifier.

For every input: the margins ``t_k`` to every competitor ``k`` (or to the runner-up only),
``J_k = ∇F_k``, the top curvature ``v_k = λ_max(∇²(−F_k))`` by batched Lanczos with its
residual, the bounds (theory.md E2/E3; the lower bound uses ``v + residual``), their minimum
over competitors, the best witness, and the minimal L2 distance measured by DeepFool and FMN
(:func:`~seqrobust.attacks.minimal_l2`). The bounds are exact for the quadratic model (E1) of
the network, not for the network: the summary reports how often they bracket the measured
distance, without any tuning. :func:`analyze` returns the table in memory
(:class:`Analysis`); ``seqrobust analyze`` (:mod:`seqrobust.runs.analyze`) appends the same
rows to a run's CSV, chunk by chunk.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor
from tqdm import tqdm

from seqrobust.data.dataset import SequenceData
from seqrobust.measure._lengths import attack_bounds, map_groups
from seqrobust.measure._prepare import prepare
from seqrobust.measure.analyze_summary import parse_table, summarize_tables
from seqrobust.measure.bounds_table import COLUMNS, AnalyzeOptions, analyze_group
from seqrobust.models.classifier import Classifier, Group
from seqrobust.seeds import input_generator


def _fmt(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else ("inf" if value > 0 else "-inf")
    return value


def profile_header(steps: int) -> list[str]:
    """The columns of the per-time-step profile for ``steps`` steps."""
    return ["index"] + [f"grad_{s}" for s in range(steps)] + [f"curv_{s}" for s in range(steps)]


def analyze_chunk(
    model: Classifier, data: SequenceData, idx: Sequence[int], *, options: AnalyzeOptions,
    device: torch.device,
) -> tuple[list[list[Any]], list[list[Any]]]:
    """The table rows (:data:`COLUMNS`) and profile rows of inputs ``idx`` of ``data``.

    Returns:
        ``(rows, profile rows)``, one each per input in ``idx`` order.
    """
    gens = [input_generator(options.seed, i) for i in idx]
    profiled = torch.tensor([i < options.profile_n for i in idx], device=device)
    bounds = attack_bounds(data)
    x = data.inputs[list(idx)].to(device)
    lengths = None if data.lengths is None else data.lengths[list(idx)]

    def group(xg: Tensor, rows: Tensor, g: Group) -> dict[str, Tensor]:
        chosen = [gens[r] for r in rows.tolist()]
        return analyze_group(g.forward(), g.forward(functional=True), xg, cfg=options,
                             bounds=bounds, profile=profiled[rows], generators=chosen)

    cols = map_groups(group, x, model.groups(x, lengths), per_step=("grad_t", "curv_t"))
    grad_t, curv_t, measured = cols.pop("grad_t"), cols.pop("curv_t"), cols["measured"]
    labels = data.labels[list(idx)].to(device)
    table = {
        **cols,
        "index": torch.tensor(list(idx)),
        "label": labels,
        "correct": labels == cols["pred"],
        "lower_ok": cols["lower"] <= measured,
        "upper_ok": measured <= cols["upper"],
        "best_ok": measured <= cols["best"],
    }
    lists = {k: v.detach().cpu().tolist() for k, v in table.items()}
    rows = [[_fmt(lists[c][r]) for c in COLUMNS] for r in range(len(idx))]
    g, c = grad_t.cpu().tolist(), curv_t.cpu().tolist()
    return rows, [[i, *g[r], *c[r]] for r, i in enumerate(idx)]


def _csv_text(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


@dataclass(frozen=True)
class Analysis:
    """The per-input table of :func:`analyze` and its summary.

    Attributes:
        rows: one row per input, columns :data:`COLUMNS` (distances in model units).
        profile: per input, ``index``, then ``‖J_t‖`` and the block curvature per step.
        summary: fractions bracketed, ratio quantiles, Spearman correlations, attacks.
        unit: the unit of distances.
    """

    rows: list[list[Any]]
    profile: list[list[Any]]
    steps: int
    unit: str
    summary: dict[str, Any] = field(default_factory=dict)

    def csv(self) -> str:
        """The table as CSV text (the same bytes as ``rows.csv`` of ``seqrobust analyze``)."""
        return _csv_text(COLUMNS, self.rows)

    def column(self, name: str) -> list[Any]:
        """One column of the table, e.g. ``analysis.column("lower")``."""
        k = COLUMNS.index(name)
        return [r[k] for r in self.rows]

    def to_csv(self, folder: str | Path) -> list[Path]:
        """Write ``rows.csv``, ``profile.csv`` and ``summary.json`` into ``folder``."""
        from seqrobust._safeio import write_text_atomic

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        files = {"rows.csv": self.csv(),
                 "profile.csv": _csv_text(profile_header(self.steps), self.profile),
                 "summary.json": json.dumps(self.to_json()["summary"], indent=1)}
        for name, text in files.items():
            write_text_atomic(folder, name, text)
        return [folder / name for name in files]

    def to_json(self) -> dict[str, Any]:
        """Summary, unit and the rows as objects."""
        return {"unit": self.unit, "summary": self.summary,
                "rows": [dict(zip(COLUMNS, r, strict=True)) for r in self.rows]}


def analyze(
    model: torch.nn.Module | Classifier,
    data: SequenceData,
    *,
    n: int | None = None,
    options: AnalyzeOptions | None = None,
    batch_size: int = 100,
    progress: bool = False,
    **option_values: Any,
) -> Analysis:
    """Theorem-1 bounds, curvature and measured minimal L2 distances of the first ``n`` inputs
    of ``data`` (module docstring), for any classifier.

    Args:
        model: the classifier (its current mode and device are used).
        data: inputs in model units; variable lengths allowed (only real steps are dimensions).
        n: the first ``n`` inputs (default all).
        options: :class:`AnalyzeOptions`; or give its fields as keywords
            (``lanczos_iters=20``...).
        batch_size: inputs per chunk.
        progress: a progress bar.

    Returns:
        The :class:`Analysis`; distances in model units.
    """
    opts = options if options is not None else AnalyzeOptions(**option_values)
    clf = prepare(model, data)
    device = next((p.device for p in clf.parameters()), torch.device("cpu"))
    total = len(data) if n is None else min(n, len(data))
    rows: list[list[Any]] = []
    prof: list[list[Any]] = []
    for start in tqdm(range(0, total, batch_size), desc="analyze", unit="chunk",
                      disable=not progress):
        idx = list(range(start, min(start + batch_size, total)))
        r, p = analyze_chunk(clf, data, idx, options=opts, device=device)
        rows += r
        prof += p
    unit = data.eps_unit if data.eps_scale == 1.0 else "model units"
    summary = summarize_tables(parse_table(_csv_text(COLUMNS, rows)),
                               parse_table(_csv_text(profile_header(data.seq_len), prof)),
                               n=total) if rows else {"inputs": 0}
    return Analysis(rows, prof, data.seq_len, unit, summary)


__all__ = ["Analysis", "analyze", "analyze_chunk", "profile_header"]
