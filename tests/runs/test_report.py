"""The HTML report builds from a tiny run, an unbounded aeon run and a foreign model, is
self-contained, and renders in a real browser."""

import hashlib
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from foreign_cases import model_args

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


def check_in_chromium(report: Path, profile: Path) -> None:
    """Headless Chromium opens ``report`` without console errors and decodes every image;
    skipped (with the reason) where Chromium is not installed."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed (apt-get install chromium); browser check skipped")
    url = report.resolve().as_uri()
    flags = [*CHROMIUM_FLAGS, f"--user-data-dir={profile}"]
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
    shot = profile.parent / f"{report.stem}.png"
    subprocess.run(
        [chromium, *flags, "--window-size=1200,1600", f"--screenshot={shot}", url],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000


def test_report_renders_in_headless_chromium(tiny_runs, tmp_path):
    run = tiny_runs[0]
    report = run / "report.html"
    if not report.exists():
        assert main(["report", str(run), "--gallery", "1"]) == 0
    check_in_chromium(report, tmp_path / "profile")


def test_report_on_an_unbounded_aeon_run(vowels_run, tmp_path):
    """Standardised JapaneseVowels has no bounds: the gallery's minimal adversarials clip to a
    range that never binds instead of failing on (-inf, inf)."""
    out = tmp_path / "vowels.html"
    assert main(["report", str(vowels_run), "--gallery", "2", "--out", str(out)]) == 0
    page = out.read_text()
    gallery = page.split("Gallery", 1)[1].split("Decision-boundary", 1)[0]
    assert gallery.count("<figure>") == 2
    check_in_chromium(out, tmp_path / "profile")


def test_report_on_a_foreign_model(foreign_files, tmp_path, capsys):
    """The report of a user's model reads its results from the folder of --out, laid out like
    a run folder, and shows where model and data came from."""
    args = model_args(foreign_files)
    attack = ["attack", *args, "--eps", "0.1,0.5", "--steps", "2", "--quiet"]
    assert main([*attack, "--out", str(tmp_path / "attacks" / "pgd")]) == 0
    out = tmp_path / "report.html"
    assert main(["report", *args, "--gallery", "2", "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip().endswith(str(out))
    page = out.read_text()
    for path in (foreign_files.packed_weights, foreign_files.data):
        assert hashlib.sha256(path.read_bytes()).hexdigest() in page
    assert "<h2>Model " in page and "Clean accuracy on the 12 inputs of data.npz" in page
    assert "No attack results yet" not in page and "<h4>pgd</h4>" in page
    hint = f"seqrobust analyze --model {foreign_files.model}:make_packed"
    assert hint in page and f"--out {tmp_path / 'analyze'}" in page
    gallery = page.split("Gallery", 1)[1].split("Decision-boundary", 1)[0]
    assert gallery.count("<figure>") == 2
    check_in_chromium(out, tmp_path / "profile")
