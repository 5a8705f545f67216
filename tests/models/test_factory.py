import json

import pytest
import torch

from seqrobust.models.factory import ARCHS, build_classifier, classifier_from_config
from seqrobust.models.recurrent import RecurrentClassifier
from seqrobust.models.tcn import TCNClassifier
from seqrobust.models.transformer import TransformerClassifier

_KINDS = {
    "rnn": RecurrentClassifier,
    "lstm": RecurrentClassifier,
    "gru": RecurrentClassifier,
    "transformer": TransformerClassifier,
    "tcn": TCNClassifier,
}


def _build(arch, **kw):
    args = {"input_size": 3, "num_classes": 4, "hidden_size": 8, "heads": 2, **kw}
    return build_classifier(arch, **args)


def test_archs():
    assert ARCHS == ("rnn", "lstm", "gru", "transformer", "tcn")


@pytest.mark.parametrize("arch", ARCHS)
def test_build_classifier(arch):
    model = _build(arch, num_layers=3, dropout=0.25)
    assert type(model) is _KINDS[arch]
    assert (model.input_size, model.num_classes) == (3, 4)
    assert (model.hidden_size, model.num_layers, model.dropout) == (8, 3, 0.25)
    config = model.config()
    assert config.get("arch", "rnn") == ("rnn" if arch in ("lstm", "gru") else arch)
    if isinstance(model, RecurrentClassifier):
        assert model.cell == arch and "arch" not in config
    out = model.eval()(torch.randn(2, 6, 3), torch.tensor([6, 2]))
    assert out.shape == (2, 4)


def test_build_passes_heads_to_the_transformer_only():
    assert _build("transformer", heads=4).heads == 4
    assert isinstance(_build("tcn", heads=3), TCNClassifier)  # ignored, not validated
    with pytest.raises(ValueError, match="hidden_size 8 must be divisible by heads 3"):
        _build("transformer", heads=3)


def test_build_unknown_arch():
    message = "unknown arch 'cnn'; choose one of rnn, lstm, gru, transformer, tcn"
    with pytest.raises(ValueError, match=message):
        _build("cnn")


@pytest.mark.parametrize("arch", ARCHS)
def test_config_round_trip(arch):
    model = _build(arch).double().eval()
    config = json.loads(json.dumps(model.config()))
    rebuilt = classifier_from_config(config).double().eval()
    assert type(rebuilt) is type(model) and rebuilt.config() == model.config()
    rebuilt.load_state_dict(model.state_dict())
    x = torch.randn(3, 6, 3, dtype=torch.float64)
    lengths = torch.tensor([6, 4, 1])
    assert torch.equal(rebuilt(x, lengths), model(x, lengths))


def test_round_trip_keeps_non_default_options():
    model = TransformerClassifier(
        input_size=2,
        num_classes=3,
        hidden_size=6,
        num_layers=1,
        heads=3,
        dropout=0.1,
        positions="learned",
        max_len=16,
        ff_mult=2,
    )
    assert classifier_from_config(model.config()).config() == model.config()
    tcn = TCNClassifier(input_size=2, num_classes=3, kernel_size=4, max_len=50)
    rebuilt = classifier_from_config(tcn.config())
    assert isinstance(rebuilt, TCNClassifier)
    assert (rebuilt.num_layers, rebuilt.kernel_size, rebuilt.receptive_field) == (4, 4, 91)


def test_recurrent_config_without_arch():
    config = {"input_size": 3, "num_classes": 4, "cell": "gru", "hidden_size": 5}
    model = classifier_from_config(config)
    assert isinstance(model, RecurrentClassifier) and model.cell == "gru"
    lstm = classifier_from_config({"arch": "lstm", "input_size": 3, "num_classes": 4})
    assert isinstance(lstm, RecurrentClassifier) and lstm.cell == "lstm"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"arch": "cnn", "input_size": 3, "num_classes": 4}, "unknown arch 'cnn'"),
        (
            {"arch": "tcn", "input_size": 3, "num_classes": 4, "heads": 2},
            "unknown config key 'heads' for arch tcn",
        ),
        (
            {"input_size": 3, "num_classes": 4, "positions": "learned"},
            "unknown config key 'positions' for arch rnn/lstm/gru",
        ),
        (
            {"arch": "transformer", "num_classes": 4},
            "config for arch transformer is missing input_size",
        ),
        (
            {"arch": "gru", "cell": "lstm", "input_size": 3, "num_classes": 4},
            "config has arch 'gru' but cell 'lstm'",
        ),
        (
            {"arch": "transformer", "input_size": 3, "num_classes": 4, "heads": 0},
            "heads must be a positive integer",
        ),
    ],
)
def test_bad_config(config, message):
    with pytest.raises(ValueError, match=message):
        classifier_from_config(config)
