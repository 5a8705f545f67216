"""A user's model file, safetensors weights and npz data: loaded exactly, and every problem a
one-line error naming the file (table-driven through ``seqrobust.cli.main``)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch
from foreign_cases import MODEL_FILE, Files, model_args
from safetensors.torch import save_file

from seqrobust.cli import main
from seqrobust.cli._source import parse_bounds, parse_model_kwargs
from seqrobust.runs.foreign import load_foreign_model, load_npz_data, sha256_file


@pytest.mark.parametrize(("factory", "takes_lengths"),
                         [("make_lstm", False), ("make_packed", True)])
def test_weights_restore_the_saved_model(foreign_files: Files, factory: str,
                                         takes_lengths: bool) -> None:
    reference = foreign_files.packed if "packed" in factory else foreign_files.lstm
    weights = foreign_files.packed_weights if "packed" in factory else foreign_files.lstm_weights
    clf = load_foreign_model(f"{foreign_files.model}:{factory}", weights=weights)
    assert clf.takes_lengths is takes_lengths and not clf.training
    loaded, saved = clf.model.state_dict(), reference.state_dict()
    assert sorted(loaded) == sorted(saved)
    assert all(torch.equal(loaded[k], saved[k]) for k in saved)
    x, lengths = torch.tensor(foreign_files.x), torch.tensor(foreign_files.lengths)
    with torch.no_grad():
        expected = reference(x, lengths) if takes_lengths else reference(x)
        assert torch.equal(clf(x, lengths), expected)


def test_factory_kwargs_and_the_lengths_flag(foreign_files: Files) -> None:
    spec = f"{foreign_files.model}:make_anonymous"
    clf = load_foreign_model(spec, kwargs={"hidden": 5}, takes_lengths=True)
    assert clf.takes_lengths and clf.model.gru.hidden_size == 5
    assert not load_foreign_model(spec).takes_lengths  # `n` is not a lengths name


def test_module_spec_imports_an_installed_module(
    foreign_files: Files, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "userpkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "nets.py").write_text(MODEL_FILE)
    monkeypatch.syspath_prepend(str(tmp_path))
    clf = load_foreign_model("userpkg.nets:make_packed", weights=foreign_files.packed_weights)
    assert torch.equal(clf.model.head.weight, foreign_files.packed.head.weight)


@pytest.mark.parametrize("suffix", [".npz", ".safetensors"])
def test_data_files_round_trip(foreign_files: Files, tmp_path: Path, suffix: str) -> None:
    path = foreign_files.data
    if suffix == ".safetensors":
        path = tmp_path / "data.safetensors"
        save_file({k: torch.tensor(v) for k, v in
                   {"x": foreign_files.x, "y": foreign_files.y,
                    "lengths": foreign_files.lengths}.items()}, str(path))
    data = load_npz_data(path, bounds=(-10, 10), unit="volt", scale=0.5)
    assert torch.equal(data.inputs, torch.tensor(foreign_files.x))
    assert data.labels.tolist() == foreign_files.y.tolist()
    assert data.lengths is not None and data.lengths.tolist() == foreign_files.lengths.tolist()
    assert (data.bounds, data.eps_unit, data.eps_scale, data.name) == (
        (-10.0, 10.0), "volt", 0.5, path.name)


def test_hash_and_option_parsers(foreign_files: Files) -> None:
    digest = hashlib.sha256(foreign_files.data.read_bytes()).hexdigest()
    assert sha256_file(foreign_files.data) == digest
    assert parse_bounds("0,1") == (0.0, 1.0) and parse_bounds(None) is None
    assert parse_model_kwargs('{"hidden": 4}') == {"hidden": 4} and parse_model_kwargs(None) == {}


def _bad_files(root: Path, files: Files) -> dict[str, Path]:
    """One broken file per error path."""
    root.mkdir(parents=True, exist_ok=True)
    good = files.packed.state_dict()
    out = {name: root / name for name in (
        "raises.py", "int.safetensors", "nan.safetensors", "w.pt", "w.txt", "few.safetensors",
        "shape.safetensors", "keys.npz", "flat.npz", "intx.npz", "nanx.npz", "labels.npz",
        "lengths.npz", "d.csv", "junk.npz", "junk.safetensors")}
    out["raises.py"].write_text("raise ImportError('no module named torch_extras')\n")
    save_file({**good, "head.bias": good["head.bias"].long()}, str(out["int.safetensors"]))
    nan = good["head.weight"].clone()
    nan[0, 0] = float("nan")
    save_file({**good, "head.weight": nan}, str(out["nan.safetensors"]))
    out["w.pt"].write_bytes(b"pickle")
    out["w.txt"].write_text("weights")
    save_file({k: v for k, v in good.items() if k != "head.bias"}, str(out["few.safetensors"]))
    save_file({**good, "head.bias": torch.zeros(7)}, str(out["shape.safetensors"]))
    x, y, lengths = files.x, files.y, files.lengths
    np.savez(out["keys.npz"], x=x, y=y, length=lengths)
    np.savez(out["flat.npz"], x=x[:, :, 0], y=y)
    np.savez(out["intx.npz"], x=x.astype(np.int64), y=y)
    nanx = x.copy()
    nanx[1, 1, 1] = np.nan
    np.savez(out["nanx.npz"], x=nanx, y=y)
    np.savez(out["labels.npz"], x=x, y=y + 3, lengths=lengths)
    np.savez(out["lengths.npz"], x=x, y=y, lengths=lengths + 5)
    out["d.csv"].write_text("1,2\n")
    out["junk.npz"].write_bytes(b"not a zip")
    out["junk.safetensors"].write_bytes(b"not safetensors")
    return out


M, W, D = "{model}", "{weights}", "{data}"
ERRORS = [  # (id, argv after `evaluate`, expected fragment); str.format fills the {names}
    ("spec without factory", ["--model", "{model_file}", "--data", D],
     "--model must be FILE.py:FACTORY or package.module:FACTORY"),
    ("missing model file", ["--model", "{bad}/nope.py:make", "--data", D],
     "--model: file {bad}/nope.py not found"),
    ("file raises on import", ["--model", "{bad}/raises.py:make", "--data", D],
     "--model: importing {bad}/raises.py failed (ImportError: no module named torch_extras)"),
    ("missing attribute", ["--model", "{model_file}:make_tcn", "--data", D],
     "user_models.py has no attribute 'make_tcn'"),
    ("not callable", ["--model", "{model_file}:NOT_CALLABLE", "--data", D],
     "user_models.py:NOT_CALLABLE is not callable (type int)"),
    ("factory raises", ["--model", "{model_file}:broken", "--data", D],
     "user_models.py:broken(**kwargs) raised RuntimeError: the factory is broken"),
    ("factory returns a list", ["--model", "{model_file}:not_a_module", "--data", D],
     "user_models.py:not_a_module returned a list, not an nn.Module"),
    ("unknown module", ["--model", "no_such_pkg.nets:make", "--data", D],
     "importing module no_such_pkg.nets failed (ModuleNotFoundError"),
    ("kwargs not JSON", ["--model", M, "--model-kwargs", "{{hidden: 4}}", "--data", D],
     "--model-kwargs is not valid JSON"),
    ("kwargs not an object", ["--model", M, "--model-kwargs", "[4]", "--data", D],
     "--model-kwargs must be a JSON object, got list"),
    ("kwargs the factory rejects", ["--model", M, "--model-kwargs", '{{"depth": 2}}', "--data", D],
     "raised TypeError"),
    ("pickle weights", ["--model", M, "--weights", "{bad}/w.pt", "--data", D],
     'convert it once with safetensors.torch.save_file(model.state_dict(), '
     '"weights.safetensors")'),
    ("unknown weights suffix", ["--model", M, "--weights", "{bad}/w.txt", "--data", D],
     "--weights w.txt: need a .safetensors file"),
    ("missing weights", ["--model", M, "--weights", "{bad}/none.safetensors", "--data", D],
     "none.safetensors not found"),
    ("corrupt weights", ["--model", M, "--weights", "{bad}/junk.safetensors", "--data", D],
     "--weights junk.safetensors: not a readable safetensors file"),
    ("integer weights", ["--model", M, "--weights", "{bad}/int.safetensors", "--data", D],
     "tensor 'head.bias' has dtype torch.int64"),
    ("NaN weights", ["--model", M, "--weights", "{bad}/nan.safetensors", "--data", D],
     "tensor 'head.weight' holds 1 NaN/inf values"),
    ("missing key", ["--model", M, "--weights", "{bad}/few.safetensors", "--data", D],
     "does not match the model: missing keys ['head.bias']"),
    ("wrong shape", ["--model", M, "--weights", "{bad}/shape.safetensors", "--data", D],
     "tensor 'head.bias' has shape (7,) but the model's is (3,)"),
    ("wrong data keys", ["--model", M, "--data", "{bad}/keys.npz"],
     "keys.npz: keys length, x, y; need x (N, T, F), y (N,) and optionally lengths"),
    ("2-d x", ["--model", M, "--data", "{bad}/flat.npz"], "flat.npz: x must be (N, T, F)"),
    ("integer x", ["--model", M, "--data", "{bad}/intx.npz"], "intx.npz: x must be floating"),
    ("NaN x", ["--model", M, "--data", "{bad}/nanx.npz"], "nanx.npz: x holds 1 NaN/inf values"),
    ("labels outside", ["--model", M, "--data", "{bad}/labels.npz"],
     "labels.npz: labels must lie in [0, 3) (the model's 3 outputs), found up to 5"),
    ("lengths outside", ["--model", M, "--data", "{bad}/lengths.npz"],
     "lengths.npz: lengths must lie in [1, 6]"),
    ("unknown data suffix", ["--model", M, "--data", "{bad}/d.csv"],
     "--data d.csv: need an .npz or .safetensors file"),
    ("corrupt npz", ["--model", M, "--data", "{bad}/junk.npz"], "--data junk.npz: cannot read"),
    ("bounds not LO,HI", ["--model", M, "--data", D, "--bounds", "0:1"],
     "--bounds must be LO,HI (e.g. 0,1), got '0:1'"),
    ("bounds exclude the data", ["--model", M, "--data", D, "--bounds", "0,1"],
     "data.npz: x spans"),
    ("no data", ["--model", M], "--model needs data: add --data FILE.npz or --dataset NAME"),
    ("data and dataset", ["--model", M, "--data", D, "--dataset", "JapaneseVowels"],
     "give --data FILE or --dataset NAME, not both"),
    ("no run, no model", [], "give a run folder or --model FILE.py:FACTORY"),
    ("weights without model", ["{bad}", "--weights", W],
     "--weights, --model-kwargs and --takes-lengths need --model"),
    ("bounds without data", ["--model", M, "--dataset", "JapaneseVowels", "--bounds", "0,1"],
     "--bounds, --unit and --scale describe a --data file"),
    ("split of a data file", ["--model", M, "--data", D, "--split", "train"],
     "--split train applies to datasets; a --data file is used whole"),
    ("x-only forward given lengths",
     ["--model", "{model_file}:make_lstm", "--takes-lengths", "--data", D],
     "calling its forward with (x, lengths) failed (LastStepLSTM.forward() takes 2 positional "
     "arguments but 3 were given); drop --takes-lengths"),
    ("lengths not recognised", ["--model", "{model_file}:make_anonymous", "--data", D],
     "calling its forward with x alone failed (Anonymous.forward() missing 1 required "
     "positional argument: 'n'); add --takes-lengths"),
    ("other features", ["--model", M, "--model-kwargs", '{{"features": 5}}', "--data", D],
     "fails on one input of data.npz (RuntimeError"),
]


@pytest.mark.parametrize(("argv", "fragment"), [e[1:] for e in ERRORS],
                         ids=[e[0] for e in ERRORS])
def test_every_problem_is_one_line(
    foreign_files: Files, tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str], argv: list[str], fragment: str,
) -> None:
    bad = tmp_path_factory.getbasetemp() / "bad-files"
    if not bad.exists():
        _bad_files(bad, foreign_files)
    names = {"model": f"{foreign_files.model}:make_packed", "model_file": foreign_files.model,
             "weights": foreign_files.packed_weights, "data": foreign_files.data, "bad": bad}
    assert main(["evaluate", *(a.format(**names) for a in argv)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert fragment.format(**names) in err


@pytest.mark.parametrize("command", [["analyze"], ["attack"], ["noise"], ["plot", "boundary"],
                                     ["plot", "taylor"], ["report"]])
def test_a_foreign_model_needs_out(foreign_files: Files, command: list[str],
                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*command, *model_args(foreign_files)]) == 2
    err = capsys.readouterr().err
    assert err == "error: --model needs --out (there is no run folder to write into)\n"


def test_report_takes_run_folders_or_a_model(foreign_files: Files, tiny_run: Path,
                                             tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    out = ["--out", str(tmp_path / "r.html")]
    assert main(["report", str(tiny_run), *model_args(foreign_files), *out]) == 2
    assert "give run folders or --model, not both" in capsys.readouterr().err
    assert main(["report", str(tiny_run), "--data", str(foreign_files.data), *out]) == 2
    assert "--data needs --model" in capsys.readouterr().err
    assert not (tmp_path / "r.html").exists()
