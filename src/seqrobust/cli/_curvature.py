"""``seqrobust curvature``: the input-curvature penalty R = sum_k ||Hess f_k||_F^2 of a run."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Optional

import torch
import typer
from tqdm import tqdm

from seqrobust.data.registry import load_dataset
from seqrobust.geometry import hessian_frobenius_exact, hessian_frobenius_hutchinson
from seqrobust.models import twice_differentiable
from seqrobust.training.loop import accuracy
from seqrobust.training.run import load_model, resolve_device


def curvature_cmd(
    run: Annotated[Path, typer.Argument(help="Run folder.")],
    n: Annotated[int, typer.Option(help="First N test inputs.")] = 1000,
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
    if n <= 0 or probes <= 0 or batch_size <= 0:
        raise ValueError("n, probes and batch-size must be positive")
    dev = resolve_device(device)
    model, cfg = load_model(run, device=dev)
    data = load_dataset(cfg.dataset, split="test", root=cfg.data_root, limit=n)
    if data.lengths is not None:
        raise ValueError("curvature does not support padded (variable-length) datasets yet")
    forward = twice_differentiable(model)
    gen = torch.Generator(device=dev).manual_seed(seed)
    values = []
    for start in tqdm(range(0, len(data), batch_size), disable=quiet, desc="curvature"):
        x = data.inputs[start : start + batch_size].to(dev)
        if exact:
            values.append(hessian_frobenius_exact(forward, x).detach().cpu())
        else:
            est = hessian_frobenius_hutchinson(
                forward, x, probes=probes, outputs="exact", generator=gen
            )
            values.append(est.detach().cpu())
    r = torch.cat(values).double()
    result = {
        "run": str(run),
        "n": int(r.numel()),
        "method": "exact" if exact else f"hutchinson, exact over outputs, {probes} probes",
        "accuracy": accuracy(model, data, device=dev),
        "mean_R": float(r.mean()),
        "se_R": float(r.std() / math.sqrt(r.numel())) if r.numel() > 1 else float("nan"),
        "median_R": float(r.median()),
    }
    text = json.dumps(result)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n")
    typer.echo(text)


def register(app: typer.Typer) -> None:
    """Attach ``curvature`` to ``app``."""
    app.command("curvature")(curvature_cmd)
