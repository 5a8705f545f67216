"""``seqrobust plot boundary|taylor RUN --index I``: Figures 3 and 4 of the poster for one
test input of a trained run (see :mod:`seqrobust.measure.slices`)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from seqrobust.attacks import minimal_l2
from seqrobust.bounds import curvature_lower_bound, curvature_upper_bound
from seqrobust.data import SequenceData, load_dataset
from seqrobust.measure.slices import (
    SecondDirection,
    boundary_slice,
    taylor_agreement,
)
from seqrobust.geometry import margin_gradient, margins, top_curvature
from seqrobust.models import differentiable_forward
from seqrobust.training import load_model
from seqrobust.types import ForwardFn


@dataclass(frozen=True)
class RunInput:
    """One test input of a run, unpadded, with a twice-differentiable forward in float64."""

    forward: ForwardFn
    x: Tensor
    label: int
    data: SequenceData


def run_input(run: str | Path, index: int) -> RunInput:
    """Load test input ``index`` of ``run`` (trimmed to its real length; padding invariance
    makes that the same function) and the model in float64 on the CPU."""
    model, cfg = load_model(run)
    data = load_dataset(cfg.dataset, split="test", root=cfg.data_root)
    if not 0 <= index < len(data):
        raise ValueError(f"--index must be in [0, {len(data) - 1}], got {index}")
    steps = data.seq_len if data.lengths is None else int(data.lengths[index])
    x = data.inputs[index, :steps].double()
    return RunInput(differentiable_forward(model.double(), functional=True), x, int(data.labels[index]), data)


def _units(data: SequenceData) -> tuple[float, str]:
    return 1.0 / data.eps_scale, data.eps_unit


def figure3(
    run: str | Path,
    index: int,
    out: Path,
    *,
    second: SecondDirection = "curvature",
    extent: float = 2.0,
    grid: int = 81,
    seed: int = 0,
) -> dict[str, Any]:
    """Compute and plot the boundary slice; writes ``out`` (PNG) and ``out.json``."""
    from seqrobust.reporting.plots_geometry import plot_boundary_slice

    item = run_input(run, index)
    f, x = item.forward, item.x
    bounds = item.data.bounds or (-math.inf, math.inf)
    best = minimal_l2(f, x[None], bounds=bounds).best
    if not bool(best.success[0]) or float(best.norms[0]) == 0.0:
        raise ValueError(f"no minimal perturbation found for input {index} (misclassified?)")
    delta = best.adversarials[0] - x
    gen = torch.Generator().manual_seed(seed)
    m = margins(f, x[None])
    t, j = margin_gradient(f, x[None], pred=m.pred, other=m.runner_up)
    top = top_curvature(f, x[None], pred=m.pred, other=m.runner_up, generator=gen)
    lower = float(curvature_lower_bound(t, j.flatten(1).norm(dim=1), top.upper)[0])
    j_dot_u = (j * top.vector).flatten(1).sum(1).abs()
    upper = float(curvature_upper_bound(t, j_dot_u, top.value)[0])
    s = boundary_slice(f, x, delta, second=second, extent=extent, grid=grid, generator=gen)
    scale, unit = _units(item.data)
    plot_boundary_slice(
        out,
        a=s.a.numpy(),
        b=s.b.numpy(),
        classes=s.predicted.numpy(),
        margin=s.margin.numpy(),
        quadratic=s.quadratic.numpy(),
        delta_norm=s.delta_norm,
        pred=s.pred,
        lower=lower,
        upper=upper,
        scale=scale,
        unit=unit,
        title=f"{Path(run).name}, test input {index} (label {item.label}, predicted {s.pred})",
    )
    # how well the quadratic zero set matches the true one on the grid
    agree = float(((s.margin < 0) == (s.quadratic < 0)).double().mean())
    summary = {
        "run": str(run),
        "index": index,
        "label": item.label,
        "pred": s.pred,
        "second_direction": second,
        "unit": unit,
        "delta_norm": s.delta_norm * scale,
        "lower": lower * scale,
        "upper": upper * scale,
        "v": float(top.value[0]),
        "margin_t": float(t[0]),
        "grad_norm": float(j.norm()),
        "sign_agreement_on_grid": agree,
        "png": str(out),
    }
    out.with_suffix(".json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary


def figure4(
    run: str | Path,
    index: int,
    out: Path,
    *,
    radii: Tensor | None = None,
    directions: int = 200,
    seed: int = 0,
) -> dict[str, Any]:
    """Compute and plot the Taylor-agreement curves; writes ``out`` (PNG) and ``out.json``.

    ``radii`` are in the data's perturbation units (pixel units for MNIST; default 16
    log-spaced values from 1 to 30,000: random directions need about √d times the
    adversarial distance, and the noise is not clipped to the data range)."""
    from seqrobust.reporting.plots_geometry import plot_taylor

    item = run_input(run, index)
    scale, unit = _units(item.data)
    radii = torch.logspace(0.0, 4.5, 16) if radii is None else radii
    model_radii = radii.double() / scale
    gen = torch.Generator().manual_seed(seed)
    res = taylor_agreement(item.forward, item.x, model_radii, directions=directions, generator=gen)
    plot_taylor(
        out,
        radii=res.radii.numpy(),
        margin=res.margin.numpy(),
        quadratic=res.quadratic.numpy(),
        changed=res.changed.numpy(),
        scale=scale,
        unit=unit,
        title=f"{Path(run).name}, test input {index}: second-order model vs real margin",
    )
    summary = {
        "run": str(run),
        "index": index,
        "unit": unit,
        "directions": directions,
        "radii": radii.tolist(),
        "agreement": res.agreement.tolist(),
        "h1_violations": res.h1_violations.tolist(),
        "changed": res.changed.double().mean(1).tolist(),
        "png": str(out),
    }
    out.with_suffix(".json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary
