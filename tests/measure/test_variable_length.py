"""Variable-length, unbounded data through analyze / attack / noise: per-input results equal
running each input trimmed to its real steps alone; padding never changes them; no clipping;
perturbation units."""

from __future__ import annotations

import csv
import json
import math
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from seqrobust.attacks import LinfPGD, sweep
from seqrobust.attacks.minimal_norm import minimal_l2
from seqrobust.cli import main
from seqrobust.data import SequenceData
from seqrobust.measure._lengths import UNBOUNDED, attack_bounds, map_groups
from seqrobust.measure.bounds_table import bound_columns
from seqrobust.measure.noise import NoiseConfig, analyse_input
from seqrobust.measure.noise_bound import run_noise
from seqrobust.measure.robustness import AttackSettings, robustness_curve
from seqrobust.models import Classifier, RecurrentClassifier, differentiable_forward
from seqrobust.runs import load as run_data
from seqrobust.runs.analyze import AnalyzeConfig, run_analyze
from seqrobust.runs.attack import write_curve
from seqrobust.training import TrainConfig, save_checkpoint

T, F, L = 5, 2, 3
LENGTHS = torch.tensor([5, 2, 3, 5, 4, 2, 3])


def _data(pad: int = 0, junk: float = 0.0) -> SequenceData:
    """Standardised-like synthetic sequences (values well outside [0, 1]), padded after each
    end with ``junk``, ``pad`` extra steps."""
    gen = torch.Generator().manual_seed(3)
    x = 1.5 * torch.randn(len(LENGTHS), T, F, generator=gen)
    x = torch.cat([x, torch.zeros(len(LENGTHS), pad, F)], dim=1)
    mask = torch.arange(T + pad)[None, :] < LENGTHS[:, None]
    x[~mask] = junk
    return SequenceData(
        inputs=x, labels=torch.tensor([0, 1, 2, 0, 1, 2, 0]), num_classes=L, name="synthetic",
        lengths=LENGTHS.clone(), bounds=None, eps_scale=1.0, eps_unit="training std",
    )


def _model() -> RecurrentClassifier:
    torch.manual_seed(1)
    model = RecurrentClassifier(input_size=F, num_classes=L, cell="lstm", hidden_size=6,
                                num_layers=1)
    with torch.no_grad():
        model.head.weight.mul_(8.0)  # clear margins, so attacks have something to find
    return model.eval()


def _run(folder: Path) -> Path:
    folder.mkdir()
    cfg = TrainConfig(dataset="mnist-subset", hidden=6, layers=1, cell="lstm")
    (folder / "config.json").write_text(json.dumps(cfg.to_json()))
    save_checkpoint(folder / "model", model=_model(), meta={"step": 0, "model": _model().config()})
    return folder


def _rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(path.read_text().splitlines()))


def test_length_groups_and_scatter() -> None:
    x = torch.arange(len(LENGTHS) * T * F, dtype=torch.float64).reshape(-1, T, F)
    groups = Classifier(_model().double()).groups(x, LENGTHS)
    assert [g.length for g in groups] == [2, 3, 4, 5]
    assert [g.rows.tolist() for g in groups] == [[1, 5], [2, 6], [4], [0, 3]]
    assert [g.length for g in Classifier(_model().double()).groups(x[:3], None)] == [T]
    out = map_groups(
        lambda xg, rows, g: {"sum": xg.sum((1, 2)), "steps": xg[:, :, 0], "rows": rows},
        x, groups, per_step=("steps",),
    )
    mask = torch.arange(T)[None, :] < LENGTHS[:, None]
    assert torch.equal(out["rows"], torch.arange(len(LENGTHS)))
    assert torch.equal(out["sum"], (x * mask[..., None]).sum((1, 2)))
    assert torch.equal(out["steps"][mask], x[..., 0][mask])
    assert bool(out["steps"][~mask].isnan().all())


def test_attack_bounds() -> None:
    data = _data()
    assert attack_bounds(data) == UNBOUNDED
    assert attack_bounds(replace(data, inputs=data.inputs.clamp(0, 1), bounds=(0.0, 1.0))) == (
        0.0, 1.0)
    with pytest.raises(ValueError, match="too large"):
        attack_bounds(replace(data, inputs=data.inputs * 1e5))


