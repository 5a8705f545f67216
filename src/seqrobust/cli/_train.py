"""``seqrobust train`` and ``seqrobust evaluate``."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Optional

import typer

from seqrobust.data.registry import load_dataset
from seqrobust.training.config import TrainConfig
from seqrobust.training.loop import accuracy
from seqrobust.training.run import CONFIG, load_model, resolve_device, train

_D = TrainConfig()


def train_cmd(
    out: Annotated[Path, typer.Option("--out", help="Run folder to create (or resume).")],
    dataset: Annotated[
        str, typer.Option(help="mnist | mnist-pixels | mnist-subset | ...")
    ] = _D.dataset,
    data_root: Annotated[Optional[str], typer.Option(help="Folder with the data files.")] = None,  # noqa: UP045
    cell: Annotated[str, typer.Option(help="rnn | lstm | gru")] = _D.cell,
    layers: Annotated[int, typer.Option(help="Recurrent layers.")] = _D.layers,
    hidden: Annotated[int, typer.Option(help="Hidden units per layer.")] = _D.hidden,
    dropout: Annotated[float, typer.Option(help="Dropout between layers.")] = _D.dropout,
    epochs: Annotated[int, typer.Option(help="Training epochs.")] = _D.epochs,
    batch_size: Annotated[int, typer.Option(help="Batch size.")] = _D.batch_size,
    lr: Annotated[float, typer.Option(help="Peak learning rate (cosine decay to 0).")] = _D.lr,
    weight_decay: Annotated[float, typer.Option(help="Adam weight decay.")] = _D.weight_decay,
    clip: Annotated[float, typer.Option(help="Gradient-norm clipping (0 = off).")] = _D.clip,
    seed: Annotated[int, typer.Option(help="Random seed.")] = _D.seed,
    train_limit: Annotated[
        int | None, typer.Option(help="Use only N training examples.")
    ] = None,  # noqa: UP045
    test_limit: Annotated[Optional[int], typer.Option(help="Use only N test examples.")] = None,  # noqa: UP045
    checkpoint_every: Annotated[int, typer.Option(help="Also checkpoint every N steps.")] = 0,
    reg: Annotated[str, typer.Option(help="none | hessian | jacobian | cure | pgd-at")] = _D.reg,
    lam: Annotated[float, typer.Option(help="Regularisation weight.")] = _D.lam,
    estimator: Annotated[
        str, typer.Option(help="hutchinson | fd | central | exact")
    ] = _D.estimator,
    probes: Annotated[int, typer.Option(help="Random probes per input.")] = _D.probes,
    fd_step: Annotated[Optional[float], typer.Option(help="Finite-difference step.")] = None,  # noqa: UP045
    reg_fraction: Annotated[float, typer.Option(help="Fraction of a batch regularised.")] = 1.0,
    at_eps: Annotated[float, typer.Option(help="PGD-AT radius (pixel units).")] = _D.at_eps,
    at_steps: Annotated[int, typer.Option(help="PGD-AT steps.")] = _D.at_steps,
    at_alpha: Annotated[float, typer.Option(help="PGD-AT step (pixel units).")] = _D.at_alpha,
    device: Annotated[str, typer.Option(help="auto | cpu | cuda | cuda:N")] = _D.device,
    resume: Annotated[bool, typer.Option("--resume", help="Continue a killed run.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
) -> None:
    """Train a sequence classifier (config.json, metrics.jsonl, safetensors checkpoints)."""
    if resume:
        cfg = TrainConfig.load(out / CONFIG)
    else:
        cfg = TrainConfig(
            dataset=dataset,
            data_root=data_root,
            cell=cell,
            layers=layers,
            hidden=hidden,
            dropout=dropout,
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            weight_decay=weight_decay,
            clip=clip,
            seed=seed,
            train_limit=train_limit,
            test_limit=test_limit,
            checkpoint_every=checkpoint_every,
            reg=reg,
            lam=lam,
            estimator=estimator,
            probes=probes,
            fd_step=fd_step,
            reg_fraction=reg_fraction,
            at_eps=at_eps,
            at_steps=at_steps,
            at_alpha=at_alpha,
            device=device,
        )
    result = train(cfg, out, resume=resume, progress=not quiet)
    if os.environ.get("RANK", "0") != "0":  # under torchrun only rank 0 reports
        return
    typer.echo(
        f"{out}: test accuracy {100 * result.test_accuracy:.2f} % after {result.steps} steps, "
        f"{result.train_seconds:.1f} s of training"
    )


def evaluate_cmd(
    run: Annotated[Path, typer.Argument(help="Run folder.")],
    split: Annotated[str, typer.Option(help="test | train")] = "test",
    limit: Annotated[Optional[int], typer.Option(help="Only the first N examples.")] = None,  # noqa: UP045
    device: Annotated[str, typer.Option(help="auto | cpu | cuda")] = "auto",
) -> None:
    """Print the accuracy of a trained run (as JSON)."""
    if split not in ("test", "train"):
        raise ValueError(f"unknown split {split!r}; choose test or train")
    dev = resolve_device(device)
    model, cfg = load_model(run, device=dev)
    data = load_dataset(cfg.dataset, split=split, root=cfg.data_root, limit=limit)  # type: ignore[arg-type]
    acc = accuracy(model, data, device=dev)
    typer.echo(json.dumps({"run": str(run), "split": split, "n": len(data), "accuracy": acc}))


def register(app: typer.Typer) -> None:
    """Attach ``train`` and ``evaluate`` to ``app``."""
    app.command("train")(train_cmd)
    app.command("evaluate")(evaluate_cmd)
