"""``seqrobust reproduce datasets``: the λ rule, the table, and a tiny resumable grid."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest

from seqrobust.cli import main
from seqrobust.studies.datasets import GridConfig, choose_lam, format_table, run_grid

pytest.importorskip("aeon")


def test_lam_rule_takes_the_largest_within_tolerance() -> None:
    assert choose_lam(0.95, {0.1: 0.94, 1.0: 0.935}, 0.02) == 1.0
    assert choose_lam(0.95, {0.1: 0.94, 1.0: 0.90}, 0.02) == 0.1
    assert choose_lam(0.95, {0.1: 0.80, 1.0: 0.70}, 0.02) == 0.1  # none qualifies: smallest


TINY = GridConfig(
    datasets=("ItalyPowerDemand",), modes=("plain", "hessian"), epochs={}, default_epochs=1,
    hidden=4, lams={"hessian": (0.1, 1.0)}, n_attack=20, n_analyze=3, lanczos_iters=5,
    fmn_steps=5, pgd_steps=3, square_queries=0,
)


def test_tiny_grid_writes_the_table_and_resumes(tmp_path: Path) -> None:
    rows = run_grid(TINY, tmp_path, progress=False)
    assert [(r["dataset"], r["mode"]) for r in rows] == [
        ("ItalyPowerDemand", "plain"), ("ItalyPowerDemand", "hessian")]
    plain, hess = rows
    assert plain["lam"] == 0.0 and hess["lam"] in (0.1, 1.0)
    runs = tmp_path / "runs"
    accs = {lam: json.loads((runs / f"ItalyPowerDemand-hessian-lam{lam:g}/grid.json")
                            .read_text())["train_accuracy"] for lam in (0.1, 1.0)}
    assert hess["lam"] == choose_lam(plain["train_acc"], accs, 0.02)
    for r in rows:
        assert 0 <= r["pgd_acc_eps2"] <= r["pgd_acc_eps1"] <= r["clean_acc"] <= 1
        assert (r["eps1"], r["eps2"]) == (0.1, 0.25) and r["analysed"] == 3
        assert r["train_seconds"] > 0 and math.isfinite(r["median_v"])
        assert math.isnan(r["square_acc_eps1"])  # Square skipped (square_queries=0)
    with open(tmp_path / "table.csv", newline="") as fh:
        assert len(list(csv.DictReader(fh))) == 2
    table = (tmp_path / "table.md").read_text()
    assert table.strip() == format_table(rows) and "| 0.1, 0.25 |" in table
    model = tmp_path / "runs" / "ItalyPowerDemand-plain" / "model.safetensors"
    stamp = model.stat().st_mtime_ns
    assert run_grid(TINY, tmp_path, progress=False) == rows  # cached: nothing recomputed
    assert model.stat().st_mtime_ns == stamp


def test_cli_rejects_an_unknown_dataset(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reproduce", "datasets", "--dataset", "NoSuchSet", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown dataset 'NoSuchSet'") and err.count("\n") == 1
