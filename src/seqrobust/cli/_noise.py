"""``seqrobust figure5`` and ``seqrobust noise``: Theorem B against Monte Carlo."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from seqrobust.cli._source import with_source
from seqrobust.measure.noise import NoiseConfig
from seqrobust.runs.load import ModelSource
from seqrobust.studies.figure5 import Figure5Config, run_figure5, write_figure5

_N = NoiseConfig()


def figure5_cmd(
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("results/figure5"),
    quick: Annotated[bool, typer.Option("--quick", help="Small d and N: runs in seconds.")] = False,
    seed: Annotated[int, typer.Option(help="Seed of the GOE draw, J and the directions.")] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
) -> None:
    """Figure 5 redone: Theorem B against Monte Carlo on a quadratic GOE classifier.

    Plots the bound with Imhof and Chernoff beta, the closed form (E16) and the poster's formula
    (not a bound); writes figure5.png, figure5.csv and figure5.json.
    """
    cfg = Figure5Config.quick(seed=seed) if quick else Figure5Config(seed=seed)
    panels = run_figure5(cfg, progress=not quiet)
    summary = write_figure5(panels, cfg, out)
    for p in summary["panels"]:
        r = p["ratios"]
        ok = all(v for k, v in p["checks"].items() if not k.startswith("poster"))
        typer.echo(
            f"d={p['d']:5d} mu={p['mu']:+.4f}: checks {'ok' if ok else 'FAILED'}, "
            f"plateau B/p {r['plateau_bound_over_p_hat_min']:.3f}-"
            f"{r['plateau_bound_over_p_hat_max']:.3f}, worst B/p {r['worst_bound_over_p_hat']:.3f}"
        )
    typer.echo(f"{out}: all checks {'pass' if summary['all_checks_pass'] else 'FAIL'}")


@with_source
def noise_cmd(
    source: ModelSource,
    n: Annotated[Optional[int], typer.Option(  # noqa: UP045
        "--n", help=f"Number of test inputs (an error if there are fewer) (default: "
        f"{_N.n_inputs}, or all if fewer).", show_default=False)] = None,
    rho: Annotated[
        Optional[list[float]],  # noqa: UP045
        typer.Option("--rho", help="Noise radius (L2) in the data's unit (pixels 0-255 for "
                     "MNIST, training std for aeon sets); repeat it."),
    ] = None,
    samples: Annotated[int, typer.Option(help="Directions per input.")] = _N.samples,
    num_kappa: Annotated[int, typer.Option(help="Curvature grid for Theorem B.")] = _N.num_kappa,
    seed: Annotated[int, typer.Option(help="Seed of the directions.")] = _N.seed,
    union: Annotated[
        bool, typer.Option("--union", help="Model every competitor too (union bound; ~10x slower).")
    ] = False,
    out: Annotated[Optional[Path], typer.Option(  # noqa: UP045
        "--out", help="Output folder (default RUN/noise; required with --model).")] = None,
    shard: Annotated[Optional[str], typer.Option(  # noqa: UP045
        help="Run only part I/N of the inputs (0-based; i = I mod N); then `seqrobust merge "
        "noise OUT`.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
) -> None:
    """Random noise on a trained model (run or --model) against Theorem B, per test input.

    Monte Carlo (clipped and unclipped) against the bound from each input's margin, gradient and
    Hessian spectrum; where assumption H1 fails; the noise-to-adversarial radius ratio against
    sqrt(d). Writes noise.png, noise.csv and noise.json (default folder RUN/noise).
    """
    from seqrobust.runs.noise import noise_experiment
    from seqrobust.runs.shards import parse_shard

    part = parse_shard(shard)
    cfg = NoiseConfig(
        n_inputs=_N.n_inputs if n is None else n, rho=tuple(rho) if rho else _N.rho,
        samples=samples,
        num_kappa=num_kappa, seed=seed, union=union,
    )
    target = source.output(out, "noise")
    summary = noise_experiment(source, cfg, target, progress=not quiet, shard=part,
                               require_n=n is not None)
    if not part.whole:
        typer.echo(json.dumps({**summary, "merge": f"seqrobust merge noise {target}"}))
        return
    keys = (
        "n_inputs", "unit", "d", "sqrt_d", "inputs_reaching_half",
        "radius_ratio_half_over_linear_median", "radius_ratio_half_over_r_star_median", "median",
    )
    typer.echo(json.dumps({"out": str(target), **{k: summary[k] for k in keys}}))


def register(app: typer.Typer) -> None:
    """Attach ``figure5`` and ``noise`` to ``app``."""
    app.command("figure5")(figure5_cmd)
    app.command("noise")(noise_cmd)
