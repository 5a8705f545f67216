"""``seqrobust analyze``: bound columns on a quadratic network, CLI smoke and resume."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import Tensor

from seqrobust.bounds.quadratic import exact_distance
from seqrobust.cli import main
from seqrobust.measure.bounds_table import bound_columns

T, F, L = 2, 3, 4
D = T * F


def _quadratic_logits(gen: torch.Generator) -> tuple[Tensor, Tensor, Tensor]:
    b = torch.randn(L, generator=gen, dtype=torch.float64)
    g = torch.randn(L, D, generator=gen, dtype=torch.float64)
    a = torch.randn(L, D, D, generator=gen, dtype=torch.float64)
    return b, g, (a + a.mT) / 2


def test_bound_columns_bracket_exact_multiclass_distance() -> None:
    gen = torch.Generator().manual_seed(0)
    b, g, a = _quadratic_logits(gen)

    def f(x: Tensor) -> Tensor:  # every logit quadratic: every margin model is exact
        z = x.flatten(1)
        return b + z @ g.T + 0.5 * torch.einsum("bd,kde,be->bk", z, a, z)

    x = torch.rand(10, T, F, generator=gen, dtype=torch.float64)
    cols = bound_columns(f, x, competitors="all", lanczos_iters=D, generator=gen)
    ru_cols = bound_columns(f, x, competitors="runner-up", lanczos_iters=D, generator=gen)
    z = x.flatten(1)
    for i in range(x.shape[0]):
        logits = f(x[i : i + 1])[0]
        p = int(logits.argmax())
        radii = {}
        for k in range(L):
            if k == p:
                continue
            t_k = float(logits[p] - logits[k])
            j_k = (g[p] - g[k] + (a[p] - a[k]) @ z[i]).numpy()
            radii[k] = exact_distance(t_k, j_k, (a[p] - a[k]).numpy()).radius
        r_star = min(radii.values())
        ru = min(radii, key=lambda k: float(logits[p] - logits[k]) if k != p else math.inf)
        assert int(cols["runner_up"][i]) == ru
        assert float(cols["lower"][i]) <= r_star * (1 + 1e-8)
        assert r_star <= float(cols["best"][i]) * (1 + 1e-8) <= float(cols["upper"][i]) * (1 + 1e-8)
        # runner-up columns agree with the dense runner-up model
        m_ru = (a[ru] - a[p]).numpy()
        assert float(cols["v"][i]) == pytest.approx(np.linalg.eigvalsh(m_ru)[-1], rel=1e-8)
        assert float(cols["t"][i]) == pytest.approx(float(logits[p] - logits[ru]), rel=1e-10)
        assert float(ru_cols["lower"][i]) == pytest.approx(float(cols["lower_runner_up"][i]))
        # the best witness is a real boundary point of the network for its class
        w = cols["witness"][i]
        if math.isfinite(float(cols["best"][i])):
            assert float(w.norm()) == pytest.approx(float(cols["best"][i]), rel=1e-8)
            k = int(cols["best_class"][i])
            moved = f((x[i] + w)[None])[0]
            assert float(moved[p] - moved[k]) == pytest.approx(0.0, abs=1e-8)



def _rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(path.read_text().splitlines()))


def _analyze(run: Path, out: Path, n: int, *extra: str) -> int:
    return main(
        ["analyze", str(run), "--n", str(n), "--batch-size", "3", "--fmn-steps", "10"]
        + ["--lanczos-iters", "8", "--profile-n", "2", "--out", str(out), "--quiet"]
        + ["--device", "cpu", *extra]
    )


def test_analyze_command_writes_rows_summary_plots_and_resumes(
    tiny_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "an"
    assert _analyze(tiny_run, out, 6) == 0
    brief = json.loads(capsys.readouterr().out)
    assert brief["inputs"] == 6
    rows = _rows(out / "rows.csv")
    assert [int(r["index"]) for r in rows] == list(range(6))
    for r in rows:
        lower, meas, upper = float(r["lower"]), float(r["measured"]), float(r["upper"])
        assert 0 <= lower and float(r["best"]) <= upper
        assert r["lower_ok"] == str(lower <= meas) and r["upper_ok"] == str(meas <= upper)
        assert float(r["lower"]) <= float(r["lower_runner_up"]) + 1e-12
        assert float(r["fmn"]) <= float(r["deepfool_refined"]) <= float(r["deepfool"])
    summary = json.loads((out / "summary.json").read_text())
    finite = [r for r in rows if math.isfinite(float(r["measured"]))]
    frac = sum(float(r["lower"]) <= float(r["measured"]) for r in finite) / len(finite)
    assert summary["bracket"]["lower_le_measured"] == pytest.approx(frac)
    assert summary["time_steps"]["inputs_with_curvature"] == 2
    assert len(summary["time_steps"]["mean_grad_norm"]) == 28
    for name in ("bounds_vs_measured.png", "curvature_hist.png", "time_steps.png"):
        assert (out / name).stat().st_size > 1000
    # resume: nothing recomputed for done inputs, new ones appended
    assert _analyze(tiny_run, out, 6, "--no-plots") == 0
    assert len(_rows(out / "rows.csv")) == 6
    assert _analyze(tiny_run, out, 9, "--no-plots") == 0
    rows = _rows(out / "rows.csv")
    assert sorted(int(r["index"]) for r in rows) == list(range(9))
    assert json.loads((out / "summary.json").read_text())["inputs"] == 9


def test_analyze_user_errors(
    tiny_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["analyze", str(tmp_path / "missing"), "--quiet"]) == 2
    assert "model.json missing" in capsys.readouterr().err
    assert main(["analyze", str(tiny_run), "--competitors", "some", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown competitors") and err.count("\n") == 1
