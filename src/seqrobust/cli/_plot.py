"""``seqrobust plot boundary|taylor RUN --index I``: the poster's Figures 3 and 4 for one input
of a trained run or a foreign model (``--model``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from seqrobust.cli._source import with_source
from seqrobust.runs.figures import figure3, figure4
from seqrobust.runs.load import ModelSource

plot_app = typer.Typer(help="Figures for one input of a trained run.", no_args_is_help=True)


def _out(source: ModelSource, out: Path | None, name: str, index: int) -> Path:
    """The PNG path (its folder is created only once the input is known to exist)."""
    return source.output(out, "figures", f"{name}-{index}.png")


@plot_app.command("boundary")
@with_source
def boundary(
    source: ModelSource,
    index: Annotated[int, typer.Option(help="Test-set index of the input.")] = 0,
    second: Annotated[str, typer.Option(help="curvature (top eigenvector) | random")] = "curvature",
    extent: Annotated[float, typer.Option(help="Half-width of the slice in units of |δ|.")] = 2.0,
    grid: Annotated[int, typer.Option(help="Grid points per axis.")] = 81,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    out: Annotated[Optional[Path], typer.Option(  # noqa: UP045
        help="PNG path (default RUN/figures/boundary-INDEX.png; required with --model).")] = None,
) -> None:
    """Figure 3: the decision boundary and its second-order model in a plane through x."""
    if second not in ("curvature", "random"):
        raise ValueError(f"unknown --second {second!r}; choose curvature or random")
    summary = figure3(
        source,
        index,
        _out(source, out, "boundary", index),
        second=second,  # type: ignore[arg-type]
        extent=extent,
        grid=grid,
        seed=seed,
    )
    typer.echo(json.dumps(summary))


@plot_app.command("taylor")
@with_source
def taylor(
    source: ModelSource,
    index: Annotated[int, typer.Option(help="Test-set index of the input.")] = 0,
    directions: Annotated[int, typer.Option(help="Random directions per radius.")] = 200,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    out: Annotated[Optional[Path], typer.Option(  # noqa: UP045
        help="PNG path (default RUN/figures/taylor-INDEX.png; required with --model).")] = None,
) -> None:
    """Figure 4: the real margin against its second-order model along random directions."""
    summary = figure4(source, index, _out(source, out, "taylor", index), directions=directions,
                      seed=seed)
    typer.echo(json.dumps(summary))


def register(app: typer.Typer) -> None:
    """Attach the ``plot`` command group to ``app``."""
    app.add_typer(plot_app, name="plot")
