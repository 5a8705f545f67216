"""``seqrobust plot boundary|taylor RUN --index I``: Figures 3 and 4 of the poster for one
test input of a trained run or a foreign model (see :mod:`seqrobust.measure.slices`).

The index is checked before anything is computed or written; the PNG and its JSON (with the
provenance) are written inside the PNG's folder, never through a symlink."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from seqrobust.attacks import minimal_l2
from seqrobust.bounds import curvature_lower_bound, curvature_upper_bound
from seqrobust.data import SequenceData
from seqrobust.geometry import margin_gradient, margins, top_curvature
from seqrobust.measure._lengths import attack_bounds
from seqrobust.measure.slices import (
    SecondDirection,
    boundary_slice,
    taylor_agreement,
)
from seqrobust.models.classifier import as_classifier
from seqrobust.reporting.text import mpl_escape
from seqrobust.runs.load import ModelSource, as_source, load_source
from seqrobust.runs.outputs import check_targets, save_figure, write_json
from seqrobust.types import ForwardFn


@dataclass(frozen=True)
class RunInput:
    """One test input, its real steps only, with a twice-differentiable forward in float64.

    Attributes:
        forward: the model as a float64 function of the input's real steps.
        x: ``(L, F)`` float64, the real steps.
        label: its class.
        data: the data it comes from.
        source: the model it is measured on.
        record: ``{"provenance": ...}`` (weights and data SHA-256).
    """

    forward: ForwardFn
    x: Tensor
    label: int
    data: SequenceData
    source: ModelSource
    record: dict[str, Any] = field(default_factory=dict)


def one_input(model: nn.Module, data: SequenceData, index: int) -> tuple[ForwardFn, Tensor]:
    """Input ``index`` of ``data`` as ``(L, F)`` float64 real steps and the model as a
    twice-differentiable float64 function of them: trimmed where that is the same function,
    else fed padded as the model expects (:meth:`~seqrobust.models.Classifier.groups`).
    Converts ``model`` to float64 in place."""
    clf = as_classifier(model).double()
    x = data.inputs[index : index + 1].double()
    lengths = None if data.lengths is None else data.lengths[index : index + 1]
    group = clf.groups(x, lengths)[0]
    return group.forward(functional=True), x[0, : group.length]


def run_input(run: str | Path | ModelSource, index: int) -> RunInput:
    """Load test input ``index`` of ``run`` (a run folder, or a foreign model) and the model
    in float64 on the CPU (:func:`one_input`).

    Raises:
        ValueError: on an index outside the test data, or a bad run, model or data.
    """
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise ValueError(f"--index must be an integer >= 0, got {index!r}")
    source = as_source(run)
    loaded = load_source(source, split="test", limit=index + 1)
    data = loaded.data
    if index >= len(data):
        raise ValueError(f"--index must be in [0, {len(data) - 1}], got {index} ({data.name} "
                         f"has {len(data)} inputs)")
    forward, x = one_input(loaded.model, data, index)
    return RunInput(forward, x, int(data.labels[index]), data, source, loaded.record)


def _units(data: SequenceData) -> tuple[float, str]:
    return 1.0 / data.eps_scale, data.eps_unit


def _targets(out: Path) -> None:
    """Refuse a symlink (or a non-file) at ``out`` or ``out.json`` before computing."""
    check_targets(out.parent, out.name, out.with_suffix(".json").name)


def _write(out: Path, draw: Callable[[Path], object], summary: dict[str, Any]) -> None:
    """The PNG (``draw(path)``), then its JSON, both inside ``out``'s folder."""
    out.parent.mkdir(parents=True, exist_ok=True)
    save_figure(out.parent, out.name, draw)
    write_json(out.parent, out.with_suffix(".json").name, summary)


def figure3(
    run: str | Path | ModelSource,
    index: int,
    out: Path,
    *,
    second: SecondDirection = "curvature",
    extent: float = 2.0,
    grid: int = 81,
    seed: int = 0,
) -> dict[str, Any]:
    """Compute and plot the boundary slice; writes ``out`` (PNG) and ``out.json``. The minimal
    perturbation is clipped to the data's bounds (unbounded data: to
    :func:`~seqrobust.measure._lengths.attack_bounds`, which never binds)."""
    from seqrobust.reporting.plots_geometry import plot_boundary_slice

    _targets(out)
    item = run_input(run, index)
    f, x = item.forward, item.x
    best = minimal_l2(f, x[None], bounds=attack_bounds(item.data)).best
    norm = float(best.norms[0])
    if not bool(best.success[0]) or not math.isfinite(norm) or norm == 0.0:
        raise ValueError(f"no minimal perturbation found for input {index} (|δ| = {norm:g}); "
                         "try another --index")
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
    draw = partial(
        plot_boundary_slice,
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
        unit=mpl_escape(unit),
        title=f"{mpl_escape(item.source.label)}, test input {index} (label {item.label}, "
        f"predicted {s.pred})",
    )
    # how well the quadratic zero set matches the true one on the grid
    agree = float(((s.margin < 0) == (s.quadratic < 0)).double().mean())
    summary = {
        "run": item.source.name,
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
        **item.record,
    }
    _write(out, draw, summary)
    return summary


def figure4(
    run: str | Path | ModelSource,
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

    _targets(out)
    item = run_input(run, index)
    scale, unit = _units(item.data)
    radii = torch.logspace(0.0, 4.5, 16) if radii is None else radii
    model_radii = radii.double() / scale
    gen = torch.Generator().manual_seed(seed)
    res = taylor_agreement(item.forward, item.x, model_radii, directions=directions, generator=gen)
    draw = partial(
        plot_taylor,
        radii=res.radii.numpy(),
        margin=res.margin.numpy(),
        quadratic=res.quadratic.numpy(),
        changed=res.changed.numpy(),
        scale=scale,
        unit=mpl_escape(unit),
        title=f"{mpl_escape(item.source.label)}, test input {index}: second-order model vs "
        "real margin",
    )
    summary = {
        "run": item.source.name,
        "index": index,
        "unit": unit,
        "directions": directions,
        "radii": radii.tolist(),
        "agreement": res.agreement.tolist(),
        "h1_violations": res.h1_violations.tolist(),
        "changed": res.changed.double().mean(1).tolist(),
        "png": str(out),
        **item.record,
    }
    _write(out, draw, summary)
    return summary
