"""``sr.report`` on in-memory results: the same headline, badges and pictures as a run folder's
report, the gallery and padding check from ``models=``, failed checks on top, free text
escaped, and one-line errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

import seqrobust as sr
from seqrobust.measure.worst_case import worst_case_accuracy
from seqrobust.runs.report_summary import ModelInfo
from seqrobust.training.fit import FitResult


def _attr(page: str, key: str, name: str) -> list[float]:
    return [float(v) for v in re.findall(rf'data-key="{key}"[^>]*? data-{name}="([^"]+)"', page)]


@pytest.fixture(scope="module")
def gru(foreign_files):
    """The user's packed GRU (``forward(x, lengths)``) and its padded data."""
    data = sr.SequenceData.from_arrays(foreign_files.x, foreign_files.y,
                                       lengths=foreign_files.lengths)
    return foreign_files.packed, data


def test_in_memory_results_lead_with_the_answer(gru, tmp_path: Path) -> None:
    model, data = gru
    analysis = sr.analyze(model, data, n=4, lanczos_iters=5, fmn_steps=10)
    pgd = sr.robustness_curve(model, data, eps=[0.1, 0.5], settings=sr.AttackSettings(steps=5))
    square = sr.robustness_curve(model, data, eps=[0.1, 0.5], n=8,
                                 settings=sr.AttackSettings(attack="square", queries=20))
    before = [p.clone() for p in model.parameters()]
    out = sr.report({"GRU": [analysis, pgd, square, ModelInfo(regulariser="hessian", lam=0.01),
                             FitResult((), 2.5, 10)]},
                    tmp_path / "r.html", models={"GRU": (model, data)}, gallery=1)
    page = out.read_text()
    assert _attr(page, "clean", "value") == [pytest.approx(pgd.clean_accuracy)]
    assert _attr(page, "robust", "pgd") == [pytest.approx(pgd.at(e)) for e in (0.1, 0.5)]
    assert _attr(page, "robust", "worst") == [
        pytest.approx(worst_case_accuracy([pgd, square], e)) for e in (0.1, 0.5)]
    q = analysis.summary["attacks"]["measured"]["norm"]
    assert _attr(page, "distance", "value") == [pytest.approx(q["q50"])]
    assert _attr(page, "training", "seconds") == [2.5] and "Hessian penalty" in page
    assert "λ = 0.01" in page and "model units" in page
    checks = dict(re.findall(r'data-check="([^"]+)" data-status="([^"]+)"', page))
    assert checks["padding semantics checked"] == "pass" and "trimmed" in page
    assert page.split('<div class="gallery">', 1)[1].count("<figure>") == 1
    assert all(torch.equal(a, b) and a.dtype == torch.float32
               for a, b in zip(before, model.parameters(), strict=True))  # model untouched


def test_two_models_start_with_a_comparison(tmp_path: Path) -> None:
    a = sr.RobustnessCurve("a", sr.AttackSettings(), (8.0, 16.0), (0.6, 0.3), 0.9, 50, 0.0)
    b = sr.RobustnessCurve("b", sr.AttackSettings(), (8.0, 16.0), (0.7, 0.5), 0.88, 50, 0.0)
    page = sr.report({"plain": [a, ModelInfo(regulariser="none")],
                      "regularised": [b, ModelInfo(regulariser="jacobian", lam=0.1)]},
                     tmp_path / "c.html").read_text()
    assert page.index("<h2>Comparison</h2>") < page.index('<section class="model"')
    assert re.findall(r'<tr data-model="([^"]+)"', page) == ["plain", "regularised"]
    assert "PGD, ε = 8" in page and "ε in pixels (0–255)" in page and "one colour per model" in page
    assert page.count("<img ") == 3  # the overlaid curves and one per model


def test_a_failed_check_is_at_the_top_and_text_is_escaped(tmp_path: Path) -> None:
    bad = sr.RobustnessCurve("x", sr.AttackSettings(), (1.0, 2.0), (0.9, 0.95), 0.8, 10, 0.0)
    label = "<script>alert(1)</script>"
    page = sr.report({label: [bad, ModelInfo(description="a <b>bold</b> claim")]},
                     tmp_path / "f.html").read_text()
    section = page.split('<section class="model"', 1)[1]
    assert section.index('class="alert"') < section.index('class="headline"')
    checks = dict(re.findall(r'data-check="([^"]+)" data-status="([^"]+)"', section))
    assert checks["robust accuracy ≤ clean accuracy"] == "fail"
    assert checks["robust accuracy non-increasing in ε"] == "fail"
    assert label not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>bold</b>" not in page and "a &lt;b&gt;bold&lt;/b&gt; claim" in page


def test_errors_are_one_line(tmp_path: Path) -> None:
    curve = sr.RobustnessCurve("x", sr.AttackSettings(), (1.0,), (0.5,), 0.8, 10, 0.0)
    with pytest.raises(ValueError, match="at least one result"):
        sr.report({}, tmp_path / "r.html")
    with pytest.raises(ValueError, match="int is not a seqrobust result"):
        sr.report({"m": [curve, 3]}, tmp_path / "r.html")  # type: ignore[list-item]
    with pytest.raises(ValueError, match=r"models= names \['other'\] have no results"):
        sr.report({"m": [curve]}, tmp_path / "r.html", models={"other": (None, None)})  # type: ignore[dict-item]
    link = tmp_path / "link.html"
    link.symlink_to(tmp_path / "elsewhere.html")
    with pytest.raises(ValueError, match="symlink"):
        sr.report([curve], link)
    assert not (tmp_path / "elsewhere.html").exists()
