"""``seqrobust report RUN [RUN ...]``: a self-contained HTML report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from seqrobust.runs.report import build_report


def report_cmd(
    runs: Annotated[list[Path], typer.Argument(help="One or more run folders.")],
    out: Annotated[Optional[Path], typer.Option(  # noqa: UP045
        help="HTML path (default RUN/report.html).")] = None,
    gallery: Annotated[int, typer.Option(help="Inputs in the adversarial gallery.")] = 3,
) -> None:
    """Everything known about one or more runs, as one HTML file that opens from disk."""
    target = out or (runs[0] / "report.html" if len(runs) == 1 else Path("report.html"))
    path = build_report(runs, target, gallery=gallery)
    typer.echo(str(path))


def register(app: typer.Typer) -> None:
    """Attach ``report`` to ``app``."""
    app.command("report")(report_cmd)
