"""Figure 7: robust accuracy against ε for plain, Jacobian- and Hessian-regularised 2-layer RNNs
(plus PGD adversarial training and CURE), under L∞ PGD-30 with α = 2 pixels.

Protocol (:class:`Figure7Config`):

1. Train the plain model with the shared recipe (:class:`~seqrobust.training.TrainConfig`).
2. For each regulariser, train every λ of its small grid; keep the largest λ whose clean test
   accuracy is within ``max_drop`` (1 point) of plain (the smallest λ if none is).
3. Run the nested PGD sweep on the first ``n_test`` test inputs of every kept model.
4. Reliability: APGD-CE, APGD-DLR and Square at ``check_eps`` on the first ``check_n`` inputs.
5. Write ``figure7.png``, ``figure7.csv`` and ``figure7.md`` (tables, sanity checks and the
   weights and data SHA-256 of every model: :mod:`seqrobust.studies.figure7_report`).

Everything is cached in the output folder: finished trainings and curves are reused (a curve
only with the same settings, weights and data: ``provenance/NAME.json`` next to
``curves/NAME.json`` records their SHA-256), a killed training resumes from its last
checkpoint.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from seqrobust._safeio import read_text
from seqrobust.attacks import MissingDependencyError
from seqrobust.data.registry import load_dataset
from seqrobust.measure.checks import Check, sanity_checks
from seqrobust.measure.robustness import AttackSettings, RobustnessCurve, robustness_curve
from seqrobust.reporting.text import md_escape
from seqrobust.runs.load import ModelSource, load_source
from seqrobust.runs.shards import write_json_atomic
from seqrobust.studies.figure7_report import write_figure7
from seqrobust.training import TrainConfig, accuracy, ensure_trained, load_model
from seqrobust.training.run import resolve_device


@dataclass(frozen=True)
class Figure7Config:
    """The experiment; the defaults are the full run (full MNIST, 10,000 test inputs).

    Attributes:
        dataset: training/test data.
        epochs: training epochs (shared recipe).
        hidden: hidden units per layer (2 layers, tanh RNN).
        seed: training and attack seed.
        lams: λ grid per regulariser; PGD-AT uses ``lam`` as the weight of its adversarial loss.
        reg_fraction: fraction of each batch every regulariser (and PGD-AT) sees, an unbiased
            random subset: the same for all modes, it keeps the second-order trainings within
            2.4-4x the cost of plain training (``docs/regularizers.md``).
        max_drop: allowed clean-accuracy drop (fraction) relative to plain.
        at_eps: PGD-AT radius (pixels); at_steps: its PGD steps.
        eps: the curve's radii (pixels).
        n_test: test inputs attacked.
        alpha: PGD step (pixels); steps: PGD steps; restarts: PGD restarts.
        check_eps: radii of the APGD/Square reliability check.
        check_n: inputs of the reliability check.
        apgd_steps: APGD iterations; square_queries: Square queries.
        batch_size: inputs per attack call.
        train_limit: train on the first N training examples only (smoke tests).
    """

    dataset: str = "mnist"
    epochs: int = 10
    hidden: int = 128
    seed: int = 0
    lams: tuple[tuple[str, tuple[float, ...]], ...] = (
        ("jacobian", (0.01, 0.1)),
        ("hessian", (1e-3, 1e-2)),
        ("cure", (1.0,)),
        ("pgd-at", (1.0,)),
    )
    reg_fraction: float = 0.25
    max_drop: float = 0.01
    at_eps: float = 8.0
    at_steps: int = 7
    eps: tuple[float, ...] = tuple(float(e) for e in range(1, 31))
    n_test: int = 10000
    alpha: float = 2.0
    steps: int = 30
    restarts: int = 1
    check_eps: tuple[float, ...] = (4.0, 8.0, 16.0, 30.0)
    check_n: int = 1000
    apgd_steps: int = 100
    square_queries: int = 1000
    batch_size: int = 1000
    train_limit: int | None = None

    @classmethod
    def quick(cls) -> Figure7Config:
        """A few-minute CPU version: the 2,000-image MNIST subset, 3 epochs, 500 test inputs."""
        return cls(
            dataset="mnist-subset", epochs=3, hidden=64,
            lams=(("jacobian", (0.01, 0.1)), ("hessian", (1e-3, 1e-2)), ("cure", (1.0,)),
                  ("pgd-at", (1.0,))),
            at_steps=3, eps=(1.0, 2.0, 4.0, 6.0, 8.0, 12.0, 16.0, 20.0, 24.0, 30.0),
            n_test=500, check_eps=(8.0, 16.0), check_n=100, apgd_steps=10,
            square_queries=100,
        )

    def train_config(self, reg: str, lam: float, device: str) -> TrainConfig:
        """The shared recipe with regulariser ``reg`` at weight ``lam``."""
        return TrainConfig(
            dataset=self.dataset, hidden=self.hidden, epochs=self.epochs, seed=self.seed,
            reg=reg, lam=lam, at_eps=self.at_eps, at_steps=self.at_steps, device=device,
            train_limit=self.train_limit, reg_fraction=self.reg_fraction if reg != "none" else 1.0,
        )


def _run_name(reg: str, lam: float) -> str:
    return "plain" if reg == "none" else f"{reg}-lam{lam:g}"


_IDENTITY = ("weights_sha256", "dataset", "data_tensors_sha256")


def _curve(
    out: Path, name: str, label: str, settings: AttackSettings, eps: tuple[float, ...], n: int,
    cfg: Figure7Config, run_dir: Path, device: torch.device, progress: bool,
) -> tuple[RobustnessCurve, dict[str, Any]]:
    """The curve cached in ``out/curves/NAME.json`` if it has the same settings and its
    provenance (``out/provenance/NAME.json``) the same weights and data, else computed and
    cached; with its provenance. The curve file keeps the plain curve format."""
    loaded = load_source(ModelSource(run=run_dir), split="test", limit=n, device=device)
    provenance = loaded.provenance
    key = {k: provenance.get(k) for k in _IDENTITY}
    curve_rel, prov_rel = Path("curves") / f"{name}.json", Path("provenance") / f"{name}.json"
    if (out / curve_rel).exists() and (out / prov_rel).exists():
        known = json.loads(read_text(out, prov_rel))
        if isinstance(known, dict) and {k: known.get(k) for k in _IDENTITY} == key:
            cached = RobustnessCurve.from_json(json.loads(read_text(out, curve_rel)))
            if cached.settings == settings and cached.eps == tuple(sorted(eps)) and (
                    cached.n == n):
                return cached, provenance
    curve = robustness_curve(
        loaded.model, loaded.data, settings=settings, eps=eps, batch_size=cfg.batch_size,
        label=label, progress=progress,
    )
    write_json_atomic(out / curve_rel, curve.to_json(), folder=out)
    write_json_atomic(out / prov_rel, provenance, folder=out)
    return curve, provenance


def run_figure7(
    cfg: Figure7Config, out: str | Path, *, device: str = "auto", progress: bool = True
) -> Path:
    """Run (or resume) the whole experiment into ``out``; returns the path of ``figure7.md``."""
    out = Path(out)
    dev = resolve_device(device)
    runs = out / "runs"
    ensure_trained(cfg.train_config("none", 0.0, device), runs / "plain", progress=progress)
    test = load_dataset(cfg.dataset, split="test")

    def clean(run_dir: Path) -> float:
        model, _ = load_model(run_dir, device=dev)
        return accuracy(model, test, device=dev)

    plain_acc = clean(runs / "plain")
    sweep_rows: list[tuple[str, float, float, bool]] = []
    chosen: list[tuple[str, str]] = [("plain", "plain")]
    for reg, grid in cfg.lams:
        accs = []
        for lam in grid:
            name = _run_name(reg, lam)
            ensure_trained(cfg.train_config(reg, lam, device), runs / name, progress=progress)
            accs.append((lam, clean(runs / name)))
        ok = [lam for lam, a in accs if a >= plain_acc - cfg.max_drop]
        pick = max(ok) if ok else min(grid)
        for lam, a in accs:
            sweep_rows.append((reg, lam, a, lam == pick))
        chosen.append((f"{reg} (λ={pick:g})", _run_name(reg, pick)))

    pgd = AttackSettings(attack="pgd", alpha=cfg.alpha, steps=cfg.steps, restarts=cfg.restarts,
                         seed=cfg.seed)
    curves: list[RobustnessCurve] = []
    checks: dict[str, list[Check]] = {}
    extra: list[RobustnessCurve] = []
    reliability: dict[str, list[RobustnessCurve]] = {}
    notes: list[str] = []
    provenance: dict[str, dict[str, Any]] = {}
    for label, name in chosen:
        curve, provenance[label] = _curve(out, f"{name}-pgd", label, pgd, cfg.eps, cfg.n_test,
                                          cfg, runs / name, dev, progress)
        curves.append(curve)
        others: dict[str, RobustnessCurve] = {}
        for attack in ("apgd-ce", "apgd-dlr", "square"):
            settings = AttackSettings(attack=attack, steps=cfg.apgd_steps,
                                      queries=cfg.square_queries, seed=cfg.seed)
            try:
                others[attack] = _curve(
                    out, f"{name}-{attack}", label, settings, cfg.check_eps, cfg.check_n, cfg,
                    runs / name, dev, progress,
                )[0]
            except MissingDependencyError as exc:
                notes.append(f"{attack} skipped: {exc}")
        extra.extend(others.values())
        reliability[label] = [curve.head(cfg.check_n), *others.values()]
        found = sanity_checks(curve, plain=name == "plain", blackbox=others.get("square"))
        white = [c for k, c in others.items() if k.startswith("apgd")]
        if white:
            head = curve.head(cfg.check_n)
            gap = max(head.at(e) - min(c.at(e) for c in white) for e in cfg.check_eps)
            found.append(Check(
                "PGD near APGD (white-box strength)", "pass" if gap <= 0.02 else "fail",
                f"largest accuracy gap PGD-{cfg.steps} - best APGD {100 * gap:+.2f} points "
                f"over eps in {list(cfg.check_eps)} (n={head.n}; flagged above +2.0)",
            ))
        checks[label] = found
    claim = claim_lines(curves, reliability, pgd_eps=cfg.eps, check_eps=cfg.check_eps)
    return write_figure7(cfg, out, plain_acc, sweep_rows, curves, extra, checks,
                         sorted(set(notes)), claim, provenance)


def robust_masks(curve: RobustnessCurve, eps: float) -> torch.Tensor:
    """``(N,)`` bool: which inputs of ``curve`` are classified correctly and not fooled at
    ``eps`` (needs the per-input record)."""
    matches = [k for k, e in enumerate(curve.eps) if abs(e - eps) < 1e-9]
    if not matches or len(curve.first_fooled) != curve.n:
        raise ValueError(f"curve {curve.label!r} has no per-input record at ε = {eps:g}")
    return torch.tensor(curve.first_fooled) > matches[0]


def paired_difference(a: torch.Tensor, b: torch.Tensor) -> tuple[float, float]:
    """Mean and standard error of ``a - b`` for two robust masks on the same inputs, in points.

    The inputs are shared, so the paired standard error ``sd(a_i - b_i) / √n`` is the right one
    (much smaller than that of two independent proportions)."""
    d = a.double() - b.double()
    se = float(d.std(unbiased=True)) / d.numel() ** 0.5 if d.numel() > 1 else float("nan")
    return 100 * float(d.mean()), 100 * se


def _find(labels: list[str], prefix: str) -> str | None:
    return next((label for label in labels if label.startswith(prefix)), None)


def claim_lines(
    curves: list[RobustnessCurve], reliability: dict[str, list[RobustnessCurve]], *,
    pgd_eps: tuple[float, ...], check_eps: tuple[float, ...],
) -> list[str]:
    """The poster's claim (Hessian regularisation above plain training and Jacobian
    regularisation at every ε), checked under PGD on all inputs and under the worst case over
    PGD, APGD-CE, APGD-DLR and Square on the reliability subset, with paired standard errors.

    Returns Markdown lines (empty when the plain, Jacobian or Hessian model is missing).
    """
    by_label = {c.label: c for c in curves}
    hess, plain, jac = (_find(list(by_label), p) for p in ("hessian", "plain", "jacobian"))
    if hess is None or plain is None or jac is None:
        return []
    lines = ["## The poster's claim: Hessian regularisation above plain and Jacobian at every ε",
             "", "Differences in robust accuracy (points) on the same inputs, ± paired standard "
             "error; `(not ahead)` where the Hessian model is not ahead by more than 2 s.e.", ""]

    def verdict(rows: list[tuple[float, float, float]]) -> tuple[str, list[str]]:
        table = []
        ahead_everywhere = True
        for eps, d, se in rows:
            ok = d > 2 * se
            ahead_everywhere &= ok
            table.append(f"{eps:g}: {d:+.1f} ± {se:.1f}{'' if ok else ' (not ahead)'}")
        return ("holds" if ahead_everywhere else "does not hold at every ε"), table

    for title, worst, eps_list in (
        (f"PGD-{by_label[hess].settings.steps}, all {by_label[hess].n} inputs", False, pgd_eps),
        ("worst case over PGD, APGD-CE, APGD-DLR and Square, first "
         f"{reliability.get(hess, [by_label[hess]])[0].n} inputs", True, check_eps),
    ):
        for other in (plain, jac):
            rows = []
            for eps in eps_list:
                if worst:
                    if len(reliability.get(hess, [])) < 2 or len(reliability.get(other, [])) < 2:
                        continue
                    h = _worst(reliability[hess], eps)
                    o = _worst(reliability[other], eps)
                else:
                    h, o = robust_masks(by_label[hess], eps), robust_masks(by_label[other], eps)
                rows.append((eps, *paired_difference(h, o)))
            if not rows:
                continue
            result, table = verdict(rows)
            lines += [f"- **{md_escape(hess)} vs {md_escape(other)}, {title}: {result}.** "
                      + "; ".join(f"ε={t}" for t in table), ""]
    return lines


def _worst(curves: list[RobustnessCurve], eps: float) -> torch.Tensor:
    """Robust mask at ``eps`` in the worst case over ``curves`` (same inputs, same order)."""
    n = min(c.n for c in curves)
    return torch.stack([robust_masks(c.head(n), eps) for c in curves]).all(dim=0)


__all__ = ["Figure7Config", "run_figure7"]