@pytest.fixture()
def synthetic(monkeypatch: pytest.MonkeyPatch) -> dict[str, SequenceData]:
    """Route every dataset load of the experiments to the synthetic sets."""
    sets = {"plain": _data(), "padded": _data(pad=3, junk=40.0)}
    choice = {"name": "plain"}

    def fake_load(name: str, **kwargs: object) -> SequenceData:
        return sets[choice["name"]]

    monkeypatch.setattr(run_data, "load_dataset", fake_load)
    sets["_choice"] = choice  # type: ignore[assignment]
    return sets


ANALYZE = AnalyzeConfig(n=7, batch_size=4, lanczos_iters=T * F, fmn_steps=30, profile_n=7,
                        device="cpu")
EXACT = ("index", "pred", "runner_up", "correct", "lower_class", "best_class")
CLOSE = ("t", "j_norm", "v", "abs_j_dot_u", "lower", "upper", "best", "deepfool",
         "deepfool_refined", "fmn", "measured")


def test_analyze_per_input_equals_trimmed_alone_and_padding_changes_nothing(
    synthetic: dict, tmp_path: Path
) -> None:
    run = _run(tmp_path / "run")
    run_analyze(run, tmp_path / "a", ANALYZE, progress=False, plots=False)
    synthetic["_choice"]["name"] = "padded"
    summary = run_analyze(run, tmp_path / "b", ANALYZE, progress=False, plots=False)
    assert summary["unit"] == "training std" and summary["inputs"] == 7
    rows, rows_padded = _rows(tmp_path / "a/rows.csv"), _rows(tmp_path / "b/rows.csv")
    assert rows == rows_padded  # padding (values, extra steps) never changes any column
    prof = _rows(tmp_path / "a/profile.csv")
    model, data = _model(), _data()
    f = differentiable_forward(model, functional=True)
    for i, (row, p) in enumerate(zip(rows, prof, strict=True)):
        n = int(LENGTHS[i])
        x = data.inputs[i : i + 1, :n]  # the input alone, trimmed: d = n * F dimensions
        cols = bound_columns(f, x, lanczos_iters=n * F)
        att = minimal_l2(model, x, labels=cols["pred"], fmn_steps=30, bounds=(-1e6, 1e6))
        alone = {**{k: float(v[0]) for k, v in cols.items() if v.dim() == 1},
                 "measured": float(att.best.norms[0]), "fmn": float(att.fmn.norms[0]),
                 "deepfool": float(att.deepfool.norms[0]),
                 "deepfool_refined": float(att.deepfool_refined.norms[0]), "index": i,
                 "correct": bool(cols["pred"][0] == data.labels[i])}
        for key in EXACT:
            assert str(alone[key]) == row[key] or float(row[key]) == alone[key], key
        for key in CLOSE:
            assert float(row[key]) == pytest.approx(alone[key], rel=2e-4, abs=1e-6), (i, key)
        assert math.isfinite(float(row["measured"]))
        grad = cols["grad_runner_up"][0].norm(dim=1)
        for s in range(T):
            if s < n:
                assert float(p[f"grad_{s}"]) == pytest.approx(float(grad[s]), rel=1e-4)
                assert math.isfinite(float(p[f"curv_{s}"]))
            else:
                assert math.isnan(float(p[f"grad_{s}"])) and math.isnan(float(p[f"curv_{s}"]))
    time_steps = json.loads((tmp_path / "a/summary.json").read_text())["time_steps"]
    assert time_steps["inputs_with_curvature"] == 7


