"""``seqrobust merge KIND FOLDER``: combine the ``--shard i/n`` jobs of analyze, noise or
attack."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from seqrobust.runs.merge import KINDS


def merge_cmd(
    kind: Annotated[str, typer.Argument(help=" | ".join(KINDS))],
    folder: Annotated[Path, typer.Argument(help="The output folder all shards wrote to.")],
    plots: Annotated[bool, typer.Option("--plots/--no-plots", help="Write the figures.")] = True,
) -> None:
    """Merge the shard files (KIND.shard-I-of-N.json) of FOLDER into the single-process outputs.

    Refuses to merge when a shard is missing, shards of different configs or N are mixed, or
    the shards do not cover every input exactly once.
    """
    from seqrobust.runs.merge import merge

    result = merge(kind, folder, plots=plots)
    if kind == "attack":
        from seqrobust.runs.attack import format_checks, format_table

        curve = result["curve"]
        typer.echo(format_table([curve], eps=curve.eps))
        typer.echo(format_checks(result["checks"], escape=False))
        typer.echo(f"wrote {', '.join(str(p) for p in result['written'])}")
    else:
        keys = (
            ("inputs", "attacked", "bracket", "median_ratio", "shards")
            if kind == "analyze"
            else ("n_inputs", "d", "inputs_reaching_half", "radius_ratio_half_over_linear_median")
        )
        typer.echo(json.dumps({"out": str(folder), **{k: result.get(k) for k in keys}}))


def register(app: typer.Typer) -> None:
    """Attach ``merge`` to ``app``."""
    app.command("merge")(merge_cmd)
