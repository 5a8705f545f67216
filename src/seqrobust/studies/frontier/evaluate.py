"""Every measurement of one trained model of the frontier study, each cached on disk under a
key of its settings and the weights' hash."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from seqrobust.attacks import MissingDependencyError
from seqrobust.data import SequenceData
from seqrobust.data.registry import load_dataset
from seqrobust.measure.curvature import curvature
from seqrobust.measure.robustness import AttackSettings, RobustnessCurve, robustness_curve
from seqrobust.measure.worst_case import curve_area, worst_case_accuracy
from seqrobust.studies.frontier.config import CHECK_ATTACKS, FrontierConfig, Method
from seqrobust.studies.frontier.table import FrontierRow
from seqrobust.studies.records import cached, weights_hash
from seqrobust.training import accuracy, load_model


def curvature_summary(model: torch.nn.Module, data: SequenceData, *, probes: int, seed: int
                      ) -> dict[str, float]:
    """Mean and median R(x), mean |J| (:func:`~seqrobust.measure.curvature.curvature`), in the
    study's cached format."""
    c = curvature(model, data, probes=probes, seed=seed)
    s = c.summary()
    return {"n": c.n, "mean_r": float(s["mean_R"]), "se_r": float(s["se_R"]),
            "median_r": float(s["median_R"]), "mean_j": float(s["mean_J"]),
            "se_j": float(s["se_J"]), "seconds": c.seconds}


def evaluate(
    cfg: FrontierConfig, method: Method, lam: float, seed: int, run_dir: Path, evals: Path,
    device: torch.device, progress: bool, notes: set[str],
) -> FrontierRow:
    """Every measurement of one trained model (each cached on its own)."""
    model, tcfg = load_model(run_dir, device=device)
    weights = weights_hash(run_dir)[:16]

    def test(n: int | None) -> Any:
        return load_dataset(tcfg.dataset, split="test", root=tcfg.data_root, limit=n,
                            units=tcfg.units)  # type: ignore[arg-type]

    clean = cached(evals / "clean.json", {"weights": weights, "dataset": tcfg.dataset},
                    lambda: accuracy(model, test(None), device=device))

    def curve(settings: AttackSettings, eps: tuple[float, ...], n: int) -> RobustnessCurve:
        key = {"weights": weights, "settings": asdict(settings), "eps": sorted(eps), "n": n}
        return RobustnessCurve.from_json(cached(
            evals / f"{settings.attack}.json", key,
            lambda: robustness_curve(model, test(n), settings=settings, eps=eps,
                                     batch_size=cfg.batch_size, label=run_dir.name,
                                     progress=progress).to_json()))

    pgd = curve(AttackSettings(attack="pgd", alpha=cfg.alpha, steps=cfg.steps,
                               restarts=cfg.restarts, seed=seed), cfg.eps, cfg.n_test)
    checks = []
    for attack in CHECK_ATTACKS:
        settings = AttackSettings(attack=attack, steps=cfg.apgd_steps,
                                  queries=cfg.square_queries, seed=seed)
        try:
            checks.append(curve(settings, cfg.check_eps, cfg.check_n))
        except MissingDependencyError as exc:
            notes.add(f"{attack} skipped: {exc}")
    curv_key = {"weights": weights, "n": cfg.curv_n, "probes": cfg.curv_probes, "seed": seed}
    curv = cached(evals / "curvature.json", curv_key, lambda: curvature_summary(
        model, test(cfg.curv_n), probes=cfg.curv_probes, seed=seed))
    meta = json.loads((run_dir / "model.json").read_text())["meta"]
    worst: tuple[tuple[float, float], ...] = ()
    pgd_check: tuple[tuple[float, float], ...] = ()
    if checks:
        worst = tuple((e, worst_case_accuracy([pgd, *checks], e)) for e in cfg.check_eps)
        head = pgd.head(min(c.n for c in checks))
        pgd_check = tuple((e, head.at(e)) for e in cfg.check_eps if e in pgd.eps)
    return FrontierRow(
        method=method.name, estimator=method.estimator if method.reg == "hessian" else "",
        lam=lam, seed=seed, clean=float(clean), pgd=tuple(zip(pgd.eps, pgd.accuracy, strict=True)),
        worst=worst, pgd_check=pgd_check, auc=curve_area(pgd), mean_r=curv["mean_r"],
        median_r=curv["median_r"], mean_j=curv["mean_j"], train_seconds=float(meta["elapsed"]),
        attack_seconds=pgd.seconds + sum(c.seconds for c in checks), n_pgd=pgd.n,
        n_check=min((c.n for c in checks), default=0),
    )


__all__ = ["curvature_summary", "evaluate"]
