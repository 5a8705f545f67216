"""What a command measures and the data it measures it on: a run folder, or a foreign model
(``--model FILE.py:FACTORY``), on a named dataset or a ``--data`` file.

:class:`ModelSource` says which; :func:`load_source` is the one loader every run-folder service
goes through, so each keeps one code path for both. It returns the model, the data, a
provenance record (weights and data SHA-256; every output records it) and whether the model
is a plain-trained seqrobust run (:class:`Loaded`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, cast

import torch
from torch import nn

from seqrobust._safeio import inside
from seqrobust.data.dataset import SequenceData
from seqrobust.data.registry import load_dataset
from seqrobust.models.classifier import as_classifier
from seqrobust.runs import foreign
from seqrobust.runs.outputs import data_hash, padding_mode
from seqrobust.training.config import TrainConfig


def model_shape(model: nn.Module) -> tuple[int, int] | None:
    """``(features, classes)`` a model expects, or ``None`` when it does not say."""
    features, classes = getattr(model, "input_size", None), getattr(model, "num_classes", None)
    if isinstance(features, int) and isinstance(classes, int):
        return features, classes
    return None


def check_compatible(model: nn.Module, data: SequenceData, *, run: str | Path) -> None:
    """Raise a one-line ``ValueError`` if ``data`` has other features or classes than ``run``."""
    shape = model_shape(model)
    if shape is None:
        return
    features, classes = shape
    if (data.num_features, data.num_classes) != (features, classes):
        raise ValueError(
            f"dataset {data.name} has {data.num_features} features and {data.num_classes} "
            f"classes but the run {run} expects {features} and {classes}"
        )


@dataclass(frozen=True)
class ModelSource:
    """What a command measures: a run folder, or a foreign model; and the data to use.

    Attributes:
        run: a run folder (from ``seqrobust train``); ``None`` with ``model``.
        model: ``FILE.py:FACTORY`` or ``package.module:FACTORY`` returning an ``nn.Module``
            (:func:`~seqrobust.runs.foreign.load_foreign_model`).
        weights: its ``.safetensors`` state dict (``None``: the factory's own parameters).
        kwargs: keyword arguments of the factory.
        takes_lengths: whether its forward is ``(x, lengths)`` (``None``: read the signature).
        dataset: a dataset name (``None``: the run's own, or ``data``).
        data: an ``.npz``/``.safetensors`` file with ``x``, ``y`` and optionally ``lengths``.
        bounds: valid input range of ``data`` (``None``: unbounded).
        unit: the unit perturbation sizes of ``data`` are quoted in.
        scale: model units per ``unit``.

    Raises:
        ValueError: one line, on a combination that names no model or two data sources.
    """

    run: Path | None = None
    model: str | None = None
    weights: Path | None = None
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    takes_lengths: bool | None = None
    dataset: str | None = None
    data: Path | None = None
    bounds: tuple[float, float] | None = None
    unit: str = "model units"
    scale: float = 1.0

    def __post_init__(self) -> None:
        if self.run is not None and self.model is not None:
            raise ValueError("give a run folder or --model, not both")
        if self.run is None and self.model is None:
            raise ValueError("give a run folder or --model FILE.py:FACTORY (and --data)")
        if self.model is None and (self.weights is not None or self.kwargs
                                   or self.takes_lengths is not None):
            raise ValueError("--weights, --model-kwargs and --takes-lengths need --model")
        if self.data is not None and self.dataset is not None:
            raise ValueError("give --data FILE or --dataset NAME, not both")
        if self.model is not None and self.data is None and self.dataset is None:
            raise ValueError("--model needs data: add --data FILE.npz or --dataset NAME")
        if self.data is None and (self.bounds is not None or self.unit != "model units"
                                  or self.scale != 1.0):
            raise ValueError("--bounds, --unit and --scale describe a --data file; add --data "
                             "or drop them")

    @property
    def name(self) -> str:
        """The run folder or the model spec, for records."""
        return str(self.run) if self.run is not None else str(self.model)

    @property
    def label(self) -> str:
        """A short label: the run folder's name, or the spec without its folder."""
        return self.run.name if self.run is not None else Path(str(self.model)).name

    @property
    def foreign(self) -> bool:
        """Whether model or data come from outside a run folder."""
        return self.model is not None or self.data is not None

    def cli_args(self) -> str:
        """The command-line arguments that name this source, for hints in reports."""
        args = [str(self.run)] if self.run is not None else ["--model", str(self.model)]
        args += ["--takes-lengths"] if self.takes_lengths else []
        low_high = None if self.bounds is None else f"{self.bounds[0]:g},{self.bounds[1]:g}"
        kwargs = f"'{json.dumps(dict(self.kwargs))}'" if self.kwargs else None
        optional = {"--model-kwargs": kwargs, "--weights": self.weights, "--data": self.data,
                    "--dataset": self.dataset, "--bounds": low_high,
                    "--scale": None if self.scale == 1.0 else f"{self.scale:g}",
                    "--unit": None if self.unit == "model units" else json.dumps(self.unit)}
        return " ".join(args + [f"{k} {v}" for k, v in optional.items() if v is not None])

    def output(self, out: Path | None, *default: str) -> Path:
        """``out``, else ``RUN/<default...>``, which must not lead out of the run folder.

        Raises:
            ValueError: without ``out`` for a foreign model (there is no run folder), or when
                ``RUN/<default...>`` resolves outside the run folder (through a symlink).
        """
        if out is not None:
            return out
        if self.run is None:
            raise ValueError("--model needs --out (there is no run folder to write into)")
        return inside(self.run, Path(*default))


def as_source(source: str | Path | ModelSource, *, dataset: str | None = None) -> ModelSource:
    """``source`` itself, or the run folder ``source`` evaluated on ``dataset``.

    Raises:
        ValueError: if a :class:`ModelSource` comes with another ``dataset``.
    """
    if not isinstance(source, ModelSource):
        return ModelSource(run=Path(source), dataset=dataset)
    if dataset is not None and dataset != source.dataset:
        raise ValueError(f"dataset {dataset!r} given besides the source's own "
                         f"({source.dataset!r}); set it in the ModelSource")
    return source


@dataclass(frozen=True)
class Loaded:
    """A loaded :class:`ModelSource`.

    Attributes:
        model: the classifier, eval mode, on the device asked for (a run's own module, or a
            :class:`~seqrobust.models.Classifier` around a foreign one).
        data: the data to evaluate it on (inputs in the model's dtype).
        provenance: JSON-ready: run or model spec, factory kwargs, weights file, data name or
            file (each file's SHA-256), ``n``, the data's SHA-256 as loaded and ``padding``.
        plain: whether a seqrobust run was trained without regulariser (``None``: foreign).
        config: the run's training config (``None`` for a foreign model).
        source: what was loaded.
    """

    model: nn.Module
    data: SequenceData
    provenance: dict[str, Any]
    plain: bool | None
    config: TrainConfig | None
    source: ModelSource

    @property
    def record(self) -> dict[str, Any]:
        """``{"provenance": ...}`` to merge into every JSON output."""
        return {"provenance": self.provenance}

    def take(self, n: int) -> Loaded:
        """The first ``n`` inputs only, the provenance updated (``n`` and the data hash)."""
        data = self.data.take(n)
        return replace(self, data=data, provenance={
            **self.provenance, "n": len(data), "data_tensors_sha256": data_hash(data),
            "padding": padding_mode(self.model, data)})


def require_inputs(data: SequenceData, n: int, *, flag: str = "--n") -> None:
    """A one-line ``ValueError`` if ``data`` holds fewer than ``n`` inputs (never cut)."""
    if n > len(data):
        raise ValueError(f"{flag} {n} but {data.name} has {len(data)} inputs; use {flag} "
                         f"{len(data)} or less")


def load_source(
    source: ModelSource, *, split: str = "test", limit: int | None = None,
    device: str | torch.device = "cpu",
) -> Loaded:
    """The model of ``source`` (eval mode, on ``device``) and the data to evaluate it on.

    Args:
        source: a run folder or a foreign model, and the data.
        split: ``"test"`` or ``"train"`` of a dataset (a ``--data`` file has no splits).
        limit: the first ``limit`` examples.
        device: where the model goes.

    Returns:
        :class:`Loaded`.

    Raises:
        ValueError: one line, on a missing run, a bad model, weights or data file, an
            unknown dataset or split, or data the model cannot take.
    """
    from seqrobust.training.run import load_model

    if split not in ("test", "train"):
        raise ValueError(f"unknown split {split!r}; choose test or train")
    if source.data is not None and split != "test":
        raise ValueError(f"--split {split} applies to datasets; a --data file is used whole")
    cfg: TrainConfig | None = None
    model: nn.Module
    if source.run is not None:
        model, cfg = load_model(source.run, device=device)
        weights = source.run / "model.safetensors"
        provenance: dict[str, Any] = {
            "run": str(source.run), "weights": str(weights) if weights.is_file() else None,
            "weights_sha256": foreign.sha256_file(weights)}
    else:
        model = foreign.load_foreign_model(
            str(source.model), weights=source.weights, kwargs=source.kwargs,
            takes_lengths=source.takes_lengths, device=device)
        provenance = {
            "model": source.model, "model_kwargs": dict(source.kwargs),
            "weights": None if source.weights is None else str(source.weights),
            "weights_sha256": foreign.sha256_file(source.weights),
            "takes_lengths": getattr(model, "takes_lengths", None)}
    if source.data is not None:
        data = foreign.load_npz_data(source.data, bounds=source.bounds, unit=source.unit,
                                     scale=source.scale)
        data = data if limit is None else data.take(limit)
    else:
        name = source.dataset or (cfg.dataset if cfg is not None else None)
        root = cfg.data_root if cfg is not None and name == cfg.dataset else None
        units = "std" if cfg is None else cfg.units  # a run's data in its training units
        data = load_dataset(str(name), split=split, root=root, limit=limit, units=units)  # type: ignore[arg-type]
    if source.foreign:
        where = f"--model {source.model}" if cfg is None else f"the run {source.run}"
        data = foreign.fit_data(as_classifier(model), data, where=where)
    if source.run is not None:
        check_compatible(model, data, run=source.run)
    provenance.update(dataset=data.name, split=None if source.data else split,
                      data=None if source.data is None else str(source.data),
                      data_sha256=foreign.sha256_file(source.data), n=len(data),
                      data_tensors_sha256=data_hash(data),
                      padding=padding_mode(model, data))
    plain = None if cfg is None else cfg.reg == "none"
    return Loaded(model, data, provenance, plain, cfg, source)


def load_run_data(
    run: str | Path, *, dataset: str | None = None, split: str = "test",
    limit: int | None = None, device: str | torch.device = "cpu",
) -> tuple[nn.Module, TrainConfig, SequenceData]:
    """The trained model of ``run`` (eval mode, on ``device``) and the data to evaluate it on
    (:func:`load_source` of the run folder).

    Args:
        run: run folder (from ``seqrobust train``).
        dataset: dataset name; ``None`` = the run's own dataset.
        split: ``"test"`` or ``"train"``.
        limit: the first ``limit`` examples.
        device: where the model goes.

    Returns:
        ``(model, the run's training config, data)``.

    Raises:
        ValueError: on a missing run, an unknown dataset or split, or data with other features
            or classes than the model.
    """
    loaded = load_source(ModelSource(run=Path(run), dataset=dataset), split=split, limit=limit,
                         device=device)
    return loaded.model, cast(TrainConfig, loaded.config), loaded.data  # a run has a config


def distance_unit(data: SequenceData) -> str:
    """The unit of L2 distances in model space, for reports (``analyze`` works in model
    units): ``[0, 1]`` intensity for MNIST, the training standard deviation for aeon sets."""
    if data.eps_scale == 1.0:
        return data.eps_unit
    return f"model units (= {1.0 / data.eps_scale:g} x {data.eps_unit})"


__all__ = [
    "Loaded", "ModelSource", "as_source", "check_compatible", "distance_unit", "load_run_data",
    "load_source", "model_shape", "require_inputs",
]
