"""Run folders: kill and resume (at every write point), old folders, finished runs, locks and
non-finite losses."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from training_cases import (
    DATA,
    OLD_CONFIG,
    OLD_DIGEST,
    OLD_TEST_ACCURACY,
    RESUMED_DIGESTS,
    SMALL,
    golden_digest,
    metrics_without_time,
    weights_digest,
)

import seqrobust.training.run as run_module
from seqrobust import _safeio
from seqrobust.training import NonFiniteLoss, TrainConfig, ensure_trained, load_model, train
from seqrobust.training.checkpoint import load_file_tensors
from seqrobust.training.lock import run_lock

TINY = dict(
    dataset="mnist-subset",
    hidden=16,
    epochs=2,
    batch_size=100,
    train_limit=600,
    test_limit=200,
    log_every=2,
    seed=3,
    dropout=0.1,
    layers=2,
)
class Killed(BaseException):
    """A simulated kill (not an Exception: nothing may catch it)."""


def _kill_at(point: int) -> Callable[[str], None]:
    """A fault hook that kills at its ``point``-th call (0-based)."""
    calls = itertools.count()

    def kill(label: str) -> None:
        if next(calls) == point:
            raise Killed(label)

    return kill


def test_kill_and_resume_gives_identical_weights(tmp_path):
    cfg = TrainConfig(**TINY, checkpoint_every=4)
    full = train(cfg, tmp_path / "full", progress=False)
    assert full.completed and full.steps == 12
    killed = train(cfg, tmp_path / "killed", progress=False, stop_after_steps=8)
    assert not killed.completed and not (tmp_path / "killed" / "model.json").exists()
    resumed = train(cfg, tmp_path / "killed", resume=True, progress=False)
    assert resumed.completed and resumed.test_accuracy == full.test_accuracy
    a = load_file_tensors(tmp_path / "full" / "model")
    b = load_file_tensors(tmp_path / "killed" / "model")
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    assert metrics_without_time(tmp_path / "killed") == metrics_without_time(tmp_path / "full")
    assert sorted(p.name for p in (tmp_path / "killed" / "ckpt").iterdir()) == [
        "last.json", "step-00000012.safetensors"]


def test_a_kill_at_any_write_point_resumes_to_identical_weights(tmp_path, monkeypatch):
    """Kill (raise) at each of the run's write/fsync/rename/remove points in turn, then
    resume as the studies do (:func:`ensure_trained`): the same weights, metrics and test
    accuracy as an uninterrupted run, every time."""
    monkeypatch.setattr(os, "fsync", lambda fd: None)  # in-process kills: durability moot
    reference = train(SMALL, tmp_path / "reference", progress=False)
    labels: list[str] = []
    monkeypatch.setattr(_safeio, "FAULT_HOOK", labels.append)
    train(SMALL, tmp_path / "count", progress=False)
    assert len(labels) == 60 and labels[-1] == "model.json: fsync-dir"
    for point, label in enumerate(labels):
        run = tmp_path / f"kill{point}"
        monkeypatch.setattr(_safeio, "FAULT_HOOK", _kill_at(point))
        with pytest.raises(Killed, match=label):
            train(SMALL, run, progress=False)
        monkeypatch.setattr(_safeio, "FAULT_HOOK", _safeio._no_fault)
        ensure_trained(SMALL, run)
        assert weights_digest(run) == weights_digest(tmp_path / "reference"), label
        assert metrics_without_time(run) == metrics_without_time(tmp_path / "reference"), label
        meta = json.loads((run / "model.json").read_text())["meta"]
        assert meta["test_accuracy"] == reference.test_accuracy, label
        assert not (run / ".lock").exists()


def test_resume_after_the_last_checkpoint_finishes_without_nan(tmp_path, monkeypatch):
    reference = train(SMALL, tmp_path / "reference", progress=False)

    def kill(label: str) -> None:
        if label == "model.safetensors: rename":
            raise Killed

    monkeypatch.setattr(_safeio, "FAULT_HOOK", kill)
    with pytest.raises(Killed):
        train(SMALL, tmp_path / "run", progress=False)
    monkeypatch.setattr(_safeio, "FAULT_HOOK", _safeio._no_fault)
    resumed = train(SMALL, tmp_path / "run", resume=True, progress=False)
    assert resumed.completed and resumed.steps == 4 and not resumed.already_finished
    assert resumed.test_accuracy == reference.test_accuracy  # recomputed, not NaN
    assert weights_digest(tmp_path / "run") == weights_digest(tmp_path / "reference")


def test_resume_of_a_finished_run_keeps_its_numbers(tmp_path):
    first = train(SMALL, tmp_path / "run", progress=False)
    files = {p.name: p.read_bytes() for p in (tmp_path / "run").rglob("*") if p.is_file()}
    again = train(SMALL, tmp_path / "run", resume=True, progress=False)
    assert again.already_finished and again.completed
    assert (again.test_accuracy, again.steps) == (first.test_accuracy, first.steps)
    assert again.train_seconds == first.train_seconds
    assert first.val_accuracy is None and again.val_accuracy is None  # no --val-fraction
    assert "val_accuracy" not in json.loads(files["model.json"])["meta"]
    assert {p.name: p.read_bytes() for p in (tmp_path / "run").rglob("*") if p.is_file()} == files


def test_a_validation_hold_out_is_left_out_of_training_and_scored(raw_run, tmp_path):
    from seqrobust.data import load_dataset, split_validation
    from seqrobust.training import accuracy

    model, cfg = load_model(raw_run)
    assert (cfg.units, cfg.val_fraction, cfg.seed, cfg.batch_size) == ("raw", 0.25, 2, 16)
    whole = load_dataset("ItalyPowerDemand", split="train", units="raw")
    fit, val = split_validation(whole, 0.25, seed=0)  # split seed 0 whatever --seed says
    assert (len(whole), len(fit), len(val)) == (67, 50, 17)
    for other_seed in (cfg, replace(cfg, seed=5)):
        got_fit, got_val = run_module.load_train_data(other_seed)
        assert got_val is not None and torch.equal(got_val.inputs, val.inputs)
        assert torch.equal(got_fit.inputs, fit.inputs)
    meta = json.loads((raw_run / "model.json").read_text())["meta"]
    assert meta["step"] == 2 * 4  # ceil(50 / 16) steps per epoch: the fit part only
    assert meta["val_accuracy"] == accuracy(model, val)
    assert meta["data"]["units"] == "raw" and "standardization" not in meta["data"]
    copy = tmp_path / "raw"
    shutil.copytree(raw_run, copy)
    again = train(cfg, copy, resume=True, progress=False)
    assert again.already_finished and again.val_accuracy == meta["val_accuracy"]
    assert again.test_accuracy == meta["test_accuracy"]


def _old(tmp_path: Path, name: str) -> Path:
    folder = tmp_path / name
    shutil.copytree(DATA / name, folder)
    return folder


def test_old_folders_load_and_resume_bit_identically(tmp_path, one_thread):
    cfg = TrainConfig(**OLD_CONFIG)
    killed = _old(tmp_path, "old-killed")
    result = train(cfg, killed, resume=True, progress=False)
    assert result.completed and result.test_accuracy == OLD_TEST_ACCURACY
    expected = golden_digest(RESUMED_DIGESTS)
    assert weights_digest(killed) == expected
    finished = DATA / "old-finished"
    got, want = metrics_without_time(killed), metrics_without_time(finished)
    if expected == OLD_DIGEST:  # the machine that wrote the folders: the same bits
        assert got == want
    else:  # another CPU's kernels: the same log to float32 rounding
        assert len(got) == len(want)
        for row, ref in zip(got, want, strict=True):
            assert row == pytest.approx(ref, rel=1e-5)
    assert sorted(p.name for p in (killed / "ckpt").iterdir()) == [
        "last.json", "step-00000008.safetensors"]  # the old pair is replaced
    model, saved = load_model(finished)
    assert saved == cfg and not model.training
    again = train(cfg, _old(tmp_path, "old-finished"), resume=True, progress=False)
    assert again.already_finished and again.test_accuracy == OLD_TEST_ACCURACY


def test_old_folder_killed_after_its_last_checkpoint_finishes_without_nan(tmp_path, one_thread):
    folder = _old(tmp_path, "old-finished")  # checkpoint at the last step, no final weights
    (folder / "model.json").unlink()
    (folder / "model.safetensors").unlink()
    result = train(TrainConfig(**OLD_CONFIG), folder, resume=True, progress=False)
    assert result.completed and result.test_accuracy == OLD_TEST_ACCURACY
    assert weights_digest(folder) == OLD_DIGEST


def test_training_learns_and_loads(tmp_path):
    cfg = TrainConfig(dataset="mnist-subset", hidden=64, epochs=2, batch_size=32, lr=3e-3, seed=0)
    result = train(cfg, tmp_path / "run", progress=False)
    assert result.test_accuracy > 0.6
    model, saved = load_model(tmp_path / "run")
    assert saved == cfg and not model.training


def test_refuses_to_overwrite_and_checks_resume(tmp_path):
    cfg = TrainConfig(**TINY)
    train(cfg, tmp_path / "r", progress=False, stop_after_steps=1)
    with pytest.raises(ValueError, match="already holds a run"):
        train(cfg, tmp_path / "r", progress=False)
    with pytest.raises(ValueError, match=r"different config: --seed 4 \(saved: 3\); omit them"):
        train(TrainConfig(**{**TINY, "seed": 4}), tmp_path / "r", resume=True, progress=False)
    with pytest.raises(ValueError, match="config.json: not found"):
        train(cfg, tmp_path / "none", resume=True, progress=False)
    assert not (tmp_path / "none").exists()
    resumed = train(TrainConfig(**{**TINY, "device": "cpu"}), tmp_path / "r", resume=True,
                    progress=False)  # the device may change
    assert resumed.completed
    assert TrainConfig.load(tmp_path / "r" / "config.json").device == "cpu"


def test_a_second_writer_is_refused_and_a_stale_lock_taken_over(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    with run_lock(run):
        with pytest.raises(ValueError, match=rf"^{run} is being written by process "
                                             rf"{os.getpid()} on "):
            train(SMALL, run, progress=False)
        assert not (run / "config.json").exists()
    dead = subprocess.Popen(["true"])
    dead.wait()
    (run / ".lock").write_text(json.dumps({"pid": dead.pid, "host": os.uname().nodename}))
    assert train(SMALL, run, progress=False).completed  # the dead holder's lock is stale
    assert not (run / ".lock").exists()


def test_non_finite_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    cfg = TrainConfig(**{**SMALL.to_json(), "reg": "hessian", "lam": 1.0, "checkpoint_every": 0})
    calls = itertools.count(1)

    def nan_at_step_3(_cfg, _data):
        def penalty(forward, x, y, *, generator):
            value = forward(x).square().mean()
            return value * float("nan") if next(calls) == 3 else value
        return penalty

    monkeypatch.setattr(run_module, "_penalty", nan_at_step_3)
    with pytest.raises(NonFiniteLoss, match=r"^.*run: training stopped at step 3 \(epoch 2\): "
                                            r"the loss became .* \(penalty nan\); lower the "
                                            r"learning rate or lam; the last good checkpoint "
                                            r"\(step 2\) is kept$"):
        train(cfg, tmp_path / "run", progress=False)
    model, _ = load_model(tmp_path / "run")  # the step-2 checkpoint, finite
    assert all(bool(torch.isfinite(p).all()) for p in model.parameters())
    assert not (tmp_path / "run" / "model.json").exists()
    assert not (tmp_path / "run" / ".lock").exists()
