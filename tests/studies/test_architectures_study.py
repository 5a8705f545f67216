"""``reproduce architectures`` end to end on a tiny grid: selection on the validation split,
final models, measurements checked against direct computations, resume from the records."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from seqrobust.data import SequenceData, split_validation
from seqrobust.data.registry import load_dataset
from seqrobust.measure.robustness import AttackSettings, RobustnessCurve
from seqrobust.measure.worst_case import robust_mask, worst_case
from seqrobust.studies.architectures import ArchitecturesConfig, DataPlan, run_architectures
from seqrobust.studies.architectures.evaluate import ArchRow
from seqrobust.studies.architectures.runner import finished_rows
from seqrobust.studies.architectures.select import choose_lam
from seqrobust.studies.frontier.config import Method
from seqrobust.training import accuracy, load_model

pytest.importorskip("aeon")

CFG = replace(
    ArchitecturesConfig.quick(),
    datasets=(DataPlan("ItalyPowerDemand", epochs=2, seeds=(0, 1), n_attack=40, n_analyze=4),),
    archs=("gru",), modes=(Method("plain"), Method("hessian", "hessian", "fd", (1e-2, 1.0))),
    hidden=8, layers=1, extend=1, apgd_steps=5, square_queries=20, lanczos_iters=5, fmn_steps=5,
)


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("arch")
    run_architectures(CFG, out, device="cpu", progress=False)
    return out


def test_selection_uses_validation_and_the_rule(study: Path) -> None:
    folder = study / "records" / "ItalyPowerDemand" / "gru"
    sel = {p.stem: json.loads(p.read_text()) for p in folder.glob("select-*.json")}
    # the grid is tried from the top down to the first λ within the tolerance; extend=1 adds
    # one more decade when the top passes
    base = {"select-hessian-lam1-s0", "select-plain-s0"}
    assert base <= set(sel) <= base | {"select-hessian-lam0.01-s0", "select-hessian-lam10-s0"}
    assert all(r["train"]["val_fraction"] == 0.25 and r["train"]["units"] == "raw"
               for r in sel.values())
    # the recorded validation accuracy is the model's accuracy on the seed-0 split
    train = load_dataset("ItalyPowerDemand", split="train", units="raw")
    _, val = split_validation(train, 0.25, seed=0)
    run = study / "ItalyPowerDemand" / "gru" / "runs" / "select-hessian-lam1-s0"
    model, _ = load_model(run)
    assert sel["select-hessian-lam1-s0"]["val_accuracy"] == pytest.approx(accuracy(model, val))
    plain = sel["select-plain-s0"]["val_accuracy"]
    grid = {float(n.split("lam")[1].split("-")[0]): r["val_accuracy"] for n, r in sel.items()
            if "hessian" in n}
    top_passes = choose_lam(plain, {1.0: grid[1.0]}, tolerance=CFG.tolerance)[1]
    assert (1e-2 in grid) == (not top_passes)
    lam, _ = choose_lam(plain, {k: grid[k] for k in (1e-2, 1.0) if k in grid},
                        tolerance=CFG.tolerance)
    # the grid grows by a decade exactly when the rule picks its top
    assert (10.0 in grid) == (lam == 1.0)
    if lam == 1.0:
        lam, _ = choose_lam(plain, grid, tolerance=CFG.tolerance)
    rows, pending = finished_rows(CFG, study / "records")
    assert pending == [] and len(rows) == 4
    assert [(r.mode, r.seed) for r in rows] == [("plain", 0), ("plain", 1), ("hessian", 0),
                                                ("hessian", 1)]
    assert {r.lam for r in rows if r.mode == "hessian"} == {lam}


def test_a_final_record_of_another_lam_is_left_out(study: Path, tmp_path: Path) -> None:
    import shutil

    records = tmp_path / "records"
    shutil.copytree(study / "records", records)
    folder = records / "ItalyPowerDemand" / "gru"
    rows, _ = finished_rows(CFG, records)
    src = next(p for p in folder.glob("hessian-*-s0.json"))
    stale = json.loads(src.read_text())
    stale["row"]["lam"] = 0.5  # e.g. left over from an earlier grid
    (folder / "hessian-lam0.5-s0.json").write_text(json.dumps(stale))
    again, pending = finished_rows(CFG, records)
    assert again == rows and pending == []


def test_measurements_match_direct_computation(study: Path) -> None:
    rows, _ = finished_rows(CFG, study / "records")
    test = load_dataset("ItalyPowerDemand", split="test", units="raw")
    for r in rows:
        name = f"plain-s{r.seed}" if r.mode == "plain" else f"hessian-lam{r.lam:g}-s{r.seed}"
        run = study / "ItalyPowerDemand" / "gru" / "runs" / name
        cfg = json.loads((run / "config.json").read_text())
        assert cfg["val_fraction"] == 0.0 and cfg["seed"] == r.seed  # finals: all training data
        model, _ = load_model(run)
        assert r.clean == pytest.approx(accuracy(model, test))
        head = test.take(40)
        with torch.no_grad():
            clean40 = float((model(head.inputs).argmax(1) == head.labels).double().mean())
        assert r.worst <= min(r.fgsm, r.bim, r.at(CFG.datasets[0].eps)) <= clean40
        assert r.n_attack == 40 and r.n_analyze == 4
        assert r.v[0] <= r.v[1] <= r.v[2] and r.r[0] <= r.r[1] <= r.r[2] and r.j[1] > 0
        assert 0.0 <= r.bracket <= 1.0 or r.bracket != r.bracket
        _check_cascade(r, model, head, study / "ItalyPowerDemand" / "gru" / "evals" / name)


def _check_cascade(r: ArchRow, model: torch.nn.Module, head: SequenceData, evals: Path) -> None:
    """APGD and Square ran only on the inputs every earlier attack failed to fool, and the
    worst case agrees with every attack run on every input (up to their random draws)."""
    eps = CFG.datasets[0].eps

    def load(tag: str) -> RobustnessCurve:
        return RobustnessCurve.from_json(json.loads((evals / f"{tag}.json").read_text())["value"])

    cheap = [load(t) for t in ("fgsm", "bim", "pgd")]
    alive = robust_mask(cheap, eps)
    apgd = load("apgd-ce")
    assert apgd.n == int(alive.sum()) and apgd.eps == (eps,)
    alive[torch.nonzero(alive).flatten()] &= robust_mask([apgd], eps)
    if alive.any():
        assert load("square").n == int(alive.sum())
    assert r.worst == pytest.approx(float(alive.double().mean()))
    settings = [a.settings for a in cheap] + [
        AttackSettings(attack=a, steps=CFG.apgd_steps, queries=CFG.square_queries, seed=r.seed)
        for a in ("apgd-ce", "square")]
    full = worst_case(model, head, eps=cheap[2].eps, attacks=settings)
    assert abs(full.at(eps) - r.worst) <= 2 / len(head)


def test_report_and_resume_from_records_only(study: Path, tmp_path: Path) -> None:
    text = (study / "architectures.md").read_text()
    assert "Fawaz et al., IJCNN 2019 (published)" in text and "| 95.9 | 92.5 | 91.6 |" in text
    assert "4 of 4 final models recorded" in text
    assert (study / "architectures.png").read_bytes()[:4] == b"\x89PNG"
    header = (study / "architectures.csv").read_text().splitlines()[0]
    assert header.startswith("dataset,arch,mode,lam,seed,clean,fgsm,bim,pgd,worst")
    # a fresh machine: only the committed records; nothing is trained again
    fresh = tmp_path / "fresh"
    report = run_architectures(CFG, fresh, device="cpu", progress=False,
                               records=study / "records")
    assert not (fresh / "ItalyPowerDemand").exists()
    assert report.read_text().split("## Configuration")[0] == text.split("## Configuration")[0]
    # a record of another recipe is refused, naming the file
    other = replace(CFG, hidden=16)
    with pytest.raises(ValueError, match="another recipe"):
        run_architectures(other, tmp_path / "other", device="cpu", progress=False,
                          records=study / "records")


def test_cli_reproduce_architectures(study: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    from seqrobust.cli import main

    monkeypatch.setattr(ArchitecturesConfig, "quick", classmethod(lambda cls: CFG))
    assert main(["reproduce", "architectures", "--quick", "--out", str(study), "--quiet",
                 "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "## Verdict" in out and "ItalyPowerDemand: ρ" in out and "architectures.csv" in out
    assert main(["reproduce", "architectures", "--quick", "--out", str(study), "--quiet",
                 "--shard", "3/2"]) == 2
    assert "shard" in capsys.readouterr().err


def test_further_seeds_do_not_depend_on_the_schedule(study: Path, tmp_path: Path) -> None:
    """The second pass runs one task per final model; run in another order, in a fresh run
    folder, they record the same measurements."""
    import shutil

    from seqrobust.studies.architectures.runner import unit_task

    records = tmp_path / "records"
    shutil.copytree(study / "records", records)
    folder = records / "ItalyPowerDemand" / "gru"
    for p in folder.glob("*-s1.json"):
        p.unlink()
    for mode in ("hessian", "plain"):  # the reverse of the first run's order
        unit_task(CFG, 0, tmp_path / "out", records, "cpu", (1,), (mode,), False)

    def rows(root: Path) -> dict[str, dict[str, object]]:
        found = {}
        for p in (root / "ItalyPowerDemand" / "gru").glob("*-s1.json"):
            row = json.loads(p.read_text())["row"]
            found[p.name] = {k: v for k, v in row.items() if not k.endswith("seconds")}
        return found

    assert len(rows(records)) == 2 and rows(records) == rows(study / "records")
