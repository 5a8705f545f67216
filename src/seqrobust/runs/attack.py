"""``seqrobust attack`` on a run folder or a foreign model: ε grids from the command line, the
curve of the model written as CSV/JSON/PNG with its sanity checks, and ``--shard`` records."""

from __future__ import annotations

import csv
import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from seqrobust.data import SequenceData
from seqrobust.measure.checks import Check, sanity_checks
from seqrobust.measure.robustness import AttackSettings, RobustnessCurve, robustness_curve
from seqrobust.runs.load import ModelSource, as_source, load_source
from seqrobust.runs.shards import WHOLE, Shard, shard_indices
from seqrobust.training.run import resolve_device

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
    """Parse ``"1:30"`` (inclusive integer range), ``"1:30:2"`` (with a step) or ``"2,4,8"``.

    Raises:
        ValueError: on a malformed spec, an empty range or a non-positive value.
    """
    text = spec.strip()
    try:
        if ":" in text:
            parts = [float(p) for p in text.split(":")]
            if len(parts) not in (2, 3):
                raise ValueError
            start, stop = parts[0], parts[1]
            step = parts[2] if len(parts) == 3 else 1.0
            if step <= 0:
                raise ValueError
            count = int(math.floor((stop - start) / step + 1e-9)) + 1
            values = tuple(round(start + i * step, 10) for i in range(max(count, 0)))
        else:
            values = tuple(float(p) for p in text.split(",") if p.strip())
    except ValueError:
        raise ValueError(
            f"bad --eps {spec!r}; use START:STOP, START:STOP:STEP or a comma list"
        ) from None
    if not values:
        raise ValueError(f"--eps {spec!r} gives no values")
    for value in values:
        if not (value > 0 and math.isfinite(value)):
            raise ValueError(f"--eps values must be positive, got {value:g} in {spec!r}")
    return values


def write_curve(
    curve: RobustnessCurve, out: Path, *, checks: list[Check], plot: bool = True,
    extra: dict[str, Any] | None = None,
) -> list[Path]:
    """Write ``curve.csv``, ``curve.json`` (with the checks and the ``extra`` entries, e.g.
    provenance) and ``curve.png`` into ``out``.

    Returns:
        The files written.
    """
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "curve.csv", out / "curve.json"]
    with open(written[0], "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([_eps_column(curve.unit), "robust_accuracy"])
        writer.writerow([0, f"{curve.clean_accuracy:.6f}"])
        for e, a in zip(curve.eps, curve.accuracy, strict=True):
            writer.writerow([f"{e:g}", f"{a:.6f}"])
    record = {"curve": curve.to_json(), "checks": [asdict(c) for c in checks], **(extra or {})}
    written[1].write_text(json.dumps(record, indent=1) + "\n")
    if plot:
        from seqrobust.reporting.plots_robustness import plot_accuracy_vs_eps

        written.append(out / "curve.png")
        plot_accuracy_vs_eps(
            [(curve.label, (0.0, *curve.eps), (curve.clean_accuracy, *curve.accuracy))],
            written[-1],
            title=f"{curve.settings.attack}, n={curve.n}",
            unit="pixel units, 0–255" if curve.unit.startswith("pixel") else curve.unit,
        )
    return written


def _eps_column(unit: str) -> str:
    """CSV header of the radius column: ``eps_pixels`` for MNIST, else ``eps_<unit>``."""
    return "eps_pixels" if unit.startswith("pixel") else "eps_" + "_".join(unit.split())


def format_table(curves: list[RobustnessCurve], *, eps: tuple[float, ...]) -> str:
    """A Markdown table: one row per curve, clean accuracy and robust accuracy (%) at ``eps``."""
    head = "| model | attack | n | clean | " + " | ".join(f"ε={e:g}" for e in eps) + " |"
    rule = "|" + "---|" * (4 + len(eps))
    rows = [head, rule]
    for c in curves:
        cells = []
        for e in eps:
            try:
                cells.append(f"{100 * c.at(e):.1f}")
            except ValueError:
                cells.append("–")
        rows.append(
            f"| {c.label} | {c.settings.attack} | {c.n} | {100 * c.clean_accuracy:.2f} | "
            + " | ".join(cells) + " |"
        )
    return "\n".join(rows)


def format_checks(checks: list[Check]) -> str:
    """Checks as Markdown bullet lines."""
    return "\n".join(f"- **{c.status}** {c.name}: {c.detail}" for c in checks)


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
    queries: int = 1000, seed: int = 0, n: int = 10000, batch_size: int = 1000,
    device: str = "auto", dataset: str | None = None, shard: Shard = WHOLE,
    progress: bool = True,
) -> AttackOutcome:
    """The robustness curve of the run in ``run`` (or of a foreign model: a
    :class:`~seqrobust.runs.load.ModelSource`, its provenance then in ``curve.json``) written
    to ``out`` (default ``RUN/attacks/ATTACK``); options as ``seqrobust attack``. ``eps``: a
    spec for :func:`parse_epsilons` (default: :func:`default_eps` of the data); ``alpha``
    ``None``: :func:`default_alpha`.

    Raises:
        ValueError: one line, on bad options, a missing run or model, no ``out`` for a
            foreign model, or incompatible data.
    """
    if n <= 0:
        raise ValueError(f"--n must be positive, got {n}")
    radii = parse_epsilons(eps) if eps is not None else None
    AttackSettings(attack=attack, alpha=alpha or 1.0, steps=steps, restarts=restarts,
                   queries=queries).build(eps_scale=1.0)  # validate before loading anything
    source = as_source(run, dataset=dataset)
    folder = source.output(out, "attacks", attack)
    dev = resolve_device(device)
    loaded = load_source(source, split="test", limit=n, device=dev)
    data = loaded.data
    radii = radii if radii is not None else parse_epsilons(default_eps(data))
    settings = AttackSettings(
        attack=attack, alpha=alpha if alpha is not None else default_alpha(data, radii),
        steps=steps, restarts=restarts, random_start=random_start, queries=queries, seed=seed,
    )
    settings.build(eps_scale=data.eps_scale)
    chosen = None if shard.whole else shard_indices(len(data), shard, block=batch_size)
    curve = robustness_curve(
        loaded.model, data, settings=settings, eps=radii, batch_size=batch_size,
        label=source.label, progress=progress, indices=chosen,
    )
    if chosen is not None:
        from seqrobust.runs.merge import write_attack_shard

        path = write_attack_shard(
            folder, shard, curve, indices=chosen, total=len(data), run=source.name,
            dataset=data.name, batch_size=batch_size, plain=loaded.plain,
        )
        return AttackOutcome(curve, [], [path], data.name, shard_file=path)
    checks = sanity_checks(curve, plain=loaded.plain)
    written = write_curve(curve, folder, checks=checks, extra=loaded.record)
    return AttackOutcome(curve, checks, written, data.name)


__all__ = [
    "DEFAULT_EPS", "AttackOutcome", "attack_run", "default_alpha", "default_eps",
    "format_checks", "format_table", "parse_epsilons", "write_curve",
]
