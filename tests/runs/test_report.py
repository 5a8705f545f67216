"""``seqrobust report`` loads run folders, foreign models' result folders and study folders
into the result objects the renderer takes; sections without data say how to produce them;
only regular files inside the folder are read and the report is never written through a
symlink. (The browser checks are in ``test_report_browser.py``.)"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest
from foreign_cases import model_args
from report_cases import report_runs

from seqrobust.cli import main
from seqrobust.measure.robustness import RobustnessCurve
from seqrobust.runs.report import build_report, load_analysis, load_curves, load_noise

REPO = Path(__file__).parents[2]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return report_runs(tmp_path_factory)


def _copy_run(run: Path, dest: Path, *, results: tuple[str, ...] = ()) -> Path:
    """The run's model files and its result folders named in ``results`` in ``dest``."""
    keep = {"config.json", "model.json", "model.safetensors", "metrics.jsonl"}
    dest.mkdir(parents=True)
    for path in run.iterdir():
        if path.name in keep:
            shutil.copy(path, dest / path.name)
        elif path.is_dir() and path.name in results:
            shutil.copytree(path, dest / path.name)
    return dest


def test_folders_load_into_the_result_objects(runs: dict[str, Path]) -> None:
    run, notes = runs["vowels"], []
    analysis = load_analysis(run, notes)
    stored = (run / "analyze" / "rows.csv").read_bytes().decode()
    assert analysis is not None and analysis.csv() == stored
    assert analysis.summary == json.loads((run / "analyze" / "summary.json").read_text())
    header = (run / "analyze" / "profile.csv").read_text().splitlines()[0].split(",")
    assert analysis.steps == sum(c.startswith("grad_") for c in header) > 0
    assert len(analysis.profile) == len(analysis.rows) == 6
    curves = load_curves(run, notes)
    assert [c.settings.attack for c in curves] == ["pgd", "square"]
    record = json.loads((run / "attacks" / "pgd" / "curve.json").read_text())
    assert curves[0] == RobustnessCurve.from_json(record["curve"])
    noise = load_noise(run, notes)
    stored = json.loads((run / "noise" / "noise.json").read_text())
    assert noise is not None and noise.to_json()["summary"] == stored["summary"]
    assert noise.to_json()["inputs"] == stored["inputs"] and not notes


