"""Hostile and clumsy inputs to the run-folder services: no write outside the output folder or
through a symlink, no read outside a shard folder, no silent mix of results (resume and merge
compare settings and provenance), caps on runaway requests, and escaped free text."""

from __future__ import annotations

import io
import json
import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from matplotlib import cbook
from matplotlib.figure import Figure
from safetensors.torch import load_file, save_file

from seqrobust.cli import main
from seqrobust.measure.robustness import AttackSettings, RobustnessCurve
from seqrobust.reporting.text import md_code_block, md_escape, mpl_escape
from seqrobust.runs.attack import format_table, parse_epsilons
from seqrobust.studies.datasets import format_table as grid_table

GOLDEN = Path(__file__).parents[1] / "golden" / "runs" / "mnist"
TOO_MANY = "--n 20000 but mnist-rows-test has 500 inputs; use --n 500 or less"
Argv = Callable[[Path, Path], list[str]]


@pytest.fixture()
def run(tmp_path: Path) -> Path:
    """A private copy of the shipped tiny MNIST run (tests may change it)."""
    return Path(shutil.copytree(GOLDEN, tmp_path / "run"))


def _attack(run: Path, out: Path) -> list[str]:
    return ["attack", str(run), "--eps", "8,16", "--steps", "1", "--n", "4", "--batch-size",
            "2", "--device", "cpu", "--out", str(out), "--quiet"]


def _analyze(run: Path, out: Path, n: int = 2) -> list[str]:
    return ["analyze", str(run), "--n", str(n), "--batch-size", "1", "--fmn-steps", "2",
            "--lanczos-iters", "3", "--profile-n", "1", "--device", "cpu", "--out", str(out),
            "--quiet"]


def _noise(run: Path, out: Path) -> list[str]:
    return ["noise", str(run), "--n", "2", "--samples", "4", "--num-kappa", "4", "--rho",
            "3000", "--out", str(out), "--quiet"]


def _curvature(run: Path, out: Path) -> list[str]:
    return ["curvature", str(run), "--n", "2", "--probes", "1", "--batch-size", "2",
            "--device", "cpu", "--out", str(out / "curvature.json"), "--quiet"]


def _boundary(run: Path, out: Path) -> list[str]:
    return ["plot", "boundary", str(run), "--index", "0", "--grid", "5", "--out",
            str(out / "b.png")]


def _shard(argv: Argv, part: str) -> Argv:
    return lambda run, out: [*argv(run, out), "--shard", part]


COMMANDS: dict[str, Argv] = {"attack": _attack, "analyze": _analyze, "noise": _noise}


def _error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    return err


SYMLINKED = [
    (_attack, "curve.csv"), (_attack, "curve.json"), (_attack, "curve.png"),
    (_shard(_attack, "0/2"), "attack.shard-0-of-2.json"),
    (_analyze, "rows.csv"), (_analyze, "profile.csv"), (_analyze, "analyze.json"),
    (_analyze, "summary.json"), (_analyze, "bounds_vs_measured.png"),
    (_shard(_analyze, "0/2"), "rows.shard-0-of-2.csv"),
    (_noise, "noise.json"), (_noise, "noise.csv"), (_noise, "noise.png"),
    (_shard(_noise, "1/2"), "noise.shard-1-of-2.json"),
    (_curvature, "curvature.json"), (_boundary, "b.png"), (_boundary, "b.json"),
]


@pytest.mark.parametrize(("argv", "name"), SYMLINKED, ids=[n for _, n in SYMLINKED])
def test_a_symlink_at_an_output_name_is_refused(run: Path, tmp_path: Path, argv: Argv,
                                                name: str, capsys: pytest.CaptureFixture[str]
                                                ) -> None:
    out, outside = tmp_path / "out", tmp_path / "outside.txt"
    out.mkdir()
    outside.write_text("precious\n")
    (out / name).symlink_to(outside)
    assert main(argv(run, out)) == 2
    assert "is a symlink; refusing to write through it" in _error(capsys)
    assert outside.read_text() == "precious\n"


@pytest.mark.parametrize(("kind", "name"), [
    ("attack", "curve.csv"), ("attack", "curve.png"), ("analyze", "rows.csv"),
    ("analyze", "analyze.json"), ("analyze", "summary.json"), ("noise", "noise.json")])
