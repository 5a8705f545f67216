"""The noise study for any classifier: per input, the probability that random noise of radius
ρ changes the prediction (Monte Carlo, clipped and unclipped), Theorem B's bound on it from the
input's quadratic model, and where hypothesis (H1) fails (theory.md §5; module
:mod:`seqrobust.measure.noise`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

import torch
from torch import Tensor, nn
from tqdm import tqdm

from seqrobust.data.dataset import SequenceData
from seqrobust.measure._prepare import prepare
from seqrobust.measure.noise import (
    InputRecord,
    NoiseConfig,
    _as_float64,
    _param_dtype,
    analyse_input,
)
from seqrobust.measure.noise_summary import summarise
from seqrobust.models.classifier import Classifier, Group, as_classifier
from seqrobust.seeds import input_generator
from seqrobust.types import ForwardFn


@dataclass(frozen=True)
class NoiseBound:
    """Records and summary of :func:`noise_bound`.

    Attributes:
        records: one :class:`~seqrobust.measure.noise.InputRecord` per input.
        summary: pooled statistics (bound ≥ Monte Carlo, crossing radii, (H1) failures).
        config: the settings, radii in ``config.unit``.
    """

    records: list[InputRecord]
    summary: dict[str, Any]
    config: NoiseConfig

    def to_json(self) -> dict[str, Any]:
        """The same record as ``noise.json`` of ``seqrobust noise``."""
        return {"config": asdict(self.config), "summary": self.summary,
                "inputs": [asdict(r) for r in self.records]}


def run_noise(
    model: nn.Module | Classifier | ForwardFn,
    inputs: Tensor,
    labels: Tensor,
    cfg: NoiseConfig,
    *,
    progress: bool = False,
    indices: list[int] | None = None,
    lengths: Tensor | None = None,
) -> list[InputRecord]:
    """:func:`analyse_input` on the first ``cfg.n_inputs`` of ``inputs`` ``(N, T, F)`` (or on
    ``indices``, e.g. one ``--shard``). Input ``i``'s directions come from its own generator,
    seeded ``cfg.seed * 1_000_003 + i`` (:func:`~seqrobust.seeds.input_generator`),
    so its record does not depend on which other inputs are measured. With ``lengths``
    ``(N,)`` only the real steps carry noise (``d = length · F``); the model sees each input
    as :meth:`~seqrobust.models.Classifier.groups` decides (trimmed where provably the same
    function, else padded as it expects).

    Raises:
        ValueError: if ``inputs`` is not ``(N, T, F)`` or ``labels`` does not match.
    """
    if inputs.dim() != 3 or labels.shape != inputs.shape[:1]:
        raise ValueError(f"need inputs (N, T, F) and labels (N,), got {tuple(inputs.shape)}")
    chosen = list(range(min(cfg.n_inputs, len(inputs)))) if indices is None else list(indices)
    if not isinstance(model, nn.Module):  # a plain function of full-length inputs
        if lengths is not None:
            raise ValueError("a plain function cannot take padded inputs; wrap the module in "
                             "seqrobust.Classifier")
        return [analyse_input(model, inputs[i : i + 1], index=i, label=int(labels[i]), cfg=cfg,
                              generator=input_generator(cfg.seed, i))
                for i in tqdm(chosen, desc="noise", disable=not progress)]
    clf = as_classifier(model)
    clf.eval()
    clf64 = Classifier(_as_float64(clf.model), takes_lengths=clf.takes_lengths,  # type: ignore[arg-type]
                       padding=clf.padding)
    dtype = _param_dtype(clf)
    sub = torch.tensor(chosen, dtype=torch.long)
    lens = None if lengths is None else lengths[sub]
    by_row: dict[int, Group] = {}
    for g in clf.groups(inputs[sub], lens):
        for r in g.rows.tolist():
            by_row[chosen[r]] = g
    records = []
    for i in tqdm(chosen, desc="noise", disable=not progress):
        g = by_row[i]
        records.append(analyse_input(
            g.forward(), inputs[i : i + 1, : g.length], index=i, label=int(labels[i]), cfg=cfg,
            generator=input_generator(cfg.seed, i), dtype=dtype,
            model64=replace(g, classifier=clf64).forward(functional=True)))
    return records


def noise_bound(
    model: nn.Module | Classifier,
    data: SequenceData,
    *,
    n: int = 100,
    config: NoiseConfig | None = None,
    progress: bool = False,
    label: str = "model",
    **settings: Any,
) -> NoiseBound:
    """Theorem B against Monte Carlo on the first ``n`` inputs of ``data``, for any classifier.

    Radii, their unit and the clipping range come from ``data`` (unbounded data are never
    clipped); the default radii are :data:`~seqrobust.measure.noise.DEFAULT_RHO_PIXELS` for
    pixel data and the same radii in model units otherwise.

    Args:
        model: the classifier (its margin, gradient and dense Hessian are taken in float64 on a
            copy, so keep inputs small: ``d = T·F`` up to a few thousand).
        data: inputs in model units; variable lengths allowed (``d = length · F``).
        n: the first ``n`` inputs.
        config: a :class:`~seqrobust.measure.noise.NoiseConfig`; or give its fields as
            keywords (``rho=(1.0, 10.0)``, ``samples=500`` ...).
        progress: a progress bar.
        label: the name recorded in the summary.

    Returns:
        The :class:`NoiseBound`.
    """
    model = prepare(model, data)
    cfg = config if config is not None else NoiseConfig(n_inputs=n, **settings)
    cfg = replace(cfg, n_inputs=min(cfg.n_inputs, len(data))).for_data(data)
    records = run_noise(model, data.inputs, data.labels, cfg, progress=progress,
                        lengths=data.lengths)
    return NoiseBound(records, summarise(records, cfg, run=label), cfg)


__all__ = ["NoiseBound", "noise_bound", "run_noise"]