def test_attack_per_input_equals_trimmed_alone_unclipped_in_data_units() -> None:
    model, data = _model(), _data()
    settings = AttackSettings(attack="pgd", alpha=0.05, steps=10, random_start=False)
    eps = (0.1, 0.3, 1.0)
    curve = robustness_curve(model, data, settings=settings, eps=eps, batch_size=3)
    assert curve.unit == "training std" and curve.n == 7
    attack = LinfPGD(alpha=0.05, steps=10, random_start=False)
    for i in range(len(data)):
        x = data.inputs[i : i + 1, : int(LENGTHS[i])]
        alone = sweep(attack, model, x, data.labels[i : i + 1], epsilons=eps,
                      bounds=(-1e6, 1e6))  # effectively no bounds: nothing clipped
        assert curve.first_fooled[i] == int(alone.first_fooled[0])
    # eps are in data units: eps_scale 0.5 model units per unit halves every radius and step
    half = replace(data, eps_scale=0.5, eps_unit="half")
    doubled = robustness_curve(model, half, settings=replace(settings, alpha=0.1),
                               eps=tuple(2 * e for e in eps), batch_size=3)
    assert doubled.first_fooled == curve.first_fooled and doubled.unit == "half"
    assert any(k < len(eps) for k in curve.first_fooled)  # the attack does find something


def test_curve_files_name_the_unit(tmp_path: Path) -> None:
    curve = robustness_curve(_model(), _data(), settings=AttackSettings(steps=2),
                             eps=(0.5,), batch_size=7)
    write_curve(curve, tmp_path, checks=[], plot=False)
    header = (tmp_path / "curve.csv").read_text().splitlines()[0]
    assert header == "eps_training_std,robust_accuracy"


def test_noise_trims_each_input() -> None:
    model, data = _model(), _data(pad=2, junk=9.0)
    cfg = NoiseConfig(n_inputs=3, rho=(1.0, 10.0), samples=20, num_kappa=5, eps_scale=1.0,
                      unit="training std", bounds=None)
    records = run_noise(model, data.inputs, data.labels, cfg, lengths=data.lengths)
    for i, rec in enumerate(records):
        n = int(LENGTHS[i])
        assert rec.d == n * F
        alone = analyse_input(model, data.inputs[i : i + 1, :n], index=i, label=0, cfg=cfg,
                              generator=torch.Generator().manual_seed(0))
        for key in ("t", "jnorm", "lam_min", "lam_max", "r_star", "pred", "runner_up"):
            assert getattr(rec, key) == pytest.approx(getattr(alone, key), rel=1e-6, abs=1e-9)
        # unbounded data are not clipped: the clipped Monte Carlo equals the unclipped one
        assert rec.p_clipped == rec.p_unclipped


aeon = pytest.importorskip("aeon")


def _aeon_run(folder: Path) -> Path:
    folder.mkdir()
    cfg = TrainConfig(dataset="JapaneseVowels", hidden=4, layers=1)
    (folder / "config.json").write_text(json.dumps(cfg.to_json()))
    model = RecurrentClassifier(input_size=12, num_classes=9, hidden_size=4, num_layers=1)
    save_checkpoint(folder / "model", model=model, meta={"step": 0, "model": model.config()})
    return folder


def test_cli_on_japanese_vowels_and_dataset_mismatch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = _aeon_run(tmp_path / "jv")
    assert main(["attack", str(run), "--n", "12", "--steps", "3", "--eps", "0.1,0.5",
                 "--out", str(tmp_path / "att"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "JapaneseVowels-test, ε in training std" in out
    record = json.loads((tmp_path / "att/curve.json").read_text())["curve"]
    assert record["unit"] == "training std" and record["eps"] == [0.1, 0.5]
    assert main(["analyze", str(run), "--n", "3", "--lanczos-iters", "4", "--fmn-steps", "5",
                 "--profile-n", "1", "--no-plots", "--out", str(tmp_path / "an"), "--quiet",
                 "--device", "cpu"]) == 0
    assert json.loads(capsys.readouterr().out)["unit"] == "training std"
    assert main(["noise", str(run), "--n", "1", "--samples", "8", "--num-kappa", "4",
                 "--out", str(tmp_path / "no"), "--quiet"]) == 0
    printed = json.loads(capsys.readouterr().out)
    first = run_data.load_dataset("JapaneseVowels", split="test", limit=1)
    assert printed["d"] == 12 * first.seq_len
    assert printed["unit"] == "training std"
    # another dataset with other features/classes: one-line error
    for command in ("attack", "analyze", "noise"):
        assert main([command, str(run), "--dataset", "GunPoint", "--quiet"]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: dataset GunPoint-test has 1 features") and err.count(
            "\n") == 1
