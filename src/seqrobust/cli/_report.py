"""``seqrobust report RUN [RUN ...]`` (or ``--model ... --out DIR/report.html``): a
self-contained HTML report that leads with the headline numbers and sanity checks; several
runs, or a study folder (Figure 7, frontier), start with a comparison."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from seqrobust.cli._source import with_foreign
from seqrobust.runs.load import ModelSource
from seqrobust.runs.report import build_report


@with_foreign
def report_cmd(
    foreign: ModelSource | None,
    runs: Annotated[Optional[list[Path]], typer.Argument(  # noqa: UP045
        help="Run folders or study folders (runs/figure7, a frontier folder); none with "
        "--model.", show_default=False)] = None,
    out: Annotated[Optional[Path], typer.Option(  # noqa: UP045
        help="HTML path (default RUN/report.html). With --model required; the model's "
        "results are read from its folder, laid out like a run folder.")] = None,
    gallery: Annotated[int, typer.Option(
        help="Most vulnerable inputs drawn per model with their minimal adversarials.")] = 3,
) -> None:
    """Everything known about one or more runs (or a foreign model or a study), as one HTML
    file that opens from disk: headline numbers and sanity checks first."""
    folders = list(runs or [])
    if foreign is not None:
        if folders:
            raise ValueError("give run folders or --model, not both")
        target = foreign.output(out)
        path = build_report([foreign], target, gallery=gallery)
    else:
        if not folders:
            raise ValueError("give at least one run folder or --model")
        target = out or (folders[0] / "report.html" if len(folders) == 1 else Path("report.html"))
        path = build_report(folders, target, gallery=gallery)
    typer.echo(str(path))


def register(app: typer.Typer) -> None:
    """Attach ``report`` to ``app``."""
    app.command("report")(report_cmd)
