"""``seqrobust curvature``: the input-curvature penalty R = sum_k ||Hess f_k||_F^2 of a run or a
foreign model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from seqrobust.cli._source import with_source
from seqrobust.runs.curvature import DEFAULT_N
from seqrobust.runs.load import ModelSource


@with_source
def curvature_cmd(
    source: ModelSource,
    n: Annotated[Optional[int], typer.Option(  # noqa: UP045
        help=f"First N test inputs (an error if there are fewer) (default: {DEFAULT_N}, or all "
        "if fewer).", show_default=False)] = None,
    probes: Annotated[int, typer.Option(help="Probes per input (exact over the outputs).")] = 8,
    exact: Annotated[bool, typer.Option("--exact", help="Exact R (L*d HVPs per input).")] = False,
    batch_size: Annotated[int, typer.Option(help="Inputs per batch.")] = 100,
    seed: Annotated[int, typer.Option(help="Probe seed.")] = 0,
    device: Annotated[str, typer.Option(help="auto | cpu | cuda")] = "auto",
    out: Annotated[Optional[Path], typer.Option(  # noqa: UP045
        help="Also write the JSON here.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
) -> None:
    """Mean, standard error and median of R(x) over test inputs, and the clean accuracy (JSON).

    R is estimated per input without bias by the exact-over-outputs Hutchinson estimator
    (theory.md E19), or computed exactly with --exact; the standard error is over inputs.
    """
    from seqrobust.runs.curvature import curvature_run

    result = curvature_run(source, n=n, probes=probes, exact=exact, batch_size=batch_size,
                           seed=seed, device=device, out=out, progress=not quiet)
    typer.echo(json.dumps(result))


def register(app: typer.Typer) -> None:
    """Attach ``curvature`` to ``app``."""
    app.command("curvature")(curvature_cmd)
