"""Headless Chromium opens the report of an MNIST run, a JapaneseVowels run and a two-model
comparison: no console errors, every image decodes, and the headline block and badges show the
numbers of the run's own JSON results. ``SEQROBUST_WRITE_SCREENSHOTS=1`` also takes 1280-px
screenshots into ``docs/img/`` (``report.png``, ``report-series.png``,
``report-comparison.png``)."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from report_cases import report_runs

from seqrobust.cli import main

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars"]
DOCS_IMG = Path(__file__).parents[2] / "docs" / "img"
WIDTH = 1280


class Page(HTMLParser):
    """The machine-readable parts of a rendered report: headline items and badges per model,
    comparison rows, headings."""

    def __init__(self) -> None:
        super().__init__()
        self.model: str | None = None
        self.items: dict[str, list[dict[str, str]]] = {}
        self.checks: dict[str, dict[str, str]] = {}
        self.rows: list[str] = []
        self.headings: list[str] = []
        self._heading = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "section" and "data-model" in a:
            self.model = a["data-model"]
            self.items[self.model], self.checks[self.model] = [], {}
        elif tag == "div" and "data-key" in a and self.model is not None:
            self.items[self.model].append(a)
        elif tag == "li" and "data-check" in a and self.model is not None:
            self.checks[self.model][a["data-check"]] = a["data-status"]
        elif tag == "tr" and "data-model" in a:
            self.rows.append(a["data-model"])
        self._heading = tag in ("h1", "h2", "h3", "h4", "th")
        if self._heading:
            self.headings.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("h1", "h2", "h3", "h4", "th"):
            self._heading = False

    def handle_data(self, data: str) -> None:
        if self._heading:
            self.headings[-1] += data


def browse(report: Path, tmp: Path, *, height: int, keep: str) -> Page:
    """Open ``report`` in headless Chromium: no console error, every image decoded; with
    ``SEQROBUST_WRITE_SCREENSHOTS=1`` a ``WIDTH``-wide screenshot saved as ``docs/img/keep``."""
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install chromium); browser check skipped")
    flags = [*FLAGS, f"--user-data-dir={tmp / 'profile'}"]
    url = report.resolve().as_uri()
    dom = subprocess.run([CHROMIUM, *flags, "--enable-logging=stderr", "--v=0",
                          "--virtual-time-budget=5000", "--dump-dom", url],
                         capture_output=True, text=True, timeout=120, check=True)
    assert 'data-images-ok="yes"' in dom.stdout, "an image failed to decode"
    count = int(re.search(r'data-images="(\d+)"', dom.stdout).group(1))
    assert count == report.read_text().count("<img ") > 0
    errors = [ln for ln in dom.stderr.splitlines() if "CONSOLE" in ln and "ERROR" in ln.upper()]
    assert not errors, errors
    if os.environ.get("SEQROBUST_WRITE_SCREENSHOTS") == "1":
        shot = tmp / f"{report.stem}.png"
        subprocess.run([CHROMIUM, *flags, f"--window-size={WIDTH},{height}",
                        f"--screenshot={shot}", url], capture_output=True, timeout=120, check=True)
        png = shot.read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        assert struct.unpack(">II", png[16:24]) == (WIDTH, height)
        shutil.copyfile(shot, DOCS_IMG / keep)
    page = Page()
    page.feed(dom.stdout)
    return page


def _json(path: Path) -> dict:
    return json.loads(path.read_text())


def _item(page: Page, model: str, key: str, **match: float) -> dict[str, str]:
    found = [a for a in page.items[model] if a["data-key"] == key
             and all(float(a.get(f"data-{k}", "nan")) == v for k, v in match.items())]
    assert len(found) == 1, (key, match, page.items[model])
    return found[0]


def _worst(pgd: dict, square: dict, eps: float) -> float:
    """Worst case by hand: an input of the first ``n`` counts if neither attack fooled it."""
    n = min(pgd["n"], square["n"])
    k_p, k_s = pgd["eps"].index(eps), square["eps"].index(eps)
    alive = [pgd["first_fooled"][i] > k_p and square["first_fooled"][i] > k_s for i in range(n)]
    return sum(alive) / n


def _head(curve: dict, n: int, eps: float) -> float:
    """PGD's robust accuracy at ``eps`` on its first ``n`` inputs."""
    k = curve["eps"].index(eps)
    return sum(f > k for f in curve["first_fooled"][:n]) / n


