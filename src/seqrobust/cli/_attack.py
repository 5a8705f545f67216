"""``seqrobust attack`` (a robustness curve of a trained run) and ``seqrobust reproduce
figure7``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from seqrobust.cli._source import with_source
from seqrobust.measure.robustness import ATTACKS
from seqrobust.runs.attack import DEFAULT_N
from seqrobust.runs.load import ModelSource


@with_source
def attack_cmd(
    source: ModelSource,
    attack: Annotated[str, typer.Option(help=" | ".join(ATTACKS))] = "pgd",
    eps: Annotated[Optional[str], typer.Option(  # noqa: UP045
        help="ε in the data's unit (pixels 0-255 for MNIST, training std for aeon sets): "
        "1:30, 1:30:2 or 2,4,8 [MNIST 1:30, else 0.05:0.5:0.05].")] = None,
    alpha: Annotated[Optional[float], typer.Option(  # noqa: UP045
        help="PGD step in the data's unit (default: MNIST 2, else max(eps)/15).")] = None,
    steps: Annotated[int, typer.Option(help="Iterations (PGD, APGD).")] = 30,
    n: Annotated[Optional[int], typer.Option(  # noqa: UP045
        help=f"First N test inputs (an error if there are fewer) (default: {DEFAULT_N}, or all "
        "if fewer).", show_default=False)] = None,
    out: Annotated[Optional[Path], typer.Option(  # noqa: UP045
        help="Output folder (default RUN/attacks/ATTACK; required with --model).")] = None,
    restarts: Annotated[int, typer.Option(help="Random restarts.")] = 1,
    random_start: Annotated[bool, typer.Option("--random-start/--no-random-start",
                                               help="PGD random start.")] = True,
    batch_size: Annotated[int, typer.Option(help="Inputs per attack call.")] = 1000,
    queries: Annotated[int, typer.Option(help="Square: queries per restart.")] = 1000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    device: Annotated[str, typer.Option(help="auto | cpu | cuda | cuda:N")] = "auto",
    shard: Annotated[Optional[str], typer.Option(  # noqa: UP045
        help="Run only part I/N (0-based: the blocks of --batch-size inputs numbered I mod "
        "N); then `seqrobust merge attack OUT`.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
) -> None:
    """Robust accuracy of a trained run (or --model) against ε (nested sweep); writes CSV, JSON
    and PNG."""
    from seqrobust.runs.attack import attack_run, format_checks, format_table
    from seqrobust.runs.shards import parse_shard

    part = parse_shard(shard)
    res = attack_run(source, out, attack=attack, eps=eps, alpha=alpha, steps=steps,
                     restarts=restarts, random_start=random_start, queries=queries, seed=seed,
                     n=n, batch_size=batch_size, device=device, shard=part,
                     progress=not quiet)
    curve = res.curve
    if res.shard_file is not None:
        folder = res.shard_file.parent
        typer.echo(f"shard {part}: {curve.n} inputs in {curve.seconds:.1f} s; wrote "
                   f"{res.shard_file}; when all {part.count} are done: seqrobust merge attack "
                   f"{folder}")
        return
    typer.echo(f"{res.dataset}, ε in {curve.unit} (L∞ for pgd/fgsm/apgd/square, L2 for pgd-l2)")
    typer.echo(format_table([curve], eps=curve.eps))
    typer.echo(format_checks(res.checks, escape=False))
    typer.echo(f"{curve.seconds:.1f} s; wrote {', '.join(str(p) for p in res.written)}")


def figure7_cmd(
    quick: Annotated[bool, typer.Option("--quick", help="Small version (minutes on CPU).")] = False,
    out: Annotated[Optional[Path], typer.Option(  # noqa: UP045
        help="Output folder (default runs/figure7).")] = None,
    device: Annotated[str, typer.Option(help="auto | cpu | cuda | cuda:N")] = "auto",
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bars.")] = False,
) -> None:
    """Figure 7: train plain / Jacobian / Hessian (+ PGD-AT, CURE) RNNs and attack them.

    Resumes: finished trainings and evaluations in OUT are reused.
    """
    from seqrobust.studies.figure7 import Figure7Config, run_figure7

    cfg = Figure7Config.quick() if quick else Figure7Config()
    folder = out if out is not None else Path("runs") / ("figure7-quick" if quick else "figure7")
    report = run_figure7(cfg, folder, device=device, progress=not quiet)
    typer.echo(report.read_text())
    typer.echo(f"wrote {report} and {report.with_suffix('.png')}")


def _reproduce_group(app: typer.Typer) -> typer.Typer:
    """The shared ``reproduce`` command group (created by the first module that needs it)."""
    for info in app.registered_groups:
        if info.name == "reproduce" and info.typer_instance is not None:
            return info.typer_instance
    group = typer.Typer(help="Reproduce the poster's figures.", no_args_is_help=True)
    app.add_typer(group, name="reproduce")
    return group


def register(app: typer.Typer) -> None:
    """Attach ``attack`` and ``reproduce figure7`` to ``app``."""
    app.command("attack")(attack_cmd)
    _reproduce_group(app).command("figure7")(figure7_cmd)
