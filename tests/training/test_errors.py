"""Error paths of training, table-driven: each row is a bad input (a config field, a
``config.json``, ``model.json``, ``ckpt/last.json`` or ``metrics.jsonl``, a ``fit`` argument)
and a fragment of the one-line message it must give."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save
from training_cases import SMALL

from seqrobust.data import load_dataset
from seqrobust.models import RecurrentClassifier
from seqrobust.training import TrainConfig, fit, load_model, train
from seqrobust.training.checkpoint import sha256

NAN, INF = float("nan"), float("inf")


def _one_line(exc: pytest.ExceptionInfo[BaseException], fragment: str) -> None:
    message = str(exc.value)
    assert fragment in message, message
    assert "\n" not in message


CONFIG_FIELDS: list[tuple[dict[str, Any], str]] = [
    ({"clip": NAN}, "clip must be a finite number, got nan"),
    ({"lr": INF}, "lr must be a finite number, got inf"),
    ({"lr": 0.0}, "lr must be in (0, 10], got 0"),
    ({"lr": 11.0}, "lr must be in (0, 10], got 11"),
    ({"lam": -1.0, "reg": "hessian"}, "lam must be in [0, 1e+12], got -1"),
    ({"weight_decay": -0.1}, "weight_decay must be in [0, 1e+06], got -0.1"),
    ({"dropout": 1.0}, "dropout must be in [0, 1), got 1"),
    ({"reg_fraction": 0.0}, "reg_fraction must be in (0, 1], got 0"),
    ({"reg_fraction": 1.5}, "reg_fraction must be in (0, 1], got 1.5"),
    ({"at_eps": 0.0}, "at_eps must be in (0, 1e+06], got 0"),
    ({"at_alpha": NAN}, "at_alpha must be a finite number, got nan"),
    ({"fd_step": -1.0}, "fd_step must be in (0, 1e+06], got -1"),
    ({"epochs": 0}, "epochs must be an integer in [1, 1000000], got 0"),
    ({"batch_size": 0}, "batch_size must be an integer in [1, 16777216], got 0"),
    ({"hidden": -3}, "hidden must be an integer in [1, 16777216], got -3"),
    ({"layers": 10**7}, "layers must be an integer in [1, 1000], got 10000000"),
    ({"hidden": 10**6}, "hidden 1000000 x layers 2 (rnn) is at least 3e+12 parameters, above "
                        "the limit of 2.15e+09; lower --hidden or --layers"),
    ({"probes": 0}, "probes must be an integer in [1, 10000], got 0"),
    ({"seed": -1}, "seed must be an integer in [0, 4294967295], got -1"),
    ({"log_every": 0}, "log_every must be an integer in [1, "),
    ({"checkpoint_every": -1}, "checkpoint_every must be an integer in [0, "),
    ({"train_limit": 0}, "train_limit must be an integer in [1, "),
    ({"hidden": "8"}, "hidden must be an integer, got '8' (str)"),
    ({"epochs": True}, "epochs must be an integer, got True (bool)"),
    ({"lr": "0.1"}, "lr must be a number, got '0.1' (str)"),
    ({"dataset": None}, "dataset must not be null"),
    ({"cell": 3}, "cell must be a string, got 3 (int)"),
    ({"cell": "mlp"}, "unknown arch 'mlp'"),
    ({"dataset": "cifar"}, "unknown dataset 'cifar'"),
    ({"reg": "l1"}, "unknown regulariser 'l1'"),
    ({"estimator": "magic"}, "unknown estimator 'magic'"),
    ({"reg": "hessian"}, "--reg hessian needs a positive --lam"),
    ({"lam": 0.1}, "--lam 0.1 needs a regulariser; pass --reg"),
    ({"units": "si"}, "unknown units 'si'; choose one of std, raw"),
    ({"units": None}, "units must not be null"),
    ({"units": "raw"}, "--units raw applies to aeon datasets only; mnist is in [0, 1] (use "
                       "--units std)"),
    ({"units": "raw", "dataset": "mnist-subset-pixels"}, "--units raw applies to aeon datasets "
                                                         "only; mnist-subset-pixels is in"),
    ({"val_fraction": 0.5}, "val_fraction must be in [0, 0.5), got 0.5"),
    ({"val_fraction": -0.1}, "val_fraction must be in [0, 0.5), got -0.1"),
    ({"val_fraction": NAN}, "val_fraction must be a finite number, got nan"),
    ({"val_fraction": "0.2"}, "val_fraction must be a number, got '0.2' (str)"),
]


@pytest.mark.parametrize(("change", "fragment"), CONFIG_FIELDS)
def test_bad_config_field(change: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ValueError) as exc:
        TrainConfig(**change)
    _one_line(exc, fragment)


CONFIG_FILES = [
    ("[1, 2]", "config.json: expected a JSON object, got list"),
    ('{"hidden": "8"}', "config.json: hidden must be an integer, got '8' (str)"),
    ('{"epochs": 1.5}', "config.json: epochs must be an integer, got 1.5 (float)"),
    ('{"clip": NaN}', "config.json: non-finite number NaN"),
    ('{"lr": null}', "config.json: lr must not be null"),
    ('{"hiden": 3}', "config.json: unknown config keys: hiden"),
    ("{not json", "config.json: malformed JSON"),
    ("\xff", "config.json: not UTF-8 text"),
]


@pytest.mark.parametrize(("text", "fragment"), CONFIG_FILES)
def test_bad_config_file(text: str, fragment: str, tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(ValueError) as exc:
        TrainConfig.load(path)
    _one_line(exc, fragment)
    assert str(exc.value).startswith(str(path))


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A finished SMALL run and one stopped after 3 steps (snapshot of step 3)."""
    root = tmp_path_factory.mktemp("runs")
    train(SMALL, root / "finished", progress=False)
    train(SMALL, root / "stopped", progress=False, stop_after_steps=3)
    return {"finished": root / "finished", "stopped": root / "stopped"}


