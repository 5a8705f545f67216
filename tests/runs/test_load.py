"""One loader for run folders and foreign models: the same model and data either way, and a
provenance record whose hashes are the files' SHA-256."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from foreign_cases import Files

from seqrobust.data.registry import load_dataset
from seqrobust.models.classifier import Classifier
from seqrobust.runs.load import ModelSource, as_source, load_run_data, load_source
from seqrobust.runs.outputs import data_hash
from seqrobust.training.run import load_model


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_run_folder_loads_as_before_with_its_weights_hash(tiny_run: Path) -> None:
    loaded = load_source(ModelSource(run=tiny_run), limit=7)
    model, cfg = load_model(tiny_run)
    expected = load_dataset(cfg.dataset, split="test", limit=7)
    assert torch.equal(loaded.data.inputs, expected.inputs)
    assert all(torch.equal(a, b) for a, b in zip(loaded.model.state_dict().values(),
                                                 model.state_dict().values(), strict=True))
    assert loaded.plain is (cfg.reg == "none") and loaded.config == cfg
    assert loaded.provenance["weights_sha256"] == _sha(tiny_run / "model.safetensors")
    assert loaded.provenance["data_sha256"] is None and loaded.provenance["n"] == 7
    assert loaded.record == {"provenance": loaded.provenance}  # every output records it
    assert loaded.provenance["data_tensors_sha256"] == data_hash(expected)
    assert loaded.take(3).provenance["data_tensors_sha256"] == data_hash(expected.take(3))
    _, cfg2, data2 = load_run_data(tiny_run, limit=7)
    assert cfg2 == cfg and torch.equal(data2.inputs, expected.inputs)


def test_a_foreign_model_records_its_provenance(foreign_files: Files) -> None:
    source = ModelSource(model=f"{foreign_files.model}:make_packed",
                         weights=foreign_files.packed_weights, kwargs={"hidden": 8},
                         data=foreign_files.data, bounds=(-10.0, 10.0), unit="volt", scale=2.0)
    loaded = load_source(source, limit=5)
    assert isinstance(loaded.model, Classifier) and loaded.model.takes_lengths
    assert loaded.plain is None and loaded.config is None and len(loaded.data) == 5
    assert (loaded.data.bounds, loaded.data.eps_unit, loaded.data.eps_scale) == (
        (-10.0, 10.0), "volt", 2.0)
    assert loaded.record == {"provenance": loaded.provenance}
    assert loaded.provenance == {
        "model": f"{foreign_files.model}:make_packed", "model_kwargs": {"hidden": 8},
        "weights": str(foreign_files.packed_weights),
        "weights_sha256": _sha(foreign_files.packed_weights), "takes_lengths": True,
        "dataset": "data.npz", "split": None, "data": str(foreign_files.data),
        "data_sha256": _sha(foreign_files.data), "n": 5,
        "data_tensors_sha256": data_hash(loaded.data), "padding": "trim"}


def test_provenance_says_how_padded_inputs_are_evaluated(
    foreign_files: Files, tiny_run: Path, vowels_run: Path
) -> None:
    assert load_source(ModelSource(run=tiny_run), limit=5).provenance["padding"] is None
    # the built-in RNN on padded series: cut to their real steps (its logits do not change)
    vowels = load_source(ModelSource(run=vowels_run))
    assert vowels.data.lengths is not None and vowels.provenance["padding"] == "trim"
    # an x-only LSTM reads its padding: fed as it gets it
    lstm = load_source(ModelSource(model=f"{foreign_files.model}:make_lstm",
                                   data=foreign_files.data))
    assert lstm.provenance["padding"] == "fed"
    assert lstm.model.resolved_padding(lstm.data.inputs, lstm.data.lengths) == "fed"
    # a subset without padded inputs has none to evaluate
    full = int(torch.nonzero(lstm.data.lengths == lstm.data.seq_len)[0])
    one = replace(lstm, data=lstm.data.subset(torch.tensor([full])))
    assert one.take(1).provenance["padding"] is None


def test_data_take_the_model_dtype_and_its_number_of_classes(
    foreign_files: Files, tmp_path: Path
) -> None:
    path = tmp_path / "two-labels.npz"
    y = np.zeros(len(foreign_files.y), dtype=np.int64)
    y[1] = 1
    np.savez(path, x=foreign_files.x.astype(np.float64), y=y, lengths=foreign_files.lengths)
    loaded = load_source(ModelSource(model=f"{foreign_files.model}:make_lstm", data=path))
    assert loaded.data.inputs.dtype == torch.float32
    assert loaded.data.num_classes == 3  # the model's outputs, not max(y) + 1


def test_a_run_folder_on_a_data_file(tiny_run: Path, tmp_path: Path) -> None:
    run_data = load_dataset("mnist-subset", split="test", limit=6)
    path = tmp_path / "digits.npz"
    np.savez(path, x=run_data.inputs.numpy(), y=run_data.labels.numpy())
    loaded = load_source(ModelSource(run=tiny_run, data=path, bounds=(0.0, 1.0)))
    assert torch.equal(loaded.data.inputs, run_data.inputs)
    assert loaded.record["provenance"]["data_sha256"] == _sha(path)
    assert loaded.record["provenance"]["run"] == str(tiny_run)


def test_as_source_and_output() -> None:
    run = ModelSource(run=Path("runs/x"))
    assert as_source("runs/x") == run and as_source(run) is run
    assert as_source("runs/x", dataset="mnist-rows").dataset == "mnist-rows"
    with pytest.raises(ValueError, match="given besides the source's own"):
        as_source(run, dataset="mnist-rows")
    assert run.output(None, "attacks", "pgd") == Path("runs/x/attacks/pgd")
    foreign = ModelSource(model="m.py:make", dataset="JapaneseVowels")
    assert foreign.output(Path("o")) == Path("o") and foreign.label == "m.py:make"
    with pytest.raises(ValueError, match="--model needs --out"):
        foreign.output(None, "analyze")
    full = ModelSource(model="m.py:make", weights=Path("w.safetensors"), kwargs={"h": 2},
                       takes_lengths=True, data=Path("d.npz"), bounds=(0.0, 1.0), unit="volt",
                       scale=0.5)
    assert full.cli_args() == (
        "--model m.py:make --takes-lengths --model-kwargs '{\"h\": 2}' --weights w.safetensors "
        "--data d.npz --bounds 0,1 --scale 0.5 --unit \"volt\"")


def test_a_raw_units_run_is_evaluated_in_raw_units(raw_run: Path, capsys) -> None:
    import json

    from seqrobust.cli import main
    from seqrobust.training import accuracy

    model, cfg, data = load_run_data(raw_run)
    assert cfg.units == "raw" and cfg.test_limit is None and len(data) == 1029
    assert data.name.endswith(" (raw)") and data.bounds is None
    assert data.eps_unit == "raw units"
    raw = load_dataset("ItalyPowerDemand", split="test", units="raw")
    std = load_dataset("ItalyPowerDemand", split="test")
    assert torch.equal(data.inputs, raw.inputs) and not torch.allclose(data.inputs, std.inputs)
    meta = json.loads((raw_run / "model.json").read_text())["meta"]
    assert accuracy(model, data) == meta["test_accuracy"]
    assert main(["evaluate", str(raw_run), "--device", "cpu"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["accuracy"] == meta["test_accuracy"] and printed["n"] == 1029
    assert printed["provenance"]["dataset"] == "ItalyPowerDemand-test (raw)"
