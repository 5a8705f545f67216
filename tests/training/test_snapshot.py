"""Step snapshots + manifest: one unit of weights and step count, whatever instant a kill hits."""

from __future__ import annotations

import itertools

import pytest
import torch
from training_cases import module_digest

from seqrobust import _safeio
from seqrobust.models import RecurrentClassifier
from seqrobust.training.checkpoint import save_checkpoint
from seqrobust.training.snapshot import load_snapshot, read_snapshot, save_snapshot


class Killed(BaseException):
    pass


def _trained(steps: int) -> tuple[RecurrentClassifier, torch.optim.Optimizer]:
    torch.manual_seed(0)
    model = RecurrentClassifier(input_size=3, num_classes=4, cell="gru", hidden_size=5)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(steps):
        opt.zero_grad()
        model(torch.randn(2, 4, 3)).square().sum().backward()
        opt.step()
    return model, opt


def _fresh() -> tuple[RecurrentClassifier, torch.optim.Optimizer]:
    model = RecurrentClassifier(input_size=3, num_classes=4, cell="gru", hidden_size=5)
    return model, torch.optim.Adam(model.parameters(), lr=1e-2)


def test_roundtrip_restores_weights_optimizer_and_rng(tmp_path):
    assert read_snapshot(tmp_path) is None and load_snapshot(tmp_path, model=_fresh()[0]) is None
    model, opt = _trained(3)
    save_snapshot(tmp_path, step=3, model=model, optimizer=opt, meta={"step": 3, "elapsed": 1.5})
    draw = torch.rand(4)
    other, other_opt = _fresh()
    meta = load_snapshot(tmp_path, model=other, optimizer=other_opt, restore_rng=True)
    assert meta == {"step": 3, "elapsed": 1.5}
    torch.testing.assert_close(torch.rand(4), draw, rtol=0, atol=0)
    assert module_digest(other) == module_digest(model)
    for pid, state in opt.state_dict()["state"].items():
        for key, value in state.items():
            assert torch.equal(other_opt.state_dict()["state"][pid][key], value), key
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.json", "step-00000003.safetensors"]


def test_a_kill_at_any_point_of_a_save_leaves_the_old_or_the_new_snapshot(tmp_path, monkeypatch):
    old, old_opt = _trained(1)
    new, new_opt = _trained(2)
    labels: list[str] = []
    monkeypatch.setattr(_safeio, "FAULT_HOOK", labels.append)
    save_snapshot(tmp_path / "count", step=1, model=old, optimizer=old_opt, meta={"step": 1})
    save_snapshot(tmp_path / "count", step=2, model=new, optimizer=new_opt, meta={"step": 2})
    points = labels[10:]  # the second save: 5 for the weights, 5 for the manifest, 1 removal
    assert len(points) == 11 and points[-1] == "step-00000001.safetensors: remove"
    for point, label in enumerate(points):
        folder = tmp_path / f"kill{point}"
        monkeypatch.setattr(_safeio, "FAULT_HOOK", _safeio._no_fault)
        save_snapshot(folder, step=1, model=old, optimizer=old_opt, meta={"step": 1})
        calls = itertools.count()

        def kill(seen: str, point: int = point, calls: itertools.count[int] = calls) -> None:
            if next(calls) == point:
                raise Killed(seen)

        monkeypatch.setattr(_safeio, "FAULT_HOOK", kill)
        with pytest.raises(Killed, match=label):
            save_snapshot(folder, step=2, model=new, optimizer=new_opt, meta={"step": 2})
        loaded, loaded_opt = _fresh()
        meta = load_snapshot(folder, model=loaded, optimizer=loaded_opt)
        expected = new if point >= points.index("last.json: rename") else old
        assert meta == {"step": 2 if expected is new else 1}, label
        assert module_digest(loaded) == module_digest(expected), label
        monkeypatch.setattr(_safeio, "FAULT_HOOK", _safeio._no_fault)
        save_snapshot(folder, step=3, model=new, optimizer=new_opt, meta={"step": 3})
        assert sorted(p.name for p in folder.iterdir()) == [
            "last.json", "step-00000003.safetensors"], label  # leftovers cleaned up


def test_the_old_pair_layout_loads_and_is_replaced(tmp_path):
    model, opt = _trained(2)
    save_checkpoint(tmp_path / "last", model=model, optimizer=opt, meta={"step": 2})
    loaded, loaded_opt = _fresh()
    assert load_snapshot(tmp_path, model=loaded, optimizer=loaded_opt) == {"step": 2}
    assert module_digest(loaded) == module_digest(model)
    save_snapshot(tmp_path, step=3, model=model, optimizer=opt, meta={"step": 3})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.json", "step-00000003.safetensors"]
