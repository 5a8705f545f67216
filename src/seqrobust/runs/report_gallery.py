"""What the report measures on the model itself: how padding is treated
(:meth:`~seqrobust.models.Classifier.resolved_padding`) and the gallery of the most vulnerable
inputs with their minimal adversarials, ‖J_t‖ and per-step curvature."""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from seqrobust.attacks import minimal_l2
from seqrobust.data.dataset import SequenceData
from seqrobust.geometry import margin_gradient, margins, time_step_profile
from seqrobust.measure._lengths import attack_bounds
from seqrobust.measure.analyze import Analysis
from seqrobust.measure.analyze_summary import parse_table
from seqrobust.models.classifier import as_classifier
from seqrobust.reporting.headline import unit_name
from seqrobust.runs.figures import one_input

PADDING_CHECKED = 20
"""Inputs on which the report checks how the model treats padding."""


@dataclass(frozen=True)
class GalleryItem:
    """One drawn input: its index in the data, the PNG and a caption."""

    index: int
    png: bytes
    caption: str


@dataclass(frozen=True)
class Padding:
    """How the measurements treat padded steps: ``mode`` ``"trim"``, ``"fed"``, ``"fixed"``
    (no input is padded) or ``"refused"`` (``padding="trim"`` on a model that reads its
    padding), with the reason in words."""

    mode: str
    reason: str


def padding_check(model: nn.Module, data: SequenceData, *, n: int = PADDING_CHECKED) -> Padding:
    """How ``model`` is evaluated on the padded inputs of ``data`` (first ``n`` checked)."""
    if data.lengths is None or bool((data.lengths[:n] == data.seq_len).all()):
        return Padding("fixed", "every input has all its time steps: nothing is padded")
    clf = as_classifier(model)
    device = next((p.device for p in clf.parameters()), torch.device("cpu"))
    x, lengths = data.inputs[:n].to(device), data.lengths[:n]
    try:
        mode = clf.resolved_padding(x, lengths)
    except ValueError as exc:
        return Padding("refused", str(exc))
    if mode == "trim":
        return Padding("trim", f"trimmed: cutting each input to its real steps leaves the logits "
                               f"unchanged (checked on {len(x)} inputs)")
    return Padding("fed", f"fed padded: the model reads its padding, so the padded tensor is "
                          f"fed as it expects, only real steps perturbed ({len(x)} inputs)")


def vulnerable(
    analysis: Analysis | None, data: SequenceData, count: int
) -> list[tuple[int, float]]:
    """The ``count`` correctly classified inputs with the smallest measured distance in
    ``analysis`` (model units), as ``(index, distance)``; without an analysis, an empty list
    (the caller takes the first correct inputs)."""
    if analysis is None or not analysis.rows:
        return []
    tab = parse_table(analysis.csv())
    ok = (tab["correct"] > 0) & np.isfinite(tab["measured"]) & (tab["index"] < len(data))
    order = np.argsort(np.where(ok, tab["measured"], np.inf), kind="stable")
    return [(int(tab["index"][i]), float(tab["measured"][i])) for i in order[:count] if ok[i]]


def _item(
    model: nn.Module, data: SequenceData, i: int, measured: float | None
) -> GalleryItem | None:
    f, real = one_input(model, data, i)
    x = real[None]
    m = margins(f, x)
    if int(m.pred[0]) != int(data.labels[i]):
        return None
    best = minimal_l2(f, x, bounds=attack_bounds(data), fmn_steps=50).best
    if not math.isfinite(float(best.norms[0])):
        return None
    _, j = margin_gradient(f, x, pred=m.pred, other=m.runner_up)
    prof = time_step_profile(f, x, pred=m.pred, other=m.runner_up, max_iter=20,
                             generator=torch.Generator().manual_seed(i))
    size = float(best.norms[0]) / data.eps_scale
    png = _draw(data, x[0].numpy(), best.adversarials[0].detach().numpy(),
                j[0].norm(dim=1).detach().numpy(), prof.curvature[0].detach().numpy(),
                title=f"input {i}: class {int(data.labels[i])}, nearest other class "
                      f"{int(m.runner_up[0])}; minimal L2 perturbation "
                      f"{size:.3g} {unit_name(data.eps_unit)}")
    unit = unit_name(data.eps_unit)
    why = ("first correctly classified input (no analysis to rank by)" if measured is None else
           f"distance {measured / data.eps_scale:.3g} {unit} in the analysis")
    return GalleryItem(i, png, f"Input {i} ({why}): clean, its minimal adversarial redrawn here "
                               f"(DeepFool + FMN, |δ| = {size:.3g} {unit}), ‖J_t‖ and block "
                               "curvature per time step.")


def _draw(data: SequenceData, clean: np.ndarray, adv: np.ndarray, grad: np.ndarray,
          curv: np.ndarray, *, title: str) -> bytes:
    from seqrobust.reporting.plots_gallery import gallery_item

    image_like = data.name.startswith("mnist") and data.num_features == 28
    return gallery_item(clean, adv, grad, curv_t=curv, image_like=image_like, title=title)


def gallery(
    model: nn.Module, data: SequenceData, *, analysis: Analysis | None = None, count: int = 3
) -> list[GalleryItem]:
    """The ``count`` most vulnerable correctly classified inputs of ``data`` (by the measured
    distance of ``analysis``; without one, the first correct inputs), each with its minimal
    adversarial. The model is copied (float64), never changed."""
    if count <= 0 or len(data) == 0:
        return []
    clone = copy.deepcopy(model).cpu()
    ranked: list[tuple[int, float | None]] = list(vulnerable(analysis, data, count))
    order = ranked or [(i, None) for i in range(len(data))]
    items: list[GalleryItem] = []
    for i, measured in order:
        if len(items) == count:
            break
        item = _item(clone, data, i, measured)
        if item is not None:
            items.append(item)
    return items


__all__ = ["PADDING_CHECKED", "GalleryItem", "Padding", "gallery", "padding_check", "vulnerable"]
