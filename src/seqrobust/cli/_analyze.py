"""``seqrobust analyze``: Theorem 1 bounds against measured adversarial distances."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from seqrobust.cli._source import with_source
from seqrobust.runs.analyze import DEFAULT_N, AnalyzeConfig, run_analyze
from seqrobust.runs.load import ModelSource

_D = AnalyzeConfig()


@with_source
def analyze_cmd(
    source: ModelSource,
    n: Annotated[Optional[int], typer.Option(  # noqa: UP045
        help=f"First N inputs of the split (an error if it has fewer) (default: {DEFAULT_N}, "
        "or all if fewer).", show_default=False)] = None,
    out: Annotated[Optional[Path], typer.Option(  # noqa: UP045
        help="Output folder (default RUN/analyze; required with --model).")] = None,
    batch_size: Annotated[int, typer.Option(help="Inputs per chunk.")] = _D.batch_size,
    lanczos_iters: Annotated[int, typer.Option(help="Lanczos steps (HVPs).")] = _D.lanczos_iters,
    competitors: Annotated[str, typer.Option(help="all | runner-up")] = _D.competitors,
    fmn_steps: Annotated[int, typer.Option(help="Steps of each FMN run.")] = _D.fmn_steps,
    profile_n: Annotated[int, typer.Option(help="Inputs with per-step curvature.")] = _D.profile_n,
    split: Annotated[str, typer.Option(help="test | train")] = _D.split,
    seed: Annotated[int, typer.Option(help="Seed of the Lanczos start vectors.")] = _D.seed,
    device: Annotated[str, typer.Option(help="auto | cpu | cuda | cuda:N")] = _D.device,
    plots: Annotated[bool, typer.Option("--plots/--no-plots", help="Write the figures.")] = True,
    shard: Annotated[Optional[str], typer.Option(  # noqa: UP045
        help="Run only part I/N (0-based: the chunks of --batch-size inputs numbered I mod "
        "N); then `seqrobust merge analyze OUT`.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
) -> None:
    """Per-input curvature bounds (theory.md E2-E4) vs DeepFool/FMN distances; resumable."""
    from seqrobust.runs.shards import parse_shard

    part = parse_shard(shard)
    cfg = AnalyzeConfig(
        n=n,
        batch_size=batch_size,
        lanczos_iters=lanczos_iters,
        competitors=competitors,  # type: ignore[arg-type]
        fmn_steps=fmn_steps,
        profile_n=profile_n,
        split=split,
        dataset=source.dataset,
        seed=seed,
        device=device,
    )
    if source.run is not None and not (source.run / "model.json").exists():
        raise ValueError(f"{source.run} holds no finished run (model.json missing)")
    folder = source.output(out, "analyze")
    summary = run_analyze(source, folder, cfg, progress=not quiet, plots=plots, shard=part)
    if not part.whole:
        typer.echo(json.dumps({**summary, "merge": f"seqrobust merge analyze {folder}"}))
        return
    brief = {
        "out": str(folder),
        "dataset": summary.get("dataset"),
        "unit": summary.get("unit"),
        "inputs": summary.get("inputs"),
        "attacked": summary.get("attacked"),
        "bracket": summary.get("bracket"),
        "median_ratio": summary.get("median_ratio"),
        "spearman_v": (summary.get("spearman_with_measured") or {}).get("v"),
        "spearman_j_norm": (summary.get("spearman_with_measured") or {}).get("j_norm"),
    }
    typer.echo(json.dumps(brief, indent=1))


def register(app: typer.Typer) -> None:
    """Attach ``analyze`` to ``app``."""
    app.command("analyze")(analyze_cmd)
