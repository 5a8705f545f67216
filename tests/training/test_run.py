import json

import pytest
import torch

from seqrobust.training import TrainConfig, load_model, train
from seqrobust.training.checkpoint import load_file_tensors

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
    steps = [
        json.loads(line)["step"]
        for line in (tmp_path / "killed" / "metrics.jsonl").read_text().splitlines()
    ]
    assert steps == sorted(steps) and steps[-1] == 12
    full_steps = [
        json.loads(line)["step"]
        for line in (tmp_path / "full" / "metrics.jsonl").read_text().splitlines()
    ]
    assert steps == full_steps


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
    with pytest.raises(ValueError, match="different config .*seed"):
        train(TrainConfig(**{**TINY, "seed": 4}), tmp_path / "r", resume=True, progress=False)
    with pytest.raises(ValueError, match="config.json: not found"):
        train(cfg, tmp_path / "none", resume=True, progress=False)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"cell": "tcn"}, "unknown cell"),
        ({"hidden": -3}, "hidden must be a positive integer"),
        ({"epochs": 0}, "epochs must be a positive integer"),
        ({"dataset": "cifar"}, "unknown dataset"),
        ({"reg": "l1"}, "unknown regulariser"),
        ({"reg": "hessian"}, "needs a positive --lam"),
        ({"lr": 0.0}, "lr must be positive"),
        ({"reg_fraction": 1.5}, "reg_fraction"),
    ],
)
def test_bad_config(change, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**change)


def test_config_json_rejects_unknown_keys(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"epochs": 1, "hiden": 3}))
    with pytest.raises(ValueError, match="unknown config keys: hiden"):
        TrainConfig.load(path)
    path.write_text("[1, 2")
    with pytest.raises(ValueError, match="malformed JSON"):
        TrainConfig.load(path)
