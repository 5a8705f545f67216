import pytest
import torch
from sequence_contract import (
    check_batch_independence,
    check_cuda_matches_cpu,
    check_dropout_only_in_training,
    check_gradcheck,
    check_hessian_matches_torch_func,
    check_padded_steps_get_zero_gradient_and_curvature,
    check_padded_tail_changes_nothing,
    check_padding_matches_trimmed,
    check_twice_differentiable_path,
    padded_batch,
)

from seqrobust.models.transformer import TransformerClassifier, sinusoidal_positions

T, F, C = 5, 2, 3


def _tiny(positions="sinusoidal", **kw):
    model = TransformerClassifier(
        input_size=F, num_classes=C, hidden_size=8, heads=2, positions=positions, max_len=8, **kw
    )
    if positions == "learned":  # a non-trivial table (the init is small)
        with torch.no_grad():
            model.position_table.normal_()
    return model.double().eval()


def _padded_batch():
    return padded_batch(T, F)


def test_shapes_float32_defaults():
    model = TransformerClassifier(input_size=28, num_classes=10)
    assert model.hidden_size == 128 and model.num_layers == 2 and model.heads == 4
    out = model(torch.rand(4, 28, 28), torch.tensor([28, 20, 5, 1]))
    assert out.shape == (4, 10) and out.dtype == torch.float32
    assert model.input_size == 28 and model.num_classes == 10


def test_sinusoidal_table():
    table = sinusoidal_positions(6, 5)
    pos = torch.arange(6.0)
    torch.testing.assert_close(table[:, 0], torch.sin(pos))
    torch.testing.assert_close(table[:, 1], torch.cos(pos))
    torch.testing.assert_close(table[:, 4], torch.sin(pos * 1e4 ** (-4 / 5)))
    model = _tiny()
    assert "position_table" not in model.state_dict()  # rebuilt from the config
    assert "position_table" in _tiny("learned").state_dict()


@pytest.mark.parametrize("positions", ["sinusoidal", "learned"])
@pytest.mark.parametrize("target", ["logit", "margin"])
def test_hessian_matches_torch_func(positions, target):
    check_hessian_matches_torch_func(_tiny(positions), target, T, F)


def test_gradcheck_and_gradgradcheck():
    check_gradcheck(_tiny("learned"), F)


def test_padding_matches_trimmed_sequences():
    check_padding_matches_trimmed(_tiny(), *_padded_batch())


def test_padded_tail_changes_nothing():
    check_padded_tail_changes_nothing(_tiny("learned"), *_padded_batch())


def test_padded_steps_get_zero_gradient_and_curvature():
    check_padded_steps_get_zero_gradient_and_curvature(_tiny(), *_padded_batch())


def test_batch_independence():
    check_batch_independence(_tiny(), *_padded_batch())


def test_dropout_only_in_training():
    check_dropout_only_in_training(_tiny, T, F)


def test_twice_differentiable_path_and_weight_gradients():
    check_twice_differentiable_path(_tiny("learned"), *_padded_batch(), lambda m: (
        m.blocks[0].qkv.weight, m.position_table, m.embed.weight))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"hidden_size": 0}, "hidden_size must be a positive integer"),
        ({"num_layers": -1}, "num_layers must be a positive integer"),
        ({"heads": 0}, "heads must be a positive integer"),
        ({"max_len": 0}, "max_len must be a positive integer"),
        ({"ff_mult": 1.5}, "ff_mult must be a positive integer"),
        ({"input_size": True}, "input_size must be a positive integer"),
        ({"num_classes": 1}, "num_classes must be at least 2"),
        ({"hidden_size": 10, "heads": 4}, "hidden_size 10 must be divisible by heads 4"),
        ({"dropout": 1.0}, "dropout must be in"),
        ({"positions": "rotary"}, "unknown positions 'rotary'"),
    ],
)
def test_bad_configuration(kwargs, message):
    args = {"input_size": 3, "num_classes": 4, **kwargs}
    with pytest.raises(ValueError, match=message):
        TransformerClassifier(**args)


@pytest.mark.parametrize(
    ("lengths", "message"),
    [
        (torch.tensor([5, 3]), r"lengths must have shape \(3,\)"),
        (torch.tensor([5, 0, 1]), r"lengths must lie in \[1, 5\]"),
        (torch.tensor([6, 3, 1]), r"lengths must lie in \[1, 5\]"),
    ],
)
def test_bad_lengths(lengths, message):
    x, _ = _padded_batch()
    with pytest.raises(ValueError, match=message):
        _tiny()(x, lengths)


def test_too_long_sequence():
    with pytest.raises(ValueError, match="sequence of 9 steps exceeds max_len 8"):
        _tiny()(torch.randn(1, 9, F, dtype=torch.float64))


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_hessian_vector_product_matches_cpu():
    check_cuda_matches_cpu(_tiny("learned"), *_padded_batch())
