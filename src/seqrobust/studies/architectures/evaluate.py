"""Every measurement of one final model of the architecture study (:class:`ArchRow`), each
cached on disk under a key of its settings and the weights' hash.

On the first ``n_attack`` test inputs: FGSM and BIM at the headline ε (the published UCR
protocol) and the PGD-30 curve; then, at the headline ε, APGD-CE, APGD-DLR (≥ 3 classes) and
Square, each on the inputs that every attack before it failed to fool (:data:`CASCADE`). The
worst case counts an input as robust only if none of the six fooled it. On the first
``n_analyze``: R(x) = ‖H‖_F² and |J| (:func:`~seqrobust.measure.curvature`), λ_max of the
margin Hessian ``v`` and the Theorem-1 bracketing ``lower ≤ measured ≤ upper``
(:func:`~seqrobust.measure.analyze`).
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from seqrobust.attacks import MissingDependencyError
from seqrobust.data import SequenceData
from seqrobust.data.registry import load_dataset
from seqrobust.measure.analyze import analyze
from seqrobust.measure.curvature import curvature
from seqrobust.measure.robustness import AttackSettings, RobustnessCurve, robustness_curve
from seqrobust.measure.worst_case import cascade, robust_mask
from seqrobust.studies.architectures.config import (
    CASCADE,
    ArchitecturesConfig,
    DataPlan,
)
from seqrobust.studies.records import cached, weights_hash
from seqrobust.training import accuracy, load_model

Pairs = tuple[tuple[float, float], ...]
Quartiles = tuple[float, ...]
"""``(q25, q50, q75)``."""


@dataclass(frozen=True)
class ArchRow:
    """One final model's measurements (accuracies as fractions, seconds of wall time).

    Attributes:
        dataset, arch, mode, lam, seed: which model (``lam`` chosen on validation; 0: plain).
        clean: accuracy on the whole test split.
        fgsm, bim: accuracy under FGSM and BIM at the headline ε (``n_attack`` inputs).
        pgd: PGD-30 accuracy at each ε of the curve; worst: the worst case over all attacks
            at the headline ε.
        v, r, j: quartiles of λ_max of the margin Hessian, of R = Σ_k ‖∇²f_k‖_F² and of
            |J| over ``n_analyze`` test inputs (model units).
        bracket: fraction of the attacked inputs with ``lower ≤ measured ≤ upper``.
        rho_inputs: Spearman ρ between ``v`` and the measured minimal L2 distance over the
            analysed inputs of this model (how curvature ranks inputs, the poster's view).
        val: the λ's validation accuracy in selection; val_plain: plain's.
        train_seconds: training wall time; eval_seconds: all measurements'.
    """

    dataset: str
    arch: str
    mode: str
    lam: float
    seed: int
    clean: float
    fgsm: float
    bim: float
    pgd: Pairs
    worst: float
    n_attack: int
    v: Quartiles
    r: Quartiles
    j: Quartiles
    bracket: float
    rho_inputs: float
    n_analyze: int
    val: float
    val_plain: float
    train_seconds: float
    eval_seconds: float

    def at(self, eps: float) -> float:
        """PGD accuracy at ``eps`` (NaN if not on the curve)."""
        return next((a for e, a in self.pgd if abs(e - eps) < 1e-9), math.nan)


def quartiles(values: Any) -> Quartiles:
    """``(q25, q50, q75)`` of the finite values (NaNs when there are none)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if not v.size:
        return (math.nan,) * 3
    return tuple(float(q) for q in np.quantile(v, (0.25, 0.5, 0.75)))


def measure(cfg: ArchitecturesConfig, plan: DataPlan, run_dir: Path, evals: Path, *,
            seed: int, device: torch.device, progress: bool, notes: set[str]
            ) -> dict[str, Any]:
    """The measurements of the model in ``run_dir`` (the :class:`ArchRow` fields from
    ``clean`` to ``n_analyze``, and ``eval_seconds``)."""
    model, _ = load_model(run_dir, device=device)
    weights = weights_hash(run_dir)[:16]
    test = load_dataset(plan.name, split="test", units=plan.units)
    n = len(test) if plan.n_attack is None else min(plan.n_attack, len(test))
    head = test.take(n)
    clean = cached(evals / "clean.json", {"weights": weights, "data": test.name},
                   lambda: accuracy(model, test, device=device))
    seconds = 0.0

    def curve(tag: str, settings: AttackSettings, eps: tuple[float, ...],
              index: torch.Tensor | None = None) -> RobustnessCurve:
        nonlocal seconds
        key: dict[str, Any] = {"weights": weights, "settings": asdict(settings),
                               "eps": sorted(eps), "n": n, "data": test.name}
        if index is not None:
            key["inputs"] = hashlib.sha256(json.dumps(index.tolist()).encode()).hexdigest()
        data = head if index is None else head.subset(index)
        c = RobustnessCurve.from_json(cached(
            evals / f"{tag}.json", key,
            lambda: robustness_curve(model, data, settings=settings, eps=eps,
                                     batch_size=cfg.batch_size, label=run_dir.name,
                                     progress=progress).to_json()))
        seconds += c.seconds
        return c

    one = (plan.eps,)
    fgsm = curve("fgsm", AttackSettings(attack="fgsm", seed=seed), one)
    bim = curve("bim", AttackSettings(attack="pgd", alpha=plan.bim_alpha, steps=plan.bim_steps,
                                      random_start=False, seed=seed), one)
    pgd = curve("pgd", AttackSettings(attack="pgd", steps=cfg.pgd_steps, seed=seed), plan.curve)

    def costly(attack: str, index: torch.Tensor) -> RobustnessCurve | None:
        if attack == "apgd-dlr" and test.num_classes < 3:
            return None
        try:
            return curve(attack, AttackSettings(attack=attack, steps=cfg.apgd_steps,
                                                queries=cfg.square_queries, seed=seed),
                         one, index)
        except MissingDependencyError as exc:
            notes.add(f"{attack} skipped: {exc}")
            return None

    alive = cascade(costly, CASCADE, robust_mask([fgsm, bim, pgd], plan.eps), plan.eps)
    geometry = cached(evals / "geometry.json", {
        "format": 2, "weights": weights, "n": plan.n_analyze, "seed": seed, "data": test.name,
        "lanczos_iters": cfg.lanczos_iters, "fmn_steps": cfg.fmn_steps,
    }, lambda: _geometry(cfg, model, test.take(min(plan.n_analyze, len(test))), seed))
    return {
        "clean": float(clean), "fgsm": fgsm.accuracy[0], "bim": bim.accuracy[0],
        "pgd": tuple(zip(pgd.eps, pgd.accuracy, strict=True)),
        "worst": float(alive.double().mean()), "n_attack": n,
        **{k: tuple(_num(x) for x in geometry[k]) for k in ("v", "r", "j")},
        "bracket": _num(geometry["bracket"]), "rho_inputs": _num(geometry["rho_inputs"]),
        "n_analyze": int(geometry["n"]),
        "eval_seconds": seconds + float(geometry["seconds"]),
    }


def _num(v: Any) -> float:
    return math.nan if v is None else float(v)


def _geometry(cfg: ArchitecturesConfig, model: torch.nn.Module, data: SequenceData,
              seed: int) -> dict[str, Any]:
    start = time.perf_counter()
    curv = curvature(model, data, probes=1, seed=seed)
    result = analyze(model, data, lanczos_iters=cfg.lanczos_iters, fmn_steps=cfg.fmn_steps,
                     profile_n=0, seed=seed)
    bracket = result.summary.get("bracket", {}).get("lower_le_measured_le_upper")
    rho = (result.summary.get("spearman_with_measured", {}).get("v") or {}).get("rho")

    def clean(q: Quartiles) -> list[float | None]:
        return [None if math.isnan(x) else x for x in q]

    return {"n": len(data), "v": clean(quartiles(result.column("v"))),
            "r": clean(quartiles(curv.r.numpy())), "j": clean(quartiles(curv.j.numpy())),
            "bracket": bracket, "rho_inputs": rho, "seconds": time.perf_counter() - start}


__all__ = ["ArchRow", "measure", "quartiles"]
