"""The architecture study's protocol: what is trained on each dataset (:class:`DataPlan`) and
the whole grid (:class:`ArchitecturesConfig`).

For every dataset and architecture, one *unit* of work (:meth:`ArchitecturesConfig.units`):

1. **Selection** (seed 0): plain and every regularised mode at every λ of its grid, trained
   on the training split minus a stratified validation split (``val_fraction``, the same
   inputs for every model: :func:`~seqrobust.data.split_validation`); per mode the λ rule of
   :func:`~seqrobust.studies.architectures.select.choose_lam` on validation accuracy. The test
   split is never looked at.
2. **Final models**: plain and each mode at its chosen λ, trained on the whole training split
   for every seed, then measured (:mod:`~seqrobust.studies.architectures.evaluate`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from seqrobust.data.timeseries import Units
from seqrobust.studies.frontier.config import Method
from seqrobust.training import TrainConfig

ARCHS = ("rnn", "lstm", "gru", "transformer", "tcn")
MODES = (
    Method("plain"),
    Method("jacobian", "jacobian", "fd", (1e-3, 1e-2, 1e-1, 1.0)),
    Method("hessian", "hessian", "fd", (1e-3, 1e-2, 1e-1, 1.0)),
    Method("cure", "cure", "fd", (1e-2, 1e-1, 1.0, 10.0)),
)
"""Plain and the three curvature-related defences, four λ each (model units: UCR series are
z-normalised, so one unit is one standard deviation of the series)."""
CASCADE = ("apgd-ce", "apgd-dlr", "square")
"""The costly attacks, each run only on the inputs that every attack before it failed to fool
(AutoAttack's order of business; the worst case is the same per-input "fooled by any")."""
UCR = ("ItalyPowerDemand", "GunPoint", "ArrowHead", "OSULeaf")
"""The four datasets of Fawaz et al. (2019) that ship inside aeon."""


@dataclass(frozen=True)
class DataPlan:
    """How one dataset is trained and attacked.

    Attributes:
        name: the dataset (:func:`~seqrobust.data.load_dataset`).
        units: ``raw`` (UCR as distributed, z-normalised per series: the published protocol)
            or ``std`` (standardised per channel with training statistics; MNIST: pixels).
        epochs, batch_size: the shared recipe on this dataset.
        eps: the headline L∞ radius in the data's perturbation unit (FGSM, BIM, the worst
            case); ``curve``: the PGD-30 radii (``eps`` among them).
        bim_alpha, bim_steps: the BIM of the published protocol (no random start).
        at_eps: CURE's finite-difference radius (perturbation unit).
        seeds: seeds of the final models.
        n_attack: test inputs attacked (the first ones; ``None``: all).
        n_analyze: test inputs of the Theorem-1 analysis and the curvature quartiles.
        train_limit: first N training inputs only (smoke tests).
    """

    name: str
    units: Units = "raw"
    epochs: int = 100
    batch_size: int = 16
    eps: float = 0.1
    curve: tuple[float, ...] = (0.025, 0.05, 0.1, 0.2, 0.4)
    bim_alpha: float = 0.05
    bim_steps: int = 10
    at_eps: float = 0.1
    seeds: tuple[int, ...] = (0, 1, 2)
    n_attack: int | None = None
    n_analyze: int = 50
    train_limit: int | None = None

    def __post_init__(self) -> None:
        if self.eps not in self.curve:
            raise ValueError(f"{self.name}: headline eps {self.eps:g} is not on the PGD curve")
        if not self.seeds:
            raise ValueError(f"{self.name}: seeds must not be empty")


DEFAULT_DATA = (
    DataPlan("ItalyPowerDemand", epochs=80),
    DataPlan("JapaneseVowels", units="std", epochs=25),
    DataPlan("GunPoint", epochs=100),
    DataPlan("BasicMotions", units="std", epochs=100),
    DataPlan("ArrowHead", epochs=100),
    DataPlan("OSULeaf", epochs=30),
    DataPlan("mnist", units="std", epochs=3, batch_size=128, eps=16.0,
             curve=(2.0, 4.0, 8.0, 16.0, 30.0), bim_alpha=8.0, at_eps=8.0, seeds=(0,),
             n_attack=2000),
)
"""Cheapest first, about 300-400 optimiser steps per model on the small sets (UCR and UEA
training splits hold 36-270 series). The UEA sets (JapaneseVowels, BasicMotions) have channels
of unrelated scales, so they are standardised per channel (ε in training standard deviations);
MNIST keeps pixel units (ε = 16 of 255, BIM step 8) and one seed."""


@dataclass(frozen=True)
class ArchitecturesConfig:
    """The whole grid (defaults: the full study).

    Attributes:
        datasets: per-dataset plans; archs: architectures; modes: training modes and λ grids.
        hidden, layers, heads, lr: the shared model and optimiser (TCN: as many blocks as
            cover the sequence).
        reg_fraction: fraction of each batch the regulariser sees.
        val_fraction: validation split carved from the training split for the λ rule;
            tolerance: the rule's accuracy tolerance (fraction); extend: how many decades a
            grid may grow upwards when the rule picks its top (the runner's ``selection``;
            off: on ItalyPowerDemand's 17 validation series it chose CURE λ = 1e5, whose
            test accuracy was 27 points below plain's).
        clean_window: the report compares (ranks, correlates, sets beside the published
            figures) only configurations whose mean clean accuracy is within this fraction of
            the best on their dataset (:func:`~seqrobust.studies.architectures.table.comparable`);
            it trains and measures everything.
        apgd_steps, square_queries: the worst-case attacks; pgd_steps: the PGD curve.
        lanczos_iters, fmn_steps: the Theorem-1 analysis.
        batch_size: inputs per attack call.
    """

    datasets: tuple[DataPlan, ...] = DEFAULT_DATA
    archs: tuple[str, ...] = ARCHS
    modes: tuple[Method, ...] = MODES
    hidden: int = 64
    layers: int = 2
    heads: int = 4
    lr: float = 2e-3
    reg_fraction: float = 0.25
    val_fraction: float = 0.25
    tolerance: float = 0.01
    extend: int = 0
    clean_window: float = 0.05
    pgd_steps: int = 30
    apgd_steps: int = 100
    square_queries: int = 1000
    lanczos_iters: int = 20
    fmn_steps: int = 50
    batch_size: int = 500

    def __post_init__(self) -> None:
        names = [m.name for m in self.modes]
        if not names or names[0] != "plain" or len(set(names)) != len(names):
            raise ValueError("modes need unique names, 'plain' first")
        if not 0.0 < self.val_fraction < 0.5:
            raise ValueError(f"val_fraction must be in (0, 0.5), got {self.val_fraction!r}")
        if not 0.0 <= self.clean_window <= 1.0:
            raise ValueError(f"clean_window must be in [0, 1], got {self.clean_window!r}")

    @classmethod
    def quick(cls) -> ArchitecturesConfig:
        """A few CPU minutes: two small sets, three architectures, two λ, short training, one
        seed (it settles nothing)."""
        small = (DataPlan("ItalyPowerDemand", epochs=15, seeds=(0,), n_attack=200,
                          n_analyze=10),
                 DataPlan("JapaneseVowels", units="std", epochs=6, seeds=(0,), n_attack=100,
                          n_analyze=10))
        modes = tuple(replace(m, lams=m.lams[1:3]) if m.reg != "none" else m for m in MODES)
        return cls(datasets=small, archs=("gru", "transformer", "tcn"), modes=modes, hidden=32,

                   apgd_steps=10, square_queries=100, lanczos_iters=10, fmn_steps=20)

    def plan(self, dataset: str) -> DataPlan:
        """The plan of ``dataset``."""
        for p in self.datasets:
            if p.name == dataset:
                return p
        raise ValueError(f"dataset {dataset!r} is not in this study")

    def mode(self, name: str) -> Method:
        """The mode called ``name``."""
        for m in self.modes:
            if m.name == name:
                return m
        raise ValueError(f"mode {name!r} is not in this study")

    def units(self) -> list[tuple[str, str]]:
        """Every (dataset, architecture) unit of work, cheapest dataset first."""
        return [(p.name, a) for p in self.datasets for a in self.archs]

    def candidates(self) -> list[tuple[Method, float]]:
        """The selection models of one unit: plain, then every mode at every λ."""
        return [(m, lam) for m in self.modes for lam in (m.lams if m.reg != "none" else (0.0,))]

    def train_config(self, dataset: str, arch: str, mode: Method, lam: float, seed: int, *,
                     selection: bool, device: str = "cpu") -> TrainConfig:
        """The shared recipe; ``selection``: trained without the validation split."""
        p = self.plan(dataset)
        plain = mode.reg == "none"
        return TrainConfig(
            dataset=p.name, units=p.units, cell=arch, hidden=self.hidden, layers=self.layers,
            heads=self.heads, epochs=p.epochs, batch_size=p.batch_size, lr=self.lr, seed=seed,
            reg=mode.reg, lam=0.0 if plain else lam, estimator=mode.estimator,
            reg_fraction=1.0 if plain else self.reg_fraction, at_eps=p.at_eps,
            train_limit=p.train_limit, val_fraction=self.val_fraction if selection else 0.0,
            device=device,
        )

    def eval_key(self, dataset: str) -> dict[str, Any]:
        """The settings a final model's measurements on ``dataset`` depend on."""
        p = self.plan(dataset)
        key = {"eps": p.eps, "curve": p.curve, "bim": [p.bim_alpha, p.bim_steps],
               "n_attack": p.n_attack, "n_analyze": p.n_analyze, "pgd_steps": self.pgd_steps,
               "apgd_steps": self.apgd_steps, "square_queries": self.square_queries,
               "lanczos_iters": self.lanczos_iters, "fmn_steps": self.fmn_steps,
               "batch_size": self.batch_size, "cascade": list(CASCADE)}
        return dict(json.loads(json.dumps(key)))


def model_name(mode: Method, lam: float, seed: int, *, selection: bool) -> str:
    """``plain-s0``, ``hessian-lam0.01-s1``; selection models get a ``select-`` prefix."""
    base = f"{mode.name}-s{seed}" if mode.reg == "none" else f"{mode.name}-lam{lam:g}-s{seed}"
    return f"select-{base}" if selection else base


__all__ = ["ARCHS", "DEFAULT_DATA", "MODES", "UCR", "ArchitecturesConfig", "DataPlan",
           "model_name"]
