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
from torch import nn

from seqrobust.models.tcn import TCNClassifier, blocks_for, receptive_field

T, F, C = 5, 2, 3


def _tiny(**kw):
    args = {"input_size": F, "num_classes": C, "hidden_size": 8, "num_layers": 2, **kw}
    return TCNClassifier(**args).double().eval()


def _padded_batch():
    return padded_batch(T, F)


def test_shapes_float32_defaults():
    model = TCNClassifier(input_size=28, num_classes=10, max_len=28)
    assert model.num_layers == 3 and model.receptive_field == 29
    out = model(torch.rand(4, 28, 28), torch.tensor([28, 20, 5, 1]))
    assert out.shape == (4, 10) and out.dtype == torch.float32
    assert model.input_size == 28 and model.num_classes == 10
    assert TCNClassifier(input_size=1, num_classes=2).num_layers == 9  # 1024 steps, k = 3


@pytest.mark.parametrize(("max_len", "kernel_size"), [(1, 2), (28, 3), (784, 3), (100, 5)])
def test_blocks_for_is_the_fewest_that_cover(max_len, kernel_size):
    layers = blocks_for(max_len, kernel_size)
    assert receptive_field(layers, kernel_size) >= max_len
    assert layers == 1 or receptive_field(layers - 1, kernel_size) < max_len
    model = TCNClassifier(input_size=1, num_classes=2, max_len=max_len, kernel_size=kernel_size)
    assert model.num_layers == layers


def test_receptive_field_is_exact_and_causal():
    model = _tiny(kernel_size=2)  # receptive field 1 + 2 * 1 * (2^2 - 1) = 7
    assert model.receptive_field == 7
    x = torch.randn(1, 12, F, dtype=torch.float64)
    t = 10
    jac = torch.autograd.functional.jacobian(lambda z: model.features(z)[0, t], x)
    reach = jac.abs().sum(dim=(0, 1, 3))  # (12,) influence of each input step on step t
    seen = torch.nonzero(reach).flatten().tolist()
    assert seen == list(range(t - 6, t + 1))


def test_skip_convolution_only_when_widths_differ():
    model = _tiny()
    assert isinstance(model.blocks[0].skip, nn.Conv1d)
    assert isinstance(model.blocks[1].skip, nn.Identity)
    assert isinstance(_tiny(input_size=8).blocks[0].skip, nn.Identity)
    assert [b.conv1.dilation[0] for b in _tiny(num_layers=3).blocks] == [1, 2, 4]


@pytest.mark.parametrize("target", ["logit", "margin"])
def test_hessian_matches_torch_func(target):
    check_hessian_matches_torch_func(_tiny(), target, T, F)


def test_gradcheck_and_gradgradcheck():
    check_gradcheck(_tiny(), F)


def test_padding_matches_trimmed_sequences():
    check_padding_matches_trimmed(_tiny(), *_padded_batch())


def test_padded_tail_changes_nothing():
    check_padded_tail_changes_nothing(_tiny(), *_padded_batch())


def test_padded_steps_get_zero_gradient_and_curvature():
    check_padded_steps_get_zero_gradient_and_curvature(_tiny(), *_padded_batch())


def test_batch_independence():
    check_batch_independence(_tiny(), *_padded_batch())


def test_dropout_only_in_training():
    check_dropout_only_in_training(_tiny, T, F)


def test_twice_differentiable_path_and_weight_gradients():
    check_twice_differentiable_path(_tiny(), *_padded_batch(), lambda m: (
        m.blocks[0].conv1.weight, m.blocks[1].conv2.weight, m.head.weight))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"hidden_size": 0}, "hidden_size must be a positive integer"),
        ({"num_layers": 0}, "num_layers must be a positive integer"),
        ({"max_len": -3}, "max_len must be a positive integer"),
        ({"input_size": 2.0}, "input_size must be a positive integer"),
        ({"num_classes": 1}, "num_classes must be at least 2"),
        ({"kernel_size": 1}, "kernel_size must be an integer >= 2"),
        ({"dropout": -0.1}, "dropout must be in"),
    ],
)
def test_bad_configuration(kwargs, message):
    args = {"input_size": 3, "num_classes": 4, **kwargs}
    with pytest.raises(ValueError, match=message):
        TCNClassifier(**args)


@pytest.mark.parametrize(
    ("lengths", "message"),
    [
        (torch.tensor([[5, 3, 1]]), r"lengths must have shape \(3,\)"),
        (torch.tensor([5, 0, 1]), r"lengths must lie in \[1, 5\]"),
        (torch.tensor([6, 3, 1]), r"lengths must lie in \[1, 5\]"),
    ],
)
def test_bad_lengths(lengths, message):
    x, _ = _padded_batch()
    with pytest.raises(ValueError, match=message):
        _tiny()(x, lengths)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_hessian_vector_product_matches_cpu():
    check_cuda_matches_cpu(_tiny(), *_padded_batch())