def test_a_symlink_at_a_merged_output_is_refused(run: Path, tmp_path: Path, kind: str,
                                                 name: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    out, outside = tmp_path / "out", tmp_path / "outside.txt"
    for part in ("0/2", "1/2"):
        assert main(_shard(COMMANDS[kind], part)(run, out)) == 0
    outside.write_text("precious\n")
    (out / name).symlink_to(outside)
    capsys.readouterr()
    assert main(["merge", kind, str(out)]) == 2
    assert "is a symlink; refusing to write through it" in _error(capsys)
    assert outside.read_text() == "precious\n"


def test_a_default_output_folder_leading_out_of_the_run_is_refused(
        run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (run / "attacks").symlink_to(elsewhere)
    assert main(_attack(run, run)[:-3] + ["--quiet"]) == 2  # no --out: RUN/attacks/pgd
    assert "resolves outside" in _error(capsys) and not any(elsewhere.iterdir())


@pytest.fixture(scope="module")
def analyze_shards(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``analyze`` shards 0/2 and 1/2 of two inputs (copied by the tests that edit them)."""
    root = tmp_path_factory.mktemp("shards")
    run = Path(shutil.copytree(GOLDEN, root / "run"))
    for part in ("0/2", "1/2"):
        assert main(_shard(_analyze, part)(run, root / "shards")) == 0
    return root / "shards"


@pytest.mark.parametrize("target", ["../secret.csv", "ABSOLUTE", "/etc/passwd", "link.csv",
                                    "sub/../../secret.csv"])
def test_a_shard_record_naming_a_file_outside_its_folder_is_refused_without_leaking_it(
        analyze_shards: Path, tmp_path: Path, target: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    out = Path(shutil.copytree(analyze_shards, tmp_path / "shards"))
    secret = tmp_path / "secret.csv"
    secret.write_text("index,SECRET-CONTENT\n0,SECRET-CONTENT\n")
    (out / "link.csv").symlink_to(secret)
    record_path = out / "analyze.shard-0-of-2.json"
    record = json.loads(record_path.read_text())
    record["payload"]["rows"] = str(secret) if target == "ABSOLUTE" else target
    record_path.write_text(json.dumps(record))
    assert main(["merge", "analyze", str(out)]) == 2
    err = _error(capsys)
    assert "SECRET-CONTENT" not in err and "root:" not in err and "refusing to read" in err
    assert not (out / "rows.csv").exists()


def test_analyze_resumes_only_with_the_same_settings_model_and_data(
        run: Path, tiny_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "an"
    assert main(_analyze(run, out)) == 0
    before = (out / "rows.csv").read_text()
    refused = [
        ([*_analyze(run, out), "--lanczos-iters", "4"], "settings.lanczos_iters: 4 vs 3"),
        ([*_analyze(run, out), "--split", "train"], "settings.split: 'train' vs 'test'"),
        (_analyze(tiny_run, out), "provenance.weights_sha256: '"),
    ]
    for argv, named in refused:
        capsys.readouterr()
        assert main(argv) == 2, argv
        err = _error(capsys)
        assert "rows.csv was computed with other settings" in err and named in err, err
    assert (out / "rows.csv").read_text() == before
    assert main(_analyze(run, out, 3)) == 0  # the same ones: resumes, old rows kept
    after = (out / "rows.csv").read_text()
    assert after.startswith(before) and len(after.splitlines()) == 4
    record = json.loads((out / "analyze.json").read_text())
    assert record["provenance"]["n"] == 3 and record["settings"]["lanczos_iters"] == 3
    record["provenance"]["data_tensors_sha256"] = "0" * 64  # rows of other data
    (out / "analyze.json").write_text(json.dumps(record))
    capsys.readouterr()
    assert main(_analyze(run, out, 2)) == 2
    assert "data_tensors_sha256 of the first 3 inputs" in _error(capsys)
    (out / "analyze.json").unlink()
    assert main(_analyze(run, out, 3)) == 2
    assert "has no analyze.json" in _error(capsys)


def _retrain(run: Path) -> None:
    """Other weights at the same path."""
    weights = load_file(run / "model.safetensors")
    save_file({k: v + 0.01 for k, v in weights.items()}, run / "model.safetensors")


@pytest.mark.parametrize("kind", ["attack", "noise", "analyze"])
def test_shards_of_other_weights_at_the_same_path_are_not_merged(
        run: Path, tmp_path: Path, kind: str, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "many"
    assert main(_shard(COMMANDS[kind], "0/2")(run, out)) == 0
    _retrain(run)
    assert main(_shard(COMMANDS[kind], "1/2")(run, out)) == 0
    capsys.readouterr()
    assert main(["merge", kind, str(out)]) == 2
    err = _error(capsys)
    assert "(provenance.weights_sha256: '" in err and "refusing to merge" in err
    assert not any(out.glob("summary.json")) and not any(out.glob("*.png"))


def test_a_million_radii_fail_fast(run: Path, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    started = time.perf_counter()
    with pytest.raises(ValueError, match=r"gives 1000000 values; at most 1000"):
        parse_epsilons("1:1000000:1")
    assert time.perf_counter() - started < 0.05
    assert len(parse_epsilons("1:1000")) == 1000
    main(["attack", "--help"])  # import the command modules first: time the request only
    started = time.perf_counter()
    assert main([*_attack(run, tmp_path / "out")[:3], "1:1000000:1"]) == 2
    assert time.perf_counter() - started < 0.5
    assert "gives 1000000 values; at most 1000" in _error(capsys)
    assert not (run / "attacks").exists()


@pytest.mark.parametrize("argv", [_attack, _analyze, _noise, _curvature],
                         ids=["attack", "analyze", "noise", "curvature"])
def test_n_beyond_the_data_names_the_count(run: Path, tmp_path: Path, argv: Argv,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    args = argv(run, tmp_path / "out")
    args[args.index("--n") + 1] = "20000"
    assert main(args) == 2
    assert _error(capsys) == f"error: {TOO_MANY}\n"
    assert not (tmp_path / "out").exists()


def test_default_n_and_a_large_batch_take_all_the_data_but_a_zero_batch_fails(
        run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = _attack(run, tmp_path / "out")
    del args[args.index("--n"):args.index("--n") + 2]  # default: 10000, or all 500
    args[args.index("--batch-size") + 1] = "100000"
    assert main(args) == 0
    assert json.loads((tmp_path / "out" / "curve.json").read_text())["curve"]["n"] == 500
    args[args.index("--batch-size") + 1] = "0"
    capsys.readouterr()
    assert main(args) == 2
    assert _error(capsys) == "error: --batch-size must be positive, got 0\n"


@pytest.mark.parametrize("kind", ["boundary", "taylor"])
@pytest.mark.parametrize(("index", "message"), [
    ("20000", "--index must be in [0, 499], got 20000 (mnist-rows-test has 500 inputs)"),
    ("-1", "--index must be an integer >= 0, got -1")])
def test_a_plot_index_out_of_range_fails_before_any_file(
        run: Path, tmp_path: Path, kind: str, index: str, message: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plot", kind, str(run), "--index", index]) == 2
    assert _error(capsys) == f"error: {message}\n"
    assert not (run / "figures").exists()


@pytest.mark.parametrize(("text", "escaped"), [
    ("a|b", r"a\|b"), ("*x*", r"\*x\*"), ("[l](u)", r"\[l\](u)"), ("<b>&", r"\<b\>\&"),
    ("$x$", r"\$x\$"), ("`c`", r"\`c\`"), ("~~s~~", r"\~\~s\~\~"), ("a\\b", r"a\\b"),
    ("arch_lstm", "arch_lstm"), ("_x_", r"\_x\_"), ("# h", r"\# h"), ("- i", r"\- i"),
    ("1. x", r"1\. x"), ("1.5", "1.5"), ("a\nb", "a b"), ("hessian (λ=0.01)", "hessian (λ=0.01)"),
])
def test_md_escape(text: str, escaped: str) -> None:
    assert md_escape(text) == escaped


def _cells(line: str) -> int:
    return len(re.findall(r"(?<!\\)\|", line))


def test_names_cannot_break_markdown_tables_or_fences() -> None:
    curve = RobustnessCurve(label="x|y *z*", settings=AttackSettings(attack="pgd"), eps=(1.0,),
                            accuracy=(0.5,), clean_accuracy=0.9, n=10, seconds=0.0)
    lines = format_table([curve], eps=(1.0,)).splitlines()
    assert len({_cells(line) for line in lines}) == 1 and r"x\|y \*z\*" in lines[2]
    row = {"dataset": "A|B", "mode": "plain", "lam": 0.0, "clean_acc": 0.9, "eps1": 0.1,
           "eps2": 0.2, "pgd_acc_eps1": 0.5, "pgd_acc_eps2": 0.4, "analysed": 3,
           "median_lower": 0.1, "median_measured": 0.2, "bracket": 1.0,
           "lower_le_measured": 1.0, "median_v": 0.1, "spearman_v": 0.5,
           "train_seconds": 1.0}
    lines = grid_table([row]).splitlines()
    assert len({_cells(line) for line in lines}) == 1 and r"A\|B" in lines[2]
    block = md_code_block('{"name": "```"}', "json")
    assert block.startswith("````json\n") and block.endswith("\n````")


@pytest.mark.parametrize("name", [r"run $\mathbad$", "cost $5 and $6", "$x^2$"])
def test_mpl_escape_keeps_mathtext_out(name: str) -> None:
    assert cbook.is_math_text(name) and not cbook.is_math_text(mpl_escape(name))
    fig = Figure()
    fig.subplots().set_title(mpl_escape(name))
    fig.savefig(io.BytesIO(), format="png")  # renders literally


def test_a_run_named_like_a_formula_still_gets_its_plot(tmp_path: Path) -> None:
    run = Path(shutil.copytree(GOLDEN, tmp_path / r"run $\mathbad$"))
    assert main(_attack(run, tmp_path / "out")) == 0  # the legend holds the run's name
    assert (tmp_path / "out" / "curve.png").read_bytes()[:4] == b"\x89PNG"
