"""``seqrobust train`` and ``seqrobust evaluate``.

``train``'s options are generated from :class:`~seqrobust.training.TrainConfig`'s fields (name,
type, default and ``--help`` text), so a new field is a new option with nothing to copy. Every
option defaults to "not given"; only given options reach the config, which is how ``--resume``
tells changed flags (an error listing them) from omitted ones.
"""

from __future__ import annotations

import inspect
import json
import os
import typing
from dataclasses import MISSING, fields, replace
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from seqrobust.cli._source import with_source
from seqrobust.runs.load import ModelSource, load_source
from seqrobust.training.config import TrainConfig
from seqrobust.training.loop import accuracy
from seqrobust.training.run import CONFIG, resolve_device, train


def _option(name: str, hint: Any, default: Any, help: str,
            aliases: tuple[str, ...] = ()) -> inspect.Parameter:
    base = next(t for t in (typing.get_args(hint) or (hint,)) if t is not type(None))
    shown = "none" if default is None else str(default)
    info = typer.Option(f"--{name.replace('_', '-')}", *aliases,
                        help=f"{help} (default: {shown})", show_default=False)
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None,
                             annotation=Annotated[Optional[base], info])  # noqa: UP045


def _config_options() -> list[inspect.Parameter]:
    hints = typing.get_type_hints(TrainConfig)
    helps = TrainConfig.help()
    out = []
    for f in fields(TrainConfig):
        default = f.default if f.default is not MISSING else None
        out.append(_option(f.name, hints[f.name], default, helps[f.name],
                           tuple(f.metadata.get("aliases", ()))))
    return out


def config_from_flags(given: dict[str, Any], *, out: Path, resume: bool) -> TrainConfig:
    """The config of ``seqrobust train``: the given flags on the defaults, or with
    ``resume`` on the saved config (``train`` then lists every flag that differs).

    Raises:
        ValueError: on a bad flag value (naming the field) or a missing saved config.
    """
    if not resume:
        return TrainConfig(**given)
    saved = TrainConfig.load(out / CONFIG)
    return replace(saved, **given)


def _train(out: Path, resume: bool, quiet: bool, **options: Any) -> None:
    """Train a sequence classifier (config.json, metrics.jsonl, safetensors checkpoints)."""
    given = {k: v for k, v in options.items() if v is not None}
    cfg = config_from_flags(given, out=out, resume=resume)
    result = train(cfg, out, resume=resume, progress=not quiet)
    if os.environ.get("RANK", "0") != "0":  # under torchrun only rank 0 reports
        return
    done = "already finished: " if result.already_finished else ""
    val = ("" if result.val_accuracy is None else
           f" (validation {100 * result.val_accuracy:.2f} %)")
    typer.echo(
        f"{out}: {done}test accuracy {100 * result.test_accuracy:.2f} %{val} after "
        f"{result.steps} steps, {result.train_seconds:.1f} s of training"
    )


def _command() -> Any:
    """``_train`` with its signature spelled out for typer: ``--out``, every config field,
    ``--resume`` and ``--quiet``."""
    def train_cmd(**kwargs: Any) -> None:
        _train(**kwargs)

    keyword = inspect.Parameter.KEYWORD_ONLY
    params = [
        inspect.Parameter("out", keyword, annotation=Annotated[
            Path, typer.Option("--out", help="Run folder to create (or resume).")]),
        *_config_options(),
        inspect.Parameter("resume", keyword, default=False, annotation=Annotated[
            bool, typer.Option("--resume", help="Continue a killed run (flags given must "
                                                "match the saved config; --device may differ).")]),
        inspect.Parameter("quiet", keyword, default=False, annotation=Annotated[
            bool, typer.Option("--quiet", help="No progress bar.")]),
    ]
    train_cmd.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    train_cmd.__doc__ = _train.__doc__
    return train_cmd


train_cmd = _command()


@with_source
def evaluate_cmd(
    source: ModelSource,
    split: Annotated[str, typer.Option(help="test | train")] = "test",
    limit: Annotated[Optional[int], typer.Option(help="Only the first N examples.")] = None,  # noqa: UP045
    device: Annotated[str, typer.Option(help="auto | cpu | cuda")] = "auto",
) -> None:
    """Print the accuracy of a trained run or a foreign model, with provenance (as JSON)."""
    dev = resolve_device(device)
    loaded = load_source(source, split=split, limit=limit, device=dev)
    acc = accuracy(loaded.model, loaded.data, device=dev)
    typer.echo(json.dumps({"run": source.name, "split": split, "n": len(loaded.data),
                           "accuracy": acc, "provenance": loaded.provenance}))


def register(app: typer.Typer) -> None:
    """Attach ``train`` and ``evaluate`` to ``app``."""
    app.command("train")(train_cmd)
    app.command("evaluate")(evaluate_cmd)
