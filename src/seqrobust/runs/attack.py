"""``seqrobust attack`` on a run folder or a foreign model: ε grids from the command line, the
curve of the model written as CSV/JSON/PNG with its sanity checks, its settings and
provenance, and ``--shard`` records. Every file is written inside the output folder, never
through a symlink (:mod:`seqrobust.runs.outputs`)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from seqrobust.attacks.base import MAX_RADII
from seqrobust.data import SequenceData
from seqrobust.measure.checks import Check, sanity_checks
from seqrobust.measure.robustness import AttackSettings, RobustnessCurve, robustness_curve
from seqrobust.reporting.text import md_escape, md_table, mpl_escape
from seqrobust.runs.load import ModelSource, as_source, load_source, require_inputs
from seqrobust.runs.outputs import check_targets, save_figure, write_csv, write_json
from seqrobust.runs.shards import WHOLE, Shard, shard_file, shard_indices
from seqrobust.training.run import resolve_device

CURVE_FILES = ("curve.csv", "curve.json", "curve.png")
DEFAULT_N = 10000
"""Test inputs attacked when ``n`` is not given (all of them if the data has fewer)."""

DEFAULT_EPS = {"pixel": "1:30", "other": "0.05:0.5:0.05"}
"""Default ε grids: pixels (0-255) for MNIST; training standard deviations for aeon sets."""


def default_eps(data: SequenceData) -> str:
    """The default ε spec for ``data`` (:data:`DEFAULT_EPS`, chosen by ``data.eps_unit``)."""
    return DEFAULT_EPS["pixel" if data.eps_unit.startswith("pixel") else "other"]


def default_alpha(data: SequenceData, eps: tuple[float, ...]) -> float:
    """The default PGD step: 2 pixels for MNIST (the poster's), else ``max(eps) / 15`` (the
    same ratio as 2 pixels at the poster's largest ε = 30)."""
    return 2.0 if data.eps_unit.startswith("pixel") else max(eps) / 15.0


def parse_epsilons(spec: str) -> tuple[float, ...]:
    """Parse ``"1:30"`` (inclusive integer range), ``"1:30:2"`` (with a step) or ``"2,4,8"``;
    at most :data:`~seqrobust.attacks.base.MAX_RADII` values, counted before any is built.

    Raises:
        ValueError: on a malformed spec, an empty range, more than ``MAX_RADII`` values or a
            non-positive value.
    """
    text = spec.strip()
    bad = ValueError(f"bad --eps {spec!r}; use START:STOP, START:STOP:STEP or a comma list")
    if ":" in text:
        try:
            parts = [float(p) for p in text.split(":")]
        except ValueError:
            raise bad from None
        if len(parts) not in (2, 3) or not all(math.isfinite(v) for v in parts):
            raise bad
        start, stop = parts[0], parts[1]
        step = parts[2] if len(parts) == 3 else 1.0
        if step <= 0:
            raise bad
        span = (stop - start) / step + 1e-9
        count = 0 if span < 0 else (math.floor(span) + 1 if math.isfinite(span) else math.inf)
        _check_count(count, spec)
        values = tuple(round(start + i * step, 10) for i in range(int(count)))
    else:
        items = [p for p in text.split(",") if p.strip()]
        _check_count(len(items), spec)
        try:
            values = tuple(float(p) for p in items)
        except ValueError:
            raise bad from None
    if not values:
        raise ValueError(f"--eps {spec!r} gives no values")
    for value in values:
        if not (value > 0 and math.isfinite(value)):
            raise ValueError(f"--eps values must be positive, got {value:g} in {spec!r}")
    return values


def _check_count(count: float, spec: str) -> None:
    """Refuse a grid of more than ``MAX_RADII`` values (before it is built)."""
    if count > MAX_RADII:
        many = f"{math.floor(count)}" if math.isfinite(count) else "too many"
        shown = spec if len(spec) <= 40 else spec[:37] + "..."
        raise ValueError(f"--eps {shown!r} gives {many} values; at most "
                         f"{MAX_RADII} (every radius attacks every input still robust): use a "
                         "coarser grid")


def write_curve(
    curve: RobustnessCurve, out: Path, *, checks: list[Check], plot: bool = True,
    extra: dict[str, Any] | None = None,
) -> list[Path]:
    """Write ``curve.csv``, ``curve.json`` (with the checks and the ``extra`` entries, e.g.
    provenance) and ``curve.png`` into ``out`` (inside it, never through a symlink).

    Returns:
        The files written.
    """
    check_targets(out, *CURVE_FILES[: 3 if plot else 2])
    out.mkdir(parents=True, exist_ok=True)
    rows = [[0, f"{curve.clean_accuracy:.6f}"]]
    rows += [[f"{e:g}", f"{a:.6f}"] for e, a in zip(curve.eps, curve.accuracy, strict=True)]
    written = [write_csv(out, "curve.csv", [_eps_column(curve.unit), "robust_accuracy"], rows)]
    record = {"curve": curve.to_json(), "checks": [asdict(c) for c in checks], **(extra or {})}
    written.append(write_json(out, "curve.json", record))
    if plot:
        from seqrobust.reporting.plots_robustness import plot_accuracy_vs_eps

        unit = "pixel units, 0–255" if curve.unit.startswith("pixel") else curve.unit
        lines = [(mpl_escape(curve.label), (0.0, *curve.eps),
                  (curve.clean_accuracy, *curve.accuracy))]
        written.append(save_figure(out, "curve.png", lambda path: plot_accuracy_vs_eps(
            lines, path, title=f"{curve.settings.attack}, n={curve.n}", unit=mpl_escape(unit))))
    return written


def _eps_column(unit: str) -> str:
    """CSV header of the radius column: ``eps_pixels`` for MNIST, else ``eps_<unit>``."""
    return "eps_pixels" if unit.startswith("pixel") else "eps_" + "_".join(unit.split())


def format_table(curves: list[RobustnessCurve], *, eps: tuple[float, ...]) -> str:
    """A Markdown table: one row per curve, clean accuracy and robust accuracy (%) at ``eps``
    (labels escaped: :func:`~seqrobust.reporting.text.md_escape`)."""
    rows = []
    for c in curves:
        cells = []
        for e in eps:
            try:
                cells.append(f"{100 * c.at(e):.1f}")
            except ValueError:
                cells.append("–")
        rows.append([md_escape(c.label), c.settings.attack, c.n,
                     f"{100 * c.clean_accuracy:.2f}", *cells])
    return "\n".join(md_table(["model", "attack", "n", "clean", *(f"ε={e:g}" for e in eps)],
                              rows))


def format_checks(checks: list[Check], *, escape: bool = True) -> str:
    """Checks as Markdown bullet lines; ``escape=False`` for a terminal, where Markdown
    escapes would show as backslashes (``\\<=``)."""
    esc = md_escape if escape else str
    return "\n".join(f"- **{c.status}** {esc(c.name)}: {esc(c.detail)}" for c in checks)


@dataclass(frozen=True)
class AttackOutcome:
    """What :func:`attack_run` produced."""

    curve: RobustnessCurve
    checks: list[Check]
    written: list[Path]
    dataset: str
    shard_file: Path | None = None


def attack_run(
    run: Path | ModelSource, out: Path | None, *, attack: str = "pgd", eps: str | None = None,
    alpha: float | None = None, steps: int = 30, restarts: int = 1, random_start: bool = True,
    queries: int = 1000, seed: int = 0, n: int | None = None, batch_size: int = 1000,
    device: str = "auto", dataset: str | None = None, shard: Shard = WHOLE,
    progress: bool = True,
) -> AttackOutcome:
    """The robustness curve of the run in ``run`` (or of a foreign model: a
    :class:`~seqrobust.runs.load.ModelSource`) written to ``out`` (default
    ``RUN/attacks/ATTACK``), its provenance (weights and data SHA-256) and full settings in
    ``curve.json``; options as ``seqrobust attack``. ``eps``: a spec for
    :func:`parse_epsilons` (default: :func:`default_eps` of the data); ``alpha`` ``None``:
    :func:`default_alpha`; ``n`` ``None``: the first :data:`DEFAULT_N` inputs, or all if
    fewer (a larger ``n`` than the data is an error); ``batch_size`` beyond the data is cut
    to it.

    Raises:
        ValueError: one line, on bad options, ``n`` beyond the data, a missing run or model,
            no ``out`` for a foreign model, incompatible data, or a symlink (or a path outside
            ``out``) at an output name.
    """
    if n is not None and (isinstance(n, bool) or n <= 0):
        raise ValueError(f"--n must be positive, got {n}")
    if isinstance(batch_size, bool) or batch_size <= 0:
        raise ValueError(f"--batch-size must be positive, got {batch_size}")
    radii = parse_epsilons(eps) if eps is not None else None
    AttackSettings(attack=attack, alpha=alpha or 1.0, steps=steps, restarts=restarts,
                   queries=queries).build(eps_scale=1.0)  # validate before loading anything
    source = as_source(run, dataset=dataset)
    folder = source.output(out, "attacks", attack)
    if shard.whole:
        check_targets(folder, *CURVE_FILES)
    else:
        check_targets(folder, shard_file(folder, "attack", shard).name)
    dev = resolve_device(device)
    loaded = load_source(source, split="test", limit=DEFAULT_N if n is None else n, device=dev)
    data = loaded.data
    if n is not None:
        require_inputs(data, n)
    radii = radii if radii is not None else parse_epsilons(default_eps(data))
    settings = AttackSettings(
        attack=attack, alpha=alpha if alpha is not None else default_alpha(data, radii),
        steps=steps, restarts=restarts, random_start=random_start, queries=queries, seed=seed,
    )
    settings.build(eps_scale=data.eps_scale)
    batch = min(batch_size, max(len(data), 1))
    chosen = None if shard.whole else shard_indices(len(data), shard, block=batch_size)
    curve = robustness_curve(
        loaded.model, data, settings=settings, eps=radii, batch_size=batch,
        label=source.label, progress=progress, indices=chosen,
    )
    provenance = {**loaded.provenance, "settings": {
        **asdict(settings), "eps": list(radii), "n": len(data), "batch_size": batch_size,
        "dataset": dataset}}
    if chosen is not None:
        from seqrobust.runs.merge import write_attack_shard

        path = write_attack_shard(
            folder, shard, curve, indices=chosen, total=len(data), run=source.name,
            dataset=data.name, batch_size=batch_size, plain=loaded.plain, provenance=provenance,
        )
        return AttackOutcome(curve, [], [path], data.name, shard_file=path)
    checks = sanity_checks(curve, plain=loaded.plain)
    written = write_curve(curve, folder, checks=checks, extra={"provenance": provenance})
    return AttackOutcome(curve, checks, written, data.name)


__all__ = [
    "DEFAULT_EPS", "AttackOutcome", "attack_run", "default_alpha", "default_eps",
    "format_checks", "format_table", "parse_epsilons", "write_curve",
]
