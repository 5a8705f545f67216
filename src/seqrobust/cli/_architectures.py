"""``seqrobust reproduce architectures``: which sequence architecture is most robust, and does
curvature explain it (issue 16)?"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from seqrobust.cli._attack import _reproduce_group


def architectures_cmd(
    quick: Annotated[bool, typer.Option(
        "--quick", help="Two small sets, three architectures, one seed (a few CPU minutes).")
    ] = False,
    out: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(help="Output folder (default runs/architectures, runs/architectures-quick)."),
    ] = None,
    device: Annotated[str, typer.Option(help="auto | cpu | cuda | cuda:N")] = "auto",
    records: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(help="Per-model records (default OUT/records); the committed study uses "
                          "docs/results/architectures/records."),
    ] = None,
    workers: Annotated[int, typer.Option(
        help="(dataset, architecture) units run at a time (processes).")] = 1,
    shard: Annotated[Optional[str], typer.Option(  # noqa: UP045
        help="I/N: run only every N-th unit from the I-th (0-based), e.g. one array job.")
    ] = None,
    report_only: Annotated[bool, typer.Option(
        "--report-only", help="Train nothing: write the (interim) report from the records.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bars.")] = False,
) -> None:
    """Train every architecture × defence on MNIST rows and real series (λ chosen on a
    validation split), attack each model, set it beside the published UCR benchmark and judge
    whether curvature explains robustness.

    Resumes: models with a record in RECORDS are never retrained; finished trainings and
    evaluations in OUT are reused, a killed training resumes from its checkpoint.
    """
    from seqrobust.runs.shards import parse_shard
    from seqrobust.studies.architectures import ArchitecturesConfig, run_architectures

    cfg = ArchitecturesConfig.quick() if quick else ArchitecturesConfig()
    folder = out if out is not None else Path("runs") / (
        "architectures-quick" if quick else "architectures")
    report = run_architectures(cfg, folder, device=device, progress=not quiet, records=records,
                               workers=workers, shard=parse_shard(shard),
                               report_only=report_only)
    typer.echo(report.read_text().split("\n## ")[1].rstrip())
    typer.echo(f"wrote {report}, {report.with_suffix('.csv')} and {report.with_suffix('.png')}")


def register(app: typer.Typer) -> None:
    """Attach ``reproduce architectures`` to ``app``."""
    _reproduce_group(app).command("architectures")(architectures_cmd)
