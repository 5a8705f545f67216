"""The frontier study runner end to end on a tiny task: outputs, caching, resume after a kill,
determinism per seed and the CLI."""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import torch

import seqrobust.studies.frontier.evaluate as frontier_eval
import seqrobust.studies.frontier.runner as frontier
import seqrobust.training.run as training_run
from seqrobust.cli import main
from seqrobust.studies.frontier import FrontierConfig, Method, run_frontier, run_name
from seqrobust.studies.frontier.format import csv_header
from seqrobust.studies.frontier.records import read_record

TINY = replace(
    FrontierConfig.quick(), epochs=1, hidden=8, train_limit=200, seeds=(0, 1),
    methods=(Method("plain"), Method("hessian-fd", "hessian", "fd", (1e-2,)),
             Method("jacobian", "jacobian", "fd", (1e-1,))),
    eps=(4.0, 8.0, 16.0, 30.0), n_test=30, steps=3, check_eps=(8.0, 16.0), check_n=20,
    apgd_steps=2, square_queries=5, curv_n=10, key_eps=(4.0, 16.0, 30.0),
)
TIMINGS = ("train_seconds", "attack_seconds")


class Killed(RuntimeError):
    pass


def _table(out: Path) -> list[dict[str, str]]:
    rows = list(csv.DictReader((out / "frontier.csv").read_text().splitlines()))
    return [{k: v for k, v in r.items() if k not in TIMINGS} for r in rows]


def _record_train(monkeypatch: pytest.MonkeyPatch, *, kill_at: int | None = None) -> list[Any]:
    """Wrap ``train`` (called by ``ensure_trained``): record (run name, resume) per call; on
    call ``kill_at`` train one step and die, like a killed process."""
    calls: list[Any] = []
    real = training_run.train
    count = [0]

    def fake(cfg: Any, run_dir: Path, *, resume: bool, progress: bool) -> Any:
        calls.append((Path(run_dir).name, resume))
        count[0] += 1
        if count[0] == kill_at:
            real(cfg, run_dir, resume=resume, progress=progress, stop_after_steps=1)
            raise Killed
        return real(cfg, run_dir, resume=resume, progress=progress)

    monkeypatch.setattr(training_run, "train", fake)
    return calls


