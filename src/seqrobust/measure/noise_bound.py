"""The noise study for any classifier: per input, the probability that random noise of radius
ρ changes the prediction (Monte Carlo, clipped and unclipped), Theorem B's bound on it from the
input's quadratic model, and where hypothesis (H1) fails (theory.md §5; module
:mod:`seqrobust.measure.noise`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from torch import nn

from seqrobust.data.dataset import SequenceData
from seqrobust.measure.noise import InputRecord, NoiseConfig, run_noise
from seqrobust.measure.noise_summary import summarise
from seqrobust.models.classifier import Classifier


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
    cfg = config if config is not None else NoiseConfig(n_inputs=n, **settings)
    cfg = replace(cfg, n_inputs=min(cfg.n_inputs, len(data))).for_data(data)
    records = run_noise(model, data.inputs, data.labels, cfg, progress=progress,
                        lengths=data.lengths)
    return NoiseBound(records, summarise(records, cfg, run=label), cfg)


__all__ = ["NoiseBound", "noise_bound"]