def test_sections_without_data_say_how(tiny_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    assert main(["report", str(tiny_run), "--gallery", "0", "--out", str(out)]) == 0
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>") and 'class="headline"' in page
    for command in ("seqrobust analyze", "seqrobust attack", "seqrobust noise",
                    "seqrobust plot boundary"):
        assert f"{command} {tiny_run}" in page
    assert "no attack ran" in page and "not measured (no geometry analysis)" in page
    sources = re.findall(r'src="([^"]+)"', page)
    assert len(sources) >= 1 and all(s.startswith("data:image/png;base64,") for s in sources)
    assert "http://" not in page and "https://" not in page
    assert main(["report", str(tmp_path / "not-a-run")]) == 2


def test_an_unfinished_run_says_so(tiny_run: Path, tmp_path: Path) -> None:
    run = _copy_run(tiny_run, tmp_path / "run")
    (run / "model.json").unlink()
    out = build_report([run], tmp_path / "r.html", gallery=2)
    page = out.read_text()
    assert "The run has not finished" in page and f"--out {run} --resume" in page
    assert '<div class="gallery">' not in page


def test_symlinks_are_refused(runs: dict[str, Path], tmp_path: Path) -> None:
    """A result file that is a symlink is not embedded (the page names it); the report is not
    written through a symlink."""
    run = _copy_run(runs["mnist"], tmp_path / "run", results=("attacks",))
    outside = tmp_path / "outside.json"
    shutil.move(run / "attacks" / "square" / "curve.json", outside)
    (run / "attacks" / "square" / "curve.json").symlink_to(outside)
    out = build_report([run], tmp_path / "r.html", gallery=0)
    page = out.read_text()
    assert "skipped attacks/square/curve.json" in page and "symlink" in page
    assert "Square (black-box) (n=" not in page  # the refused curve is not drawn
    link = tmp_path / "link.html"
    link.symlink_to(tmp_path / "target.html")
    assert main(["report", str(run), "--gallery", "0", "--out", str(link)]) == 2
    assert not (tmp_path / "target.html").exists()


def test_report_on_a_foreign_model(foreign_files, tmp_path: Path, capsys) -> None:
    """The report of a user's model reads its results from the folder of --out, laid out like
    a run folder, and shows where model and data came from."""
    args = model_args(foreign_files)
    attack = ["attack", *args, "--eps", "0.1,0.5", "--steps", "2", "--quiet"]
    assert main([*attack, "--out", str(tmp_path / "attacks" / "pgd")]) == 0
    out = tmp_path / "report.html"
    assert main(["report", *args, "--gallery", "1", "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip().endswith(str(out))
    page = out.read_text()
    for path in (foreign_files.packed_weights, foreign_files.data):
        assert hashlib.sha256(path.read_bytes()).hexdigest() in page
    assert "trained outside seqrobust" in page and "n=12 inputs of data.npz" in page
    assert "No robustness curve yet" not in page and 'data-key="robust"' in page
    assert f"seqrobust analyze --model {foreign_files.model}:make_packed" in page
    assert f"--out {tmp_path / 'analyze'}" in page
    assert 'data-status="pass"' in page.split('data-check="padding semantics checked"')[1][:60]
    gallery = page.split('<div class="gallery">', 1)[1].split("</div>", 1)[0]
    assert gallery.count("<figure>") == 1


def _curve_json(curve: dict, label: str) -> str:
    return json.dumps({**curve, "label": label})


def test_a_figure7_folder_compares_its_models(runs: dict[str, Path], tmp_path: Path) -> None:
    """``runs/figure7``-style: ``curves/NAME-ATTACK.json`` (with per-input records) and
    ``runs/NAME``; then the same from ``figure7.csv`` alone."""
    study = tmp_path / "figure7"
    for name, label, run in (("plain", "plain", runs["mnist"]),
                             ("hessian-lam0.01", "hessian (λ=0.01)", runs["hessian"])):
        (study / "curves").mkdir(parents=True, exist_ok=True)
        for attack in ("pgd", "square"):
            record = json.loads((run / "attacks" / attack / "curve.json").read_text())
            (study / "curves" / f"{name}-{attack}.json").write_text(
                _curve_json(record["curve"], label))
        _copy_run(run, study / "runs" / name)
    page = build_report([study], study / "report.html").read_text()
    table = page.split('<table class="comparison">', 1)[1].split("</table>", 1)[0]
    assert table.count("<tr data-model=") == 2 and "Hessian penalty" in table
    assert page.count("data-worst=") >= 6  # worst case over PGD and Square, 3 radii each
    acc = json.loads((runs["hessian"] / "model.json").read_text())["meta"]["test_accuracy"]
    assert f"{100 * acc:.2f} %" in table
    # figure7.csv only: per-attack curves, no worst case
    csv_only = tmp_path / "csv-only"
    csv_only.mkdir()
    lines = (REPO / "docs" / "results" / "figure7.csv").read_text().splitlines()
    kept = [ln for ln in lines[1:] if ln.startswith(("plain,", "hessian (λ=0.01),"))]
    (csv_only / "figure7.csv").write_text("\n".join([lines[0], *kept]) + "\n")
    page = build_report([csv_only], csv_only / "report.html", gallery=0).read_text()
    assert page.count("<tr data-model=") == 2 and "no worst case over attacks" in page
    clean = next(ln for ln in kept if ln.startswith("plain,pgd,") and ln.split(",")[3] == "0")
    assert f"{100 * float(clean.split(',')[4]):.2f} %" in page


def test_a_frontier_folder_has_a_row_per_model(tmp_path: Path) -> None:
    """The frontier's records (real ones from docs/results), then its ``frontier.csv`` alone."""
    source = REPO / "docs" / "results" / "frontier"
    names = sorted(p.name for p in (source / "records").glob("*.json"))[:2]
    (tmp_path / "a" / "records").mkdir(parents=True)
    for name in names:
        shutil.copy(source / "records" / name, tmp_path / "a" / "records" / name)
    page = build_report([tmp_path / "a"], tmp_path / "a.html", gallery=0).read_text()
    assert page.count("<tr data-model=") == len(names)
    for name in names:
        row = json.loads((source / "records" / name).read_text())["row"]
        section = page.split(f'<section class="model" data-model="{name[:-5]}"', 1)[1]
        assert f'data-key="clean" data-value="{row["clean"]}"' in section
        worst = dict(row["worst"])[16.0]
        assert f'data-eps="16.0" data-pgd="{dict(row["pgd"])[16.0]}" data-worst="{worst}"' \
            in section
    (tmp_path / "b").mkdir()
    lines = (source / "frontier.csv").read_text().splitlines()[:3]
    (tmp_path / "b" / "frontier.csv").write_text("\n".join(lines) + "\n")
    page = build_report([tmp_path / "b"], tmp_path / "b.html", gallery=0).read_text()
    assert page.count("<tr data-model=") == 2
    first = lines[1].split(",")
    assert f"{first[4]} %" in page  # clean accuracy of the first model