@pytest.fixture(scope="module", autouse=True)
def threads_of_two_workers() -> Iterator[None]:
    """Every run in this module uses the thread count of one of two workers (the pool gives
    each ``cpu_count // workers``): float32 reductions differ with the thread count on some
    CPUs, and the tables here are compared to the last bit."""
    before = torch.get_num_threads()
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // 2))
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny study run once without interruption."""
    out = tmp_path_factory.mktemp("frontier-ref")
    run_frontier(TINY, out, device="cpu", progress=False)
    return out


def test_outputs_and_table_columns(reference: Path):
    names = [run_name(m, lam, s) for m, lam, s in TINY.models()]
    assert names[:3] == ["plain-s0", "hessian-fd-lam0.01-s0", "jacobian-lam0.1-s0"]
    header = (reference / "frontier.csv").read_text().splitlines()[0].split(",")
    assert header == csv_header(TINY.key_eps, TINY.check_eps)
    assert header[:5] == ["method", "estimator", "lam", "seed", "clean_pct"]
    assert {"worst_eps8_pct", "worst_eps16_pct", "auc_pct", "mean_hess_fro2", "mean_grad_norm",
            "train_seconds", "attack_seconds"} <= set(header)
    rows = list(csv.DictReader((reference / "frontier.csv").read_text().splitlines()))
    assert [(r["method"], r["seed"]) for r in rows] == [
        (m.name, str(s)) for m, _, s in TINY.models()]
    for r in rows:
        assert 0 <= float(r["worst_eps16_pct"]) <= float(r["worst_eps8_pct"]) <= 100
        assert float(r["mean_hess_fro2"]) > 0 and float(r["train_seconds"]) > 0
        assert r["n_pgd"] == "30" and r["n_check"] == "20"
    assert rows[1]["estimator"] == "fd" and rows[2]["estimator"] == ""
    # the two seeds give different models
    assert rows[0]["mean_hess_fro2"] != rows[3]["mean_hess_fro2"]
    text = (reference / "frontier.md").read_text()
    assert "**Verdict on robust accuracy at ε=16 (worst case over attacks): " in text
    assert "| hessian-fd | 0.01 | 2 |" in text and "## λ grid coverage" in text
    assert (reference / "frontier.png").stat().st_size > 5000


def test_killed_study_resumes_without_retraining(
    reference: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    calls = _record_train(monkeypatch, kill_at=2)
    with pytest.raises(Killed):
        run_frontier(TINY, tmp_path, device="cpu", progress=False)
    first = tmp_path / "runs" / "plain-s0" / "model.json"
    stamp = first.stat().st_mtime_ns
    assert not (tmp_path / "runs" / "hessian-fd-lam0.01-s0" / "model.json").exists()

    calls.clear()
    run_frontier(TINY, tmp_path, device="cpu", progress=False)
    names = [run_name(m, lam, s) for m, lam, s in TINY.models()]
    # the finished model is not retrained; the killed one resumes; the rest start fresh
    assert calls == [(names[1], True), *[(n, False) for n in names[2:]]]
    assert first.stat().st_mtime_ns == stamp
    # same numbers as the uninterrupted study: deterministic per seed, resume included
    assert _table(tmp_path) == _table(reference)

    # a rerun computes nothing: no training, no attack, no curvature
    calls.clear()
    evals = sorted((tmp_path / "evals").rglob("*.json"))
    stamps = [p.stat().st_mtime_ns for p in evals]

    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("recomputed a cached result")

    for name in ("robustness_curve", "curvature_summary", "accuracy"):
        monkeypatch.setattr(frontier_eval, name, forbidden)
    run_frontier(TINY, tmp_path, device="cpu", progress=False)
    assert calls == []
    assert [p.stat().st_mtime_ns for p in evals] == stamps
    assert _table(tmp_path) == _table(reference)

    # a different recipe in the same folder is refused, not mixed in
    with pytest.raises(ValueError, match="another recipe"):
        run_frontier(replace(TINY, epochs=2), tmp_path, device="cpu", progress=False)


def test_changed_settings_recompute_only_that_evaluation(
    reference: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    import shutil

    shutil.copytree(reference, tmp_path, dirs_exist_ok=True)
    calls = _record_train(monkeypatch)
    run_frontier(replace(TINY, curv_n=12), tmp_path, device="cpu", progress=False)
    assert calls == []
    rows = {(r["method"], r["seed"]): r for r in _table(tmp_path)}
    ref = {(r["method"], r["seed"]): r for r in _table(reference)}
    for key, row in rows.items():
        assert row["pgd_eps16_pct"] == ref[key]["pgd_eps16_pct"]
        assert row["mean_hess_fro2"] != ref[key]["mean_hess_fro2"]


def test_cli_reproduce_frontier(reference: Path, monkeypatch: pytest.MonkeyPatch, capsys):
    monkeypatch.setattr(FrontierConfig, "quick", classmethod(lambda cls: TINY))
    assert main(["reproduce", "frontier", "--quick", "--out", str(reference), "--quiet",
                 "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "**Verdict on PGD curve area: " in out and "frontier.csv" in out
    assert main(["reproduce", "frontier", "--quick", "--out", str(reference), "--quiet",
                 "--device", "tpu"]) == 2
    assert "unknown device 'tpu'" in capsys.readouterr().err


def _forbid_training(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("trained or evaluated a model that has a record")

    monkeypatch.setattr(frontier, "ensure_trained", forbidden)
    for name in ("robustness_curve", "curvature_summary", "accuracy"):
        monkeypatch.setattr(frontier_eval, name, forbidden)


def test_records_alone_resume_on_a_fresh_machine(
    reference: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    import shutil

    records = reference / "records"
    names = [run_name(m, lam, s) for m, lam, s in TINY.models()]
    assert sorted(p.stem for p in records.glob("*.json")) == sorted(names)
    record = read_record(records / "plain-s0.json")
    assert record is not None and len(record["weights_sha256"]) == 64
    assert record["cpu_seconds"] > 0 and "device" not in record["train"]
    # a fresh machine: only the committed records, no run folders, no caches
    shutil.copytree(records, tmp_path / "committed")
    _forbid_training(monkeypatch)
    run_frontier(TINY, tmp_path / "out", device="cpu", progress=False,
                 records=tmp_path / "committed")
    assert _table(tmp_path / "out") == _table(reference)
    assert not (tmp_path / "out" / "runs").exists()
    # a record of another recipe is refused, naming the field
    with pytest.raises(ValueError, match="another recipe.*epochs"):
        run_frontier(replace(TINY, epochs=2), tmp_path / "out2", device="cpu",
                     progress=False, records=tmp_path / "committed")
    # a damaged record is named
    (tmp_path / "committed" / "plain-s0.json").write_text("{not json")
    with pytest.raises(ValueError, match="plain-s0.json: not a valid record"):
        run_frontier(TINY, tmp_path / "out", device="cpu", progress=False,
                     records=tmp_path / "committed")


def test_shards_fill_one_records_folder(reference: Path, tmp_path: Path):
    from seqrobust.runs.shards import Shard

    run_frontier(TINY, tmp_path, device="cpu", progress=False, shard=Shard(1, 2))
    text = (tmp_path / "frontier.md").read_text()
    names = [run_name(m, lam, s) for m, lam, s in TINY.models()]
    # shard 1/2 holds models 1, 3, 5: no plain model of seed 0 yet, but plain-s1 (index 3)
    assert sorted(p.stem for p in (tmp_path / "records").glob("*.json")) == sorted(names[1::2])
    assert f"**Interim: 3 of {len(names)} models finished**" in text
    run_frontier(TINY, tmp_path, device="cpu", progress=False, shard=Shard(0, 2))
    assert "Interim" not in (tmp_path / "frontier.md").read_text()
    assert _table(tmp_path) == _table(reference)


def test_two_workers_give_the_same_table(reference: Path, tmp_path: Path):
    run_frontier(TINY, tmp_path, device="cpu", progress=False, workers=2)
    assert _table(tmp_path) == _table(reference)
    with pytest.raises(ValueError, match="workers must be a positive integer"):
        run_frontier(TINY, tmp_path, device="cpu", progress=False, workers=0)
