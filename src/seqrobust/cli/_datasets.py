"""``seqrobust reproduce datasets``: the real-sequential-data results table."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from seqrobust.cli._attack import _reproduce_group


def datasets_cmd(
    quick: Annotated[bool, typer.Option("--quick", help="Small version (minutes on CPU).")] = False,
    out: Annotated[Optional[Path], typer.Option(  # noqa: UP045
        help="Output folder (default runs/datasets, or runs/datasets-quick).")] = None,
    dataset: Annotated[Optional[list[str]], typer.Option(  # noqa: UP045
        "--dataset", help="Only these datasets, repeatable (default: all four).")] = None,
    device: Annotated[str, typer.Option(help="cpu | cuda | cuda:N")] = "cpu",
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
) -> None:
    """JapaneseVowels, BasicMotions, GunPoint, ItalyPowerDemand x plain / Jacobian / Hessian:
    clean and PGD accuracy, Theorem-1 bounds vs measured distances, training time.

    Resumes: finished trainings, curves and analyses in OUT are reused. Writes table.md and
    table.csv.
    """
    from seqrobust.data.registry import check_dataset
    from seqrobust.studies.datasets import format_table, quick_or_full, run_grid

    overrides: dict[str, object] = {"device": device}
    if dataset:
        for name in dataset:
            check_dataset(name)
        overrides["datasets"] = tuple(dataset)
    grid = quick_or_full(quick, **overrides)
    folder = out if out is not None else Path("runs") / ("datasets-quick" if quick else "datasets")
    rows = run_grid(grid, folder, progress=not quiet)
    typer.echo(format_table(rows))
    typer.echo(f"wrote {folder / 'table.md'} and {folder / 'table.csv'}")


def register(app: typer.Typer) -> None:
    """Attach ``reproduce datasets`` to ``app``."""
    _reproduce_group(app).command("datasets")(datasets_cmd)