def _edit_json(path: Path, edit: Callable[[Any], Any]) -> None:
    record = json.loads(path.read_text())
    path.write_text(json.dumps(edit(record)))


def _set(*keys: str, value: Any) -> Callable[[Any], Any]:
    def edit(record: Any) -> Any:
        target = record
        for key in keys[:-1]:
            target = target[key]
        if value is _DELETE:
            del target[keys[-1]]
        else:
            target[keys[-1]] = value
        return record
    return edit


_DELETE = object()


def _final_tensors(edit: Callable[[dict[str, torch.Tensor]], None]) -> Callable[[Path], None]:
    """Rewrite ``model.safetensors`` through ``edit``, with a matching digest in model.json."""
    def apply(run: Path) -> None:
        tensors = load_file(run / "model.safetensors")
        edit(tensors)
        data = save(tensors)
        (run / "model.safetensors").write_bytes(data)
        _edit_json(run / "model.json", _set("sha256", value=sha256(data)))
    return apply


def _put(name: str, value: torch.Tensor) -> Callable[[dict[str, torch.Tensor]], None]:
    return lambda tensors: tensors.__setitem__(name, value)


def _on_json(edit: Callable[[Any], Any]) -> Callable[[Path], None]:
    return lambda run: _edit_json(run / "model.json", edit)


