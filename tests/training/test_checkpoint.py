import json

import pytest
import torch

from seqrobust.models import RecurrentClassifier
from seqrobust.training import load_checkpoint, save_checkpoint


def _model():
    return RecurrentClassifier(input_size=3, num_classes=4, cell="lstm", hidden_size=5)


def test_roundtrip_with_optimizer_and_rng(tmp_path):
    model = _model()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model(torch.randn(2, 4, 3)).sum().backward()
    opt.step()
    save_checkpoint(tmp_path / "c", model=model, optimizer=opt, meta={"step": 7})
    expected_draw = torch.rand(3)
    assert not list(tmp_path.glob("*.pt")) and not list(tmp_path.glob(".*tmp"))

    other = _model()
    other_opt = torch.optim.Adam(other.parameters(), lr=1e-3)
    meta = load_checkpoint(tmp_path / "c", model=other, optimizer=other_opt, restore_rng=True)
    assert meta == {"step": 7}
    torch.testing.assert_close(torch.rand(3), expected_draw)
    for a, b in zip(model.state_dict().values(), other.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    s1, s2 = opt.state_dict(), other_opt.state_dict()
    assert s1["param_groups"] == s2["param_groups"]
    for pid in s1["state"]:
        for key in ("exp_avg", "exp_avg_sq", "step"):
            torch.testing.assert_close(s1["state"][pid][key], s2["state"][pid][key], rtol=0, atol=0)


def test_corrupt_and_mismatched_checkpoints(tmp_path):
    model = _model()
    save_checkpoint(tmp_path / "c", model=model)
    st = tmp_path / "c.safetensors"
    good = st.read_bytes()
    st.write_bytes(good[: len(good) // 2])
    with pytest.raises(ValueError, match=r"checkpoint .*c: corrupt"):
        load_checkpoint(tmp_path / "c", model=model)
    st.write_bytes(good)
    (tmp_path / "c.json").write_text("{not json")
    with pytest.raises(ValueError, match="corrupt"):
        load_checkpoint(tmp_path / "c", model=model)
    (tmp_path / "c.json").write_text(json.dumps({"format": "seqrobust-checkpoint-1"}))
    bigger = RecurrentClassifier(input_size=3, num_classes=4, cell="lstm", hidden_size=6)
    with pytest.raises(ValueError, match="does not fit the model"):
        load_checkpoint(tmp_path / "c", model=bigger)
    with pytest.raises(ValueError, match="missing file"):
        load_checkpoint(tmp_path / "nothing", model=model)
    with pytest.raises(ValueError, match="no optimizer state"):
        load_checkpoint(
            tmp_path / "c", model=model, optimizer=torch.optim.SGD(model.parameters(), lr=1)
        )


def test_pair_from_two_saves_is_refused(tmp_path):
    model = _model()
    save_checkpoint(tmp_path / "c", model=model, meta={"step": 1})
    first = (tmp_path / "c.json").read_text()
    with torch.no_grad():
        model.head.bias.add_(1.0)
    save_checkpoint(tmp_path / "c", model=model, meta={"step": 2})
    (tmp_path / "c.json").write_text(first)  # the new weights with the old record
    with pytest.raises(ValueError, match=r"c\.json: sha256 does not match c\.safetensors"):
        load_checkpoint(tmp_path / "c", model=_model())


def test_non_finite_weights_are_never_saved(tmp_path):
    model = _model()
    with torch.no_grad():
        model.head.weight[0, 0] = float("nan")
    with pytest.raises(ValueError, match=r"refusing to save non-finite weights \(head.weight\)"):
        save_checkpoint(tmp_path / "c", model=model)
    assert not list(tmp_path.iterdir())


def test_json_is_strict_and_names_the_digest(tmp_path):
    save_checkpoint(tmp_path / "c", model=_model(), meta={"acc": 0.5})
    record = json.loads((tmp_path / "c.json").read_text())
    assert set(record) == {"format", "meta", "sha256"} and len(record["sha256"]) == 64
    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        save_checkpoint(tmp_path / "d", model=_model(), meta={"acc": float("nan")})
    assert not list(tmp_path.glob("d.*"))
