"""The ``seqrobust`` command line: a thin layer over the importable API.

Each command lives in its own ``cli/_<name>.py`` module exposing ``register(app)``; add new
modules to ``_COMMAND_MODULES``. User errors (bad files, configs, flags) end in a one-line
``error: ...`` message and exit status 2; set ``SEQROBUST_DEBUG=1`` for the traceback.
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys
from collections.abc import Sequence

import typer

from seqrobust.data.fetch import FetchError

_COMMAND_MODULES = (
    "seqrobust.cli._data",
    "seqrobust.cli._train",
    "seqrobust.cli._noise",
    "seqrobust.cli._attack",
    "seqrobust.cli._frontier",
    "seqrobust.cli._architectures",
    "seqrobust.cli._analyze",
    "seqrobust.cli._curvature",
    "seqrobust.cli._plot",
    "seqrobust.cli._report",
    "seqrobust.cli._merge",
    "seqrobust.cli._datasets",
)

app = typer.Typer(
    name="seqrobust",
    help="Adversarial robustness of sequence models through decision-boundary geometry.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
_registered = False


def _one_line_paragraphs(doc: str) -> str:
    """``doc`` with each paragraph on one line: typer re-wraps a command's first paragraph for
    ``--help`` but keeps the source's line breaks in the command list and later paragraphs."""
    return "\n\n".join(" ".join(par.split()) for par in inspect.cleandoc(doc).split("\n\n"))


def _reflow(typer_app: typer.Typer) -> None:
    for info in typer_app.registered_commands:
        if info.callback is not None and info.callback.__doc__ and info.help is None:
            info.callback.__doc__ = _one_line_paragraphs(info.callback.__doc__)
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            _reflow(group.typer_instance)


def _register_all() -> None:
    global _registered
    if not _registered:
        for module in _COMMAND_MODULES:
            importlib.import_module(module).register(app)
        _reflow(app)
        _registered = True


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI in-process with ``argv`` (default ``sys.argv[1:]``); returns the exit code."""
    _register_all()
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        app(args=args, prog_name="seqrobust")
    except SystemExit as exc:  # click's standalone mode ends every run with SystemExit
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except (ValueError, OSError, FetchError) as exc:
        if os.environ.get("SEQROBUST_DEBUG"):
            raise
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        message = lines[0] if lines else type(exc).__name__
        print(f"error: {message}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