HEAD = "model::head.weight"
FINAL = [
    (_on_json(lambda r: []), "model.json: expected a JSON object, got list"),
    (_on_json(_set("extra", value=1)), "model.json: unknown keys extra"),
    (_on_json(_set("format", value="x")), "model.json: unknown format 'x'"),
    (_on_json(_set("meta", value=[1])), "model.json: meta must be an object"),
    (_on_json(_set("meta", "step", value=_DELETE)), "model.json: meta is missing step"),
    (_on_json(_set("meta", "bogus", value=1)), "model.json: unknown meta keys bogus"),
    (_on_json(_set("meta", "step", value="4")),
     "model.json: meta.step must be a non-negative integer, got '4'"),
    (_on_json(_set("meta", "elapsed", value=NAN)),
     "model.json: meta.elapsed must be a non-negative number, got nan"),
    (_on_json(_set("meta", "test_accuracy", value=7)),
     "model.json: meta.test_accuracy must be a number in [0, 1], got 7"),
    (_on_json(_set("meta", "model", value=[1])), "model.json: model must be an object, got list"),
    (_on_json(_set("meta", "model", "hidden_size", value=_DELETE)),
     "model.json: model: missing keys hidden_size"),
    (_on_json(_set("meta", "model", "extra", value=1)), "model.json: model: unknown keys extra"),
    (_on_json(_set("meta", "model", "hidden_size", value="4")),
     "model.json: model.hidden_size must be a positive integer, got '4'"),
    (_on_json(_set("meta", "model", "hidden_size", value=10**6)),
     "model.json: model: hidden 1000000 x layers 2 (rnn) is at least"),
    (_on_json(_set("meta", "model", "num_layers", value=10**7)),
     "model.json: model: layers must be at most 1000, got 10000000"),
    (_on_json(_set("meta", "model", "cell", value="tcn")),
     "model.json: model.cell must be one of rnn, lstm, gru, got 'tcn'"),
    (_on_json(_set("meta", "model", "dropout", value=2)),
     "model.json: model.dropout must be a number in [0, 1), got 2"),
    (_on_json(_set("optimizer", value=[])), "model.json: optimizer must be an object"),
    (_on_json(_set("sha256", value=5)), "model.json: sha256 must be a 64-digit hex string"),
    (_on_json(_set("sha256", value="0" * 64)),
     "model.json: sha256 does not match model.safetensors"),
    (lambda run: (run / "model.json").write_text("{not json"), "model: corrupt (Expecting"),
    (lambda run: (run / "model.safetensors").write_bytes(b"\x08" + b"\x00" * 7 + b"{}"),
     "model: corrupt ("),
    (_final_tensors(_put(HEAD, torch.full((10, 4), NAN))),
     "model::head.weight holds NaN or infinite values"),
    (_final_tensors(_put(HEAD, torch.zeros(10, 4, dtype=torch.int64))),
     "head.weight has dtype torch.int64, expected a float"),
    (_final_tensors(_put(HEAD, torch.zeros(10, 5))), "does not fit the model"),
]


