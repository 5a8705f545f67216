"""The options every run-taking command shares: a run folder, or a foreign model and its data.

:func:`with_source` gives a command an optional ``RUN`` argument and the options ``--dataset``,
``--model``, ``--model-kwargs``, ``--weights``, ``--takes-lengths``, ``--data``, ``--bounds``,
``--unit`` and ``--scale``, and hands it one :class:`~seqrobust.runs.load.ModelSource`;
:func:`with_foreign` gives a command taking several run folders the same options, handing it
the foreign source or ``None``.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from seqrobust.runs.load import ModelSource

_RUN = inspect.Parameter(
    "run", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None,
    annotation=Annotated[Optional[Path], typer.Argument(  # noqa: UP045
        help="Run folder (from `seqrobust train`); omit it with --model.", show_default=False)])


def _option(name: str, kind: Any, help: str, default: Any = None) -> inspect.Parameter:
    flag = "--" + name.replace("_", "-")
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default,
                             annotation=Annotated[kind, typer.Option(flag, help=help)])


_OPTIONS = [
    _option("dataset", Optional[str],  # noqa: UP045
            "Dataset to evaluate on (default: the run's own)."),
    _option("model", Optional[str],  # noqa: UP045
            "A foreign model instead of RUN: FILE.py:FACTORY or package.module:FACTORY, a "
            "callable returning the nn.Module (needs --data or --dataset, and --out)."),
    _option("model_kwargs", Optional[str],  # noqa: UP045
            "JSON object of keyword arguments for the --model factory."),
    _option("weights", Optional[Path],  # noqa: UP045
            "State dict of --model as .safetensors (never a pickle)."),
    _option("takes_lengths", bool, "--model's forward is (x, lengths) (default: read from "
            "its signature).", default=False),
    _option("data", Optional[Path],  # noqa: UP045
            ".npz or .safetensors file with x (N, T, F) float, y (N,) int and optionally "
            "lengths (N,)."),
    _option("bounds", Optional[str],  # noqa: UP045
            "LO,HI: the valid range of --data inputs (default: unbounded)."),
    _option("unit", str, "Name of the unit --data perturbation sizes are given in.",
            default="model units"),
    _option("scale", float, "Model units per --unit.", default=1.0),
]
_NAMES = [p.name for p in _OPTIONS]


def parse_model_kwargs(text: str | None) -> dict[str, Any]:
    """``--model-kwargs``: a JSON object (``None``: no arguments).

    Raises:
        ValueError: on invalid JSON or JSON that is not an object.
    """
    if text is None:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"--model-kwargs is not valid JSON ({exc.msg}); pass an object such "
                         """as '{"hidden": 32}'""") from None
    if not isinstance(value, dict):
        raise ValueError(f"--model-kwargs must be a JSON object, got {type(value).__name__}; "
                         """pass an object such as '{"hidden": 32}'""")
    return value


def parse_bounds(text: str | None) -> tuple[float, float] | None:
    """``--bounds LO,HI`` as two floats (``None``: unbounded; finiteness and order are checked
    with the data by :meth:`SequenceData.from_arrays`).

    Raises:
        ValueError: if it is not two comma-separated numbers.
    """
    if text is None:
        return None
    parts = text.split(",")
    try:
        lower, upper = (float(p) for p in parts)
    except ValueError:
        raise ValueError(f"--bounds must be LO,HI (e.g. 0,1), got {text!r}") from None
    return lower, upper


def _source(run: Path | None, options: dict[str, Any]) -> ModelSource:
    return ModelSource(
        run=run, model=options["model"], weights=options["weights"],
        kwargs=parse_model_kwargs(options["model_kwargs"]),
        takes_lengths=True if options["takes_lengths"] else None, dataset=options["dataset"],
        data=options["data"], bounds=parse_bounds(options["bounds"]), unit=options["unit"],
        scale=options["scale"])


def _wrap(command: Callable[..., None], params: list[inspect.Parameter],
          build: Callable[[dict[str, Any]], dict[str, Any]]) -> Callable[..., None]:
    own = [p for p in inspect.signature(command, eval_str=True).parameters.values()
           if p.name not in ("source", "foreign")]
    taken = {p.name for p in own} & {*_NAMES, "run"}
    if taken:
        raise TypeError(f"{command.__name__} declares {sorted(taken)} itself")

    def wrapper(**kwargs: Any) -> None:
        command(**build(kwargs))

    keyword = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own]
    wrapper.__signature__ = inspect.Signature([*params, *keyword])  # type: ignore[attr-defined]
    wrapper.__doc__, wrapper.__name__ = command.__doc__, command.__name__
    return wrapper


def with_source(command: Callable[..., None]) -> Callable[..., None]:
    """``command(source=ModelSource, ...)`` as a typer command taking ``[RUN]`` and the
    foreign-model options (module docstring)."""
    def build(kwargs: dict[str, Any]) -> dict[str, Any]:
        options = {name: kwargs.pop(name) for name in _NAMES}
        return {"source": _source(kwargs.pop("run"), options), **kwargs}

    return _wrap(command, [_RUN, *_OPTIONS], build)


def with_foreign(command: Callable[..., None]) -> Callable[..., None]:
    """``command(foreign=ModelSource | None, ...)`` as a typer command with the
    foreign-model options (module docstring); ``foreign`` is ``None`` without ``--model``."""
    def build(kwargs: dict[str, Any]) -> dict[str, Any]:
        options = {name: kwargs.pop(name) for name in _NAMES}
        if options["model"] is None:
            given = [f"--{k.replace('_', '-')}" for k in ("dataset", "data", "weights",
                                                           "model_kwargs", "bounds")
                     if options[k] is not None]
            if given:
                verb = "needs" if len(given) == 1 else "need"
                raise ValueError(f"{', '.join(given)} {verb} --model (run folders are reported "
                                 "on their own data)")
            return {"foreign": None, **kwargs}
        return {"foreign": _source(None, options), **kwargs}

    return _wrap(command, _OPTIONS, build)


__all__ = ["parse_bounds", "parse_model_kwargs", "with_foreign", "with_source"]
