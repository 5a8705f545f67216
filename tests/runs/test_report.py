"""The HTML report builds from a tiny run, is self-contained, and renders in a real browser."""

import re
import shutil
import subprocess

import pytest

from seqrobust.cli import main
from seqrobust.training import TrainConfig, train

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def tiny_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    runs = []
    for seed in (0, 1):
        cfg = TrainConfig(
            dataset="mnist-subset", hidden=8, epochs=1, train_limit=200, test_limit=40, seed=seed
        )
        train(cfg, root / f"run{seed}", progress=False)
        runs.append(root / f"run{seed}")
    return runs


def test_report_is_self_contained(tiny_runs):
    run = tiny_runs[0]
    assert main(["report", str(run), "--gallery", "1"]) == 0
    page = (run / "report.html").read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert "Clean test accuracy" in page and "Gallery" in page
    # sections without data say how to produce them
    for command in (
        "seqrobust analyze",
        "seqrobust attack",
        "seqrobust noise",
        "seqrobust plot boundary",
    ):
        assert command in page
    # every image is embedded; nothing is fetched from anywhere
    sources = re.findall(r'src="([^"]+)"', page)
    assert len(sources) >= 2 and all(s.startswith("data:image/png;base64,") for s in sources)
    assert "http://" not in page and "https://" not in page


def test_report_compares_several_runs(tiny_runs, tmp_path):
    out = tmp_path / "both.html"
    assert main(["report", *map(str, tiny_runs), "--gallery", "0", "--out", str(out)]) == 0
    page = out.read_text()
    assert "<h2>Comparison</h2>" in page and page.count("<h2>Run ") == 2
    assert main(["report", str(tmp_path / "not-a-run")]) == 2


def test_report_renders_in_headless_chromium(tiny_runs, tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed (apt-get install chromium); browser check skipped")
    run = tiny_runs[0]
    report = run / "report.html"
    if not report.exists():
        assert main(["report", str(run), "--gallery", "1"]) == 0
    url = report.resolve().as_uri()
    flags = [*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run(
        [
            chromium,
            *flags,
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=5000",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert 'data-images-ok="yes"' in dom.stdout, "an image failed to decode"
    count = int(re.search(r'data-images="(\d+)"', dom.stdout).group(1))
    assert count == report.read_text().count("<img ")
    console_errors = [
        ln for ln in dom.stderr.splitlines() if "CONSOLE" in ln and "ERROR" in ln.upper()
    ]
    assert not console_errors, console_errors
    shot = tmp_path / "report.png"
    subprocess.run(
        [chromium, *flags, "--window-size=1200,1600", f"--screenshot={shot}", url],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