@pytest.mark.parametrize(("edit", "fragment"), FINAL)
def test_bad_final_weights(edit: Callable[[Path], None], fragment: str, runs: dict[str, Path],
                           tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(runs["finished"], run)
    edit(run)
    with pytest.raises(ValueError) as exc:
        load_model(run)
    _one_line(exc, fragment)


def test_symlinked_final_record_is_refused(runs: dict[str, Path], tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(runs["finished"], run)
    (tmp_path / "elsewhere.json").write_bytes((run / "model.json").read_bytes())
    (run / "model.json").unlink()
    (run / "model.json").symlink_to(tmp_path / "elsewhere.json")
    with pytest.raises(ValueError) as exc:
        load_model(run)
    _one_line(exc, "model.json: is a symlink; refusing to read through it")


def _on_manifest(edit: Callable[[Any], Any]) -> Callable[[Path], None]:
    return lambda run: _edit_json(run / "ckpt" / "last.json", edit)


def _snapshot(edit_record: Callable[[Any], Any] | None = None,
              edit_tensors: Callable[[dict[str, torch.Tensor]], None] | None = None
              ) -> Callable[[Path], None]:
    """Rewrite the step-3 snapshot through the edits, with a matching manifest digest."""
    def apply(run: Path) -> None:
        path = run / "ckpt" / "step-00000003.safetensors"
        with safe_open(str(path), framework="pt") as fh:
            record = json.loads(fh.metadata()["seqrobust"])
        tensors = load_file(path)
        if edit_record is not None:
            record = edit_record(record)
        if edit_tensors is not None:
            edit_tensors(tensors)
        data = save(tensors, metadata={"seqrobust": json.dumps(record)})
        path.write_bytes(data)
        _edit_json(run / "ckpt" / "last.json", _set("sha256", value=sha256(data)))
    return apply


MANIFEST = [
    (_on_manifest(lambda m: []), "ckpt/last.json: expected a JSON object, got list"),
    (_on_manifest(_set("sha256", value=_DELETE)), "ckpt/last.json: missing keys sha256"),
    (_on_manifest(_set("x", value=1)), "ckpt/last.json: unknown keys x"),
    (_on_manifest(_set("format", value="v9")), "ckpt/last.json: unknown format 'v9'"),
    (_on_manifest(_set("file", value="../../../etc/passwd")),
     "ckpt/last.json: file must be a name like step-00000012.safetensors, got "
     "'../../../etc/passwd'"),
    (_on_manifest(_set("file", value="step-00000099.safetensors")),
     "ckpt/last.json: names step-00000099.safetensors, which is missing"),
    (_on_manifest(_set("step", value="3")),
     "ckpt/last.json: step must be a non-negative integer, got '3'"),
    (_on_manifest(_set("step", value=2)), "step 3 differs from the manifest's 2"),
    (_on_manifest(_set("sha256", value="0" * 64)),
     "step-00000003.safetensors: sha256 does not match"),
    (_snapshot(_set("meta", "elapsed", value=_DELETE)), "ckpt/last.json: meta is missing elapsed"),
    (_snapshot(_set("meta", "window", value="x")), "meta.window must be a list of [loss, "),
    (_snapshot(_set("format", value="seqrobust-checkpoint-1")),
     "step-00000003.safetensors: unknown format 'seqrobust-checkpoint-1'"),
    (_snapshot(edit_tensors=_put("optim::0::exp_avg", torch.full((16, 28), INF))),
     "optim::0::exp_avg holds NaN or infinite values"),
    (_snapshot(edit_tensors=_put("rng", torch.zeros(3))), "no valid rng state"),
]


@pytest.mark.parametrize(("edit", "fragment"), MANIFEST)
def test_bad_checkpoint(edit: Callable[[Path], None], fragment: str, runs: dict[str, Path],
                        tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(runs["stopped"], run)
    edit(run)
    with pytest.raises(ValueError) as exc:
        train(SMALL, run, resume=True, progress=False)
    _one_line(exc, fragment)


METRICS = [
    ("garbage\n", "metrics.jsonl line 1: not JSON (Expecting value); fix or delete the line"),
    ('{"step": 2}\n[1, 2]\n', "metrics.jsonl line 2: expected a JSON object, got list"),
    ('{"step": 2}\n{"loss": 1}\n',
     "metrics.jsonl line 2: step must be a non-negative integer, got None"),
    ('{"step": "2"}\n', "metrics.jsonl line 1: step must be a non-negative integer, got '2'"),
]


@pytest.mark.parametrize(("text", "fragment"), METRICS)
def test_bad_metrics_line(text: str, fragment: str, runs: dict[str, Path],
                          tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(runs["stopped"], run)
    (run / "metrics.jsonl").write_text(text)
    with pytest.raises(ValueError) as exc:
        train(SMALL, run, resume=True, progress=False)
    _one_line(exc, fragment)


def _penalty(forward: Any, x: Any, y: Any, *, generator: Any) -> Any:
    return forward(x).square().mean()


FIT = [
    ({"reg": "l1", "lam": 1.0}, "fit: unknown reg 'l1'; choose one of hessian, jacobian, cure, "
                                "pgd-at or pass a callable"),
    ({"lam": 0.1}, "fit: lam=0.1 needs a regulariser; pass reg="),
    ({"estimator": "fd"}, "fit: estimator given without reg=; pass reg= or drop them"),
    ({"reg": "hessian"}, "fit: reg='hessian' needs lam > 0"),
    ({"reg": "pgd-at", "lam": 1.0}, "fit: reg='pgd-at' needs at_eps (model units"),
    ({"reg": "cure", "lam": 1.0}, "fit: reg='cure' needs at_eps"),
    ({"reg": _penalty, "lam": 1.0, "probes": 2},
     "fit: probes apply only to a regulariser given by name"),
    ({"reg": 5, "lam": 1.0}, "fit: reg must be a name, a callable or None, got int"),
    ({"lr": NAN}, "fit: lr must be a finite number, got nan"),
    ({"epochs": 0}, "fit: epochs must be an integer in [1, 1000000], got 0"),
    ({"clip": -1.0}, "fit: clip must be in [0, 1e+12], got -1"),
    ({"reg": "pgd-at", "lam": 1.0, "at_eps": -0.1}, "fit: at_eps must be in (0, 1e+06], got -0.1"),
    ({"test": torch.zeros(2, 3, 4)}, "fit: test must be a SequenceData, got Tensor"),
]


@pytest.mark.parametrize(("options", "fragment"), FIT)
def test_bad_fit_argument(options: dict[str, Any], fragment: str) -> None:
    data = load_dataset("mnist-subset", split="train", limit=8)
    model = RecurrentClassifier(input_size=28, num_classes=10, hidden_size=4, num_layers=1)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(ValueError) as exc:
        fit(model, data, epochs=options.pop("epochs", 1), progress=False, **options)
    _one_line(exc, fragment)
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())
