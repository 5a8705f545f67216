"""``seqrobust reproduce frontier``: the clean-accuracy vs robustness frontier study (issue 10)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from seqrobust.cli._attack import _reproduce_group


def frontier_cmd(
    quick: Annotated[bool, typer.Option("--quick", help="Small version (~7 CPU-minutes).")] = False,
    out: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(help="Output folder (default runs/frontier, runs/frontier-quick)."),
    ] = None,
    device: Annotated[str, typer.Option(help="auto | cpu | cuda | cuda:N")] = "auto",
    records: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(help="Per-model records (default OUT/records); the committed study uses "
                          "docs/results/frontier/records."),
    ] = None,
    workers: Annotated[int, typer.Option(help="Models trained at a time (processes).")] = 1,
    shard: Annotated[Optional[str], typer.Option(  # noqa: UP045
        help="I/N: train only every N-th model from the I-th (0-based), e.g. one array job.")
    ] = None,
    report_only: Annotated[bool, typer.Option(
        "--report-only", help="Train nothing: write the (interim) report from the records.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bars.")] = False,
) -> None:
    """Train every mode over its λ grid and seeds, attack each model and judge the frontier.

    Resumes: models with a record in RECORDS are never retrained; finished trainings and
    evaluations in OUT are reused, a killed training resumes from its checkpoint.
    """
    from seqrobust.runs.shards import parse_shard
    from seqrobust.studies.frontier import FrontierConfig, run_frontier

    cfg = FrontierConfig.quick() if quick else FrontierConfig()
    folder = out if out is not None else Path("runs") / ("frontier-quick" if quick else "frontier")
    report = run_frontier(cfg, folder, device=device, progress=not quiet, records=records,
                          workers=workers, shard=parse_shard(shard), report_only=report_only)
    typer.echo(report.read_text().split("## All points")[0].rstrip())
    typer.echo(f"wrote {report}, {report.with_suffix('.csv')} and {report.with_suffix('.png')}")


def register(app: typer.Typer) -> None:
    """Attach ``reproduce frontier`` to ``app``."""
    _reproduce_group(app).command("frontier")(frontier_cmd)
