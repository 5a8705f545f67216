"""The shared command line of the resumable multi-model studies (``reproduce frontier``,
``reproduce architectures``): the same options, one call to the study's runner.

No ``from __future__ import annotations`` here: typer reads the command's annotations, which
name the factory's arguments (help texts), so they must be evaluated where it is defined."""

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from seqrobust.cli._attack import _reproduce_group


def study_command(name: str, *, load: Callable[[], tuple[Any, Callable[..., Path]]],
                  quick_help: str, doc: str, headline: str) -> Callable[..., None]:
    """A ``reproduce NAME`` command; ``load()`` returns ``(config class, runner)`` (imported
    lazily); ``headline``: the report is echoed up to this heading."""

    def command(
        quick: Annotated[bool, typer.Option("--quick", help=quick_help)] = False,
        out: Annotated[
            Optional[Path],  # noqa: UP045
            typer.Option(help=f"Output folder (default runs/{name}, runs/{name}-quick)."),
        ] = None,
        device: Annotated[str, typer.Option(help="auto | cpu | cuda | cuda:N")] = "auto",
        records: Annotated[
            Optional[Path],  # noqa: UP045
            typer.Option(help="Per-model records (default OUT/records); the committed study "
                              f"uses docs/results/{name}/records."),
        ] = None,
        workers: Annotated[int, typer.Option(help="Tasks run at a time (processes).")] = 1,
        shard: Annotated[Optional[str], typer.Option(  # noqa: UP045
            help="I/N: run only every N-th task from the I-th (0-based), e.g. one array job.")
        ] = None,
        report_only: Annotated[bool, typer.Option(
            "--report-only", help="Train nothing: write the (interim) report from the records.")
        ] = False,
        quiet: Annotated[bool, typer.Option("--quiet", help="No progress bars.")] = False,
    ) -> None:
        from seqrobust.runs.shards import parse_shard

        config, run = load()
        cfg = config.quick() if quick else config()
        folder = out if out is not None else Path("runs") / (f"{name}-quick" if quick else name)
        report = run(cfg, folder, device=device, progress=not quiet, records=records,
                     workers=workers, shard=parse_shard(shard), report_only=report_only)
        typer.echo(report.read_text().split(headline)[0].rstrip())
        typer.echo(f"wrote {report}, {report.with_suffix('.csv')} and "
                   f"{report.with_suffix('.png')}")

    command.__doc__ = doc  # one line per paragraph once registered (cli._reflow)
    command.__name__ = f"{name}_cmd"
    return command


def register_study(app: typer.Typer, name: str, command: Callable[..., None]) -> None:
    """Attach ``reproduce NAME`` to ``app``."""
    _reproduce_group(app).command(name)(command)


__all__ = ["register_study", "study_command"]