def check_against_results(page: Page, run: Path, label: str, radii: list[float]) -> None:
    """The headline and badges of ``label`` equal what the run's JSON files say."""
    meta = _json(run / "model.json")["meta"]
    summary = _json(run / "analyze" / "summary.json")
    pgd = _json(run / "attacks" / "pgd" / "curve.json")
    square = _json(run / "attacks" / "square" / "curve.json")
    p, s = pgd["curve"], square["curve"]
    clean = _item(page, label, "clean")
    assert float(clean["data-value"]) == pytest.approx(meta["test_accuracy"])
    for eps in radii:
        r = _item(page, label, "robust", eps=eps)
        assert float(r["data-pgd"]) == pytest.approx(p["accuracy"][p["eps"].index(eps)])
        assert int(r["data-pgd-n"]) == p["n"]
        assert float(r["data-worst"]) == pytest.approx(_worst(p, s, eps))
        assert int(r["data-worst-n"]) == s["n"]
    q = summary["attacks"]["measured"]["norm"]
    dist = _item(page, label, "distance")
    assert float(dist["data-value"]) == pytest.approx(q["q50"])
    assert int(dist["data-n"]) == summary["attacked"]
    bracket = _item(page, label, "bracket")
    assert float(bracket["data-value"]) == pytest.approx(
        summary["bracket"]["lower_le_measured_le_upper"])
    assert float(bracket["data-lower"]) == pytest.approx(summary["bracket"]["lower_le_measured"])
    curv = _item(page, label, "curvature")
    assert float(curv["data-value"]) == pytest.approx(summary["curvature"]["v"]["q50"])
    train = _item(page, label, "training")
    assert float(train["data-seconds"]) == pytest.approx(meta["elapsed"])
    checks = page.checks[label]
    status = {c["name"]: c["status"] for c in pgd["checks"]}
    assert checks["robust accuracy ≤ clean accuracy"] == status["robust <= clean"]
    assert checks["robust accuracy non-increasing in ε"] == status["non-increasing in eps"]
    gap = max(_head(p, s["n"], e) - a for e, a in zip(s["eps"], s["accuracy"], strict=True))
    assert checks["no gradient masking (Square not better than white-box)"] == (
        "fail" if gap > 0.01 else "pass")
    assert checks["PGD near APGD (white-box attack strong enough)"] == "n/a"
    assert all(not re.search(r"[a-z]+_[a-z]+", h) for h in page.headings), page.headings


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return report_runs(tmp_path_factory)


def test_mnist_report_leads_with_the_answer(runs: dict[str, Path], tmp_path: Path) -> None:
    run = runs["mnist"]
    assert main(["report", str(run), "--gallery", "1"]) == 0
    report = run / "report.html"
    text = report.read_text()
    section = text.split('<section class="model"', 1)[1]
    assert section.index('class="headline"') < section.index("<h3>Sanity checks</h3>") < \
        section.index("<h3>Pictures</h3>") < section.index("<h3>Raw summaries</h3>")
    assert section.index("Most vulnerable inputs") < section.index("<h3>Raw summaries</h3>")
    page = browse(report, tmp_path, height=1800, keep="report.png")
    check_against_results(page, run, "mnist", [8.0, 16.0, 30.0])
    checks = page.checks["mnist"]
    assert checks["padding semantics checked"] == "n/a"  # MNIST rows: nothing is padded
    with open(run / "analyze" / "rows.csv", newline="") as fh:
        residual = max(float(r["lanczos_rel_residual"]) for r in csv.DictReader(fh))
    assert checks["Lanczos residuals small (curvature converged)"] == (
        "pass" if residual <= 0.1 else "fail")
    if "fail" in checks.values():  # a failed check is visible before the headline
        assert section.index('class="alert"') < section.index('class="headline"')
    machine = json.loads(re.search(r'id="seqrobust-report">(.*?)</script>', text, re.S).group(1))
    head = machine["models"][0]["headline"]
    assert head["clean"] == pytest.approx(float(_item(page, "mnist", "clean")["data-value"]))
    assert {c["label"]: c["status"] for c in machine["models"][0]["checks"]} == checks


def test_series_report_draws_channels_and_checks_padding(
    runs: dict[str, Path], tmp_path: Path
) -> None:
    run = runs["vowels"]
    out = tmp_path / "vowels.html"
    assert main(["report", str(run), "--gallery", "2", "--out", str(out)]) == 0
    page = browse(out, tmp_path, height=1800, keep="report-series.png")
    check_against_results(page, run, "vowels", [0.1, 0.25, 0.5])
    assert page.checks["vowels"]["padding semantics checked"] == "pass"
    text = out.read_text()
    assert "trimmed: cutting each input to its real steps" in text
    gallery = text.split('<div class="gallery">', 1)[1].split("</div>", 1)[0]
    assert gallery.count("<figure>") == 2 and "training std" in gallery


def test_comparison_starts_with_one_table(runs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "comparison.html"
    argv = ["report", str(runs["mnist"]), str(runs["hessian"]), "--gallery", "0", "--out",
            str(out)]
    assert main(argv) == 0
    text = out.read_text()
    assert text.index("<h2>Comparison</h2>") < text.index('<section class="model"')
    page = browse(out, tmp_path, height=1500, keep="report-comparison.png")
    assert page.rows == ["mnist", "hessian"]
    assert "PGD, ε = 8" in page.headings and "ε in pixels (0–255)" in text
    table = text.split('<table class="comparison">', 1)[1].split("</table>", 1)[0]
    for name in ("mnist", "hessian"):
        acc = _json(runs[name] / "model.json")["meta"]["test_accuracy"]
        row = table.split(f'data-model="{name}"', 1)[1].split("</tr>", 1)[0]
        assert f"{100 * acc:.2f} %" in row
        check_against_results(page, runs[name], name, [8.0, 16.0, 30.0])
    assert "Hessian penalty" in table and "λ = 0.01" in table
    assert "one colour per model" in text
