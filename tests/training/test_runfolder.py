"""Run-folder services: metrics lines (a partial last line is dropped with a warning), config
files and the listener's records."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from training_cases import SMALL, metrics_without_time, weights_digest

from seqrobust.training import TrainConfig, train
from seqrobust.training.runfolder import read_metrics, truncate_metrics, write_config


def test_truncate_keeps_lines_up_to_the_step_verbatim(tmp_path: Path) -> None:
    lines = ['{"step": 2, "loss": 0.1}', '{"step": 2, "test_acc": NaN}', '{"step": 4, "x": 1}']
    (tmp_path / "metrics.jsonl").write_text("".join(ln + "\n" for ln in lines))
    truncate_metrics(tmp_path, 3)
    assert (tmp_path / "metrics.jsonl").read_text() == lines[0] + "\n" + lines[1] + "\n"
    truncate_metrics(tmp_path, 0)
    assert (tmp_path / "metrics.jsonl").read_text() == ""


def test_a_partial_last_line_is_dropped_with_a_warning(tmp_path: Path) -> None:
    (tmp_path / "metrics.jsonl").write_text('{"step": 2}\n{"step": 4, "lo')
    assert read_metrics(tmp_path) == [{"step": 2}]
    with pytest.warns(UserWarning, match=r"metrics\.jsonl: dropped a partial last line "
                                         r"\(15 characters; was the disk full\?\)"):
        truncate_metrics(tmp_path, 10)
    assert (tmp_path / "metrics.jsonl").read_text() == '{"step": 2}\n'


def test_resume_after_a_full_disk_left_half_a_line(tmp_path: Path) -> None:
    reference = tmp_path / "reference"
    train(SMALL, reference, progress=False)
    run = tmp_path / "run"
    train(SMALL, run, progress=False, stop_after_steps=3)
    with open(run / "metrics.jsonl", "a") as fh:
        fh.write('{"step": 4, "epoch": 1, "lo')
    with pytest.warns(UserWarning, match="dropped a partial last line"):
        result = train(SMALL, run, resume=True, progress=False)
    assert result.completed
    assert metrics_without_time(run) == metrics_without_time(reference)
    assert weights_digest(run) == weights_digest(reference)


def test_config_json_is_strict_and_rereads_equal(tmp_path: Path) -> None:
    write_config(tmp_path, SMALL)
    text = (tmp_path / "config.json").read_text()
    assert "NaN" not in text and json.loads(text) == SMALL.to_json()
    assert TrainConfig.load(tmp_path / "config.json") == SMALL


def test_help_covers_every_field() -> None:
    helps = TrainConfig.help()
    assert list(helps) == list(SMALL.to_json()) and all(helps.values())


def test_an_old_config_without_new_defaults_still_loads(tmp_path: Path) -> None:
    shutil.copy(Path(__file__).parent / "data" / "old-finished" / "config.json", tmp_path)
    assert not {"units", "val_fraction"} & set(json.loads((tmp_path / "config.json").read_text()))
    cfg = TrainConfig.load(tmp_path / "config.json")
    assert cfg.hidden == 8 and cfg.checkpoint_every == 3 and cfg.lam == 0.0
    assert (cfg.units, cfg.val_fraction) == ("std", 0.0)  # the behaviour before the fields


def test_the_data_fields_default_to_the_old_behaviour() -> None:
    old = {k: v for k, v in SMALL.to_json().items() if k not in ("units", "val_fraction")}
    assert TrainConfig.from_json(old) == SMALL and (SMALL.units, SMALL.val_fraction) == ("std", 0)
    raw = TrainConfig(dataset="ItalyPowerDemand", units="raw", val_fraction=0.25)
    assert TrainConfig.from_json(json.loads(raw.dumps())) == raw
