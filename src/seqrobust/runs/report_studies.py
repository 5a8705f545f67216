"""Study folders as report entries, one per model, as far as their files allow: a Figure-7
folder (``curves/NAME-ATTACK.json`` with per-input records and ``runs/NAME``, or only
``figure7.csv``) and a frontier folder (``evals/NAME/*.json``, ``records/NAME.json`` or only
``frontier.csv``). Read as data (their formats), without importing the studies."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from seqrobust.measure.robustness import ATTACKS, AttackSettings, RobustnessCurve
from seqrobust.runs.report import read_csv, read_json
from seqrobust.runs.report_summary import ModelInfo
from seqrobust.runs.results_report import Entry

CHECK_ATTACKS = ("pgd", "apgd-ce", "apgd-dlr", "square")
"""The attacks of a frontier record's worst case (PGD and the study's check attacks)."""


def _split(stem: str) -> tuple[str, str] | None:
    """``"hessian-lam0.01-apgd-ce"`` → ``("hessian-lam0.01", "apgd-ce")``."""
    for attack in sorted(ATTACKS, key=len, reverse=True):
        if stem.endswith("-" + attack):
            return stem[: -len(attack) - 1], attack
    return None


def _label_info(label: str) -> ModelInfo:
    """Regulariser and λ from a Figure-7 label (``"plain"``, ``"hessian (λ=0.01)"``)."""
    if label == "plain":
        return ModelInfo(regulariser="none")
    m = re.fullmatch(r"(.+) \(λ=([0-9.eE+-]+)\)", label)
    return ModelInfo(regulariser=m.group(1), lam=float(m.group(2))) if m else ModelInfo()


def _run_info(folder: Path, name: str, fallback: ModelInfo, notes: list[str]) -> ModelInfo:
    """Regulariser, λ, cost and clean accuracy from ``folder/runs/name`` when it is there."""
    config = read_json(folder, f"runs/{name}/config.json", notes)
    meta = (read_json(folder, f"runs/{name}/model.json", notes) or {}).get("meta", {})
    if config is None:
        return fallback
    return ModelInfo(regulariser=config.get("reg"), lam=config.get("lam") or None,
                     train_seconds=meta.get("elapsed"),
                     train_detail=f", {config.get('epochs')} epochs ({meta.get('step')} steps)",
                     clean=meta.get("test_accuracy"), clean_n=config.get("test_limit"),
                     clean_where="test inputs" if config.get("test_limit") else
                     "inputs: the full test set")


def _curve_csv(label: str, attack: str, rows: list[list[Any]]) -> RobustnessCurve:
    rows = sorted(rows, key=lambda r: float(r[3]))
    clean = [float(r[4]) for r in rows if float(r[3]) == 0]
    rest = [r for r in rows if float(r[3]) != 0]
    return RobustnessCurve(label, AttackSettings(attack=attack), tuple(float(r[3]) for r in rest),
                           tuple(float(r[4]) for r in rest), clean[0] if clean else float("nan"),
                           int(rows[0][2]), 0.0)


def figure7_entries(folder: Path) -> list[Entry]:
    """One entry per model of a Figure-7 folder."""
    notes: list[str] = []
    groups: dict[str, list[RobustnessCurve]] = {}
    curves_dir = folder / "curves"
    if curves_dir.is_dir() and not curves_dir.is_symlink():
        for path in sorted(curves_dir.glob("*.json"), key=lambda p: (p.stem != "plain-pgd", p)):
            split = _split(path.stem)
            data = read_json(folder, f"curves/{path.name}", notes)
            if split is not None and data is not None:
                groups.setdefault(split[0], []).append(RobustnessCurve.from_json(data))
    if groups:
        return [Entry(cs[0].label, tuple(cs), _run_info(folder, name, _label_info(cs[0].label),
                                                        notes), hints={},
                      notes=(f"Figure-7 model; its own report: seqrobust report "
                             f"{folder / 'runs' / name}", *notes))
                for name, cs in groups.items() if any(c.settings.attack == "pgd" for c in cs)]
    table = read_csv(folder, "figure7.csv", notes)
    if table is None:
        return []
    by: dict[str, dict[str, list[list[Any]]]] = {}
    for row in table[1]:
        by.setdefault(str(row[0]), {}).setdefault(str(row[1]), []).append(row)
    note = ("From figure7.csv only: no per-input records, so no worst case over attacks (the "
            "curves/ folder has them).")
    return [Entry(label, tuple(_curve_csv(label, a, rows) for a, rows in attacks.items()),
                  _label_info(label), hints={}, notes=(note, *notes))
            for label, attacks in by.items()]


def _pairs(values: list[list[float]]) -> tuple[tuple[float, float], ...]:
    return tuple((float(e), float(a)) for e, a in values if a is not None)


def _frontier_entry(folder: Path, name: str, record: dict[str, Any], notes: list[str]) -> Entry:
    row, train = record.get("row", {}), record.get("train", {})
    info = ModelInfo(regulariser=train.get("reg"), lam=train.get("lam") or None,
                     train_seconds=row.get("train_seconds"), clean=row.get("clean"),
                     clean_where="inputs: the full test set",
                     description=f"Frontier model {name}, seed {row.get('seed')}.")
    if not record:  # an evaluation folder without its record: the run folder and clean.json
        clean = (read_json(folder, f"evals/{name}/clean.json", notes) or {}).get("value")
        info = replace(_run_info(folder, name, ModelInfo(), notes),
                       description=f"Frontier model {name} (no record yet).")
        if isinstance(clean, float):
            info = replace(info, clean=clean, clean_n=None,
                           clean_where="inputs: the full test set")
    curves = []
    for attack in CHECK_ATTACKS:
        data = read_json(folder, f"evals/{name}/{attack}.json", notes)
        if data is not None and isinstance(data.get("value"), dict):
            curves.append(RobustnessCurve.from_json(data["value"]))
    more: tuple[str, ...] = ()
    if not curves and row.get("pgd"):
        pgd = _pairs(row["pgd"])
        curves.append(RobustnessCurve(name, AttackSettings(attack="pgd"), tuple(e for e, _ in pgd),
                                      tuple(a for _, a in pgd), float(row["clean"]),
                                      int(row["n_pgd"]), float(row.get("attack_seconds", 0))))
        info = replace(info, worst=_pairs(row.get("worst", [])), worst_n=row.get("n_check"),
                       worst_attacks=CHECK_ATTACKS)
        more = ("From the study record (no evals/ folder): its curve starts at the clean "
                "accuracy of the full test set, and the worst case has no per-input records.",)
    raw = {k: v for k, v in record.items() if k not in ("row", "train", "eval")}
    return Entry(name, tuple(curves), info, hints={}, raw=(("Study record", raw),),
                 notes=(*more, *notes))


def frontier_entries(folder: Path) -> list[Entry]:
    """One entry per model of a frontier folder."""
    notes: list[str] = []
    names: list[str] = []
    for sub in ("records", "evals"):
        root = folder / sub
        if root.is_dir() and not root.is_symlink():
            names += sorted(p.stem if sub == "records" else p.name for p in root.iterdir()
                            if (p.suffix == ".json") == (sub == "records"))
    if names:
        entries = []
        for name in dict.fromkeys(names):
            record = read_json(folder, f"records/{name}.json", notes) or {}
            entries.append(_frontier_entry(folder, name, record, notes))
        return entries
    table = read_csv(folder, "frontier.csv", notes)
    if table is None:
        return []
    head = table[0]
    out = []
    for values in table[1]:
        row = dict(zip(head, values, strict=True))
        name = f"{row['method']}-lam{row['lam']:g}-s{row['seed']}"
        pct = {k: float(v) / 100 for k, v in row.items() if k.endswith("_pct") and v == v}
        record = {"row": {
            "clean": pct.get("clean_pct"), "seed": row["seed"], "n_pgd": row["n_pgd"],
            "n_check": row["n_check"], "train_seconds": row["train_seconds"],
            "pgd": [[float(k[7:-4]), v] for k, v in pct.items() if k.startswith("pgd_eps")],
            "worst": [[float(k[9:-4]), v] for k, v in pct.items() if k.startswith("worst_eps")]},
            "train": {"reg": "none" if row["method"] == "plain" else row["method"],
                      "lam": row["lam"]}}
        out.append(_frontier_entry(folder, name, record, notes))
    return out


def study_entries(folder: Path) -> list[Entry] | None:
    """The entries of a study folder; ``None`` when ``folder`` is not one (a run folder has a
    ``config.json``)."""
    if (folder / "config.json").exists():
        return None
    if (folder / "figure7.csv").exists() or (folder / "curves").is_dir():
        return figure7_entries(folder)
    if any((folder / p).exists() for p in ("frontier.csv", "records", "evals")):
        return frontier_entries(folder)
    return None


__all__ = ["figure7_entries", "frontier_entries", "study_entries"]
