"""How big a recurrent classifier is, checked before anything is allocated.

``--hidden 1000000`` or ``--layers 10000000`` must end in a one-line error with the estimate,
not in an allocator crash or an hour spent creating parameters. Two checks:
:func:`check_size` (machine-independent caps, run by the config) and :func:`check_memory` (the
machine's memory, run before a model is built for training).
"""

from __future__ import annotations

import os

import torch

MAX_LAYERS = 1000
MAX_PARAMETERS = 1 << 31
"""The most parameters seqrobust builds (8 GiB of float32 weights)."""
BYTES_PER_PARAMETER = 16
"""float32 weights, gradients and Adam's two moments."""
_GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def recurrent_parameters(
    *, cell: str, input_size: int, hidden: int, layers: int, classes: int
) -> int:
    """The parameter count of :class:`~seqrobust.models.RecurrentClassifier` with these sizes
    (input and recurrent weights and biases per layer, plus the linear head)."""
    gates = _GATES.get(cell, 4)
    first = gates * hidden * (input_size + hidden + 2)
    rest = (layers - 1) * gates * hidden * (2 * hidden + 2)
    return first + rest + hidden * classes + classes


def check_size(
    *, cell: str, hidden: int, layers: int, input_size: int = 1, classes: int = 2
) -> int:
    """Refuse a model above :data:`MAX_LAYERS` layers or :data:`MAX_PARAMETERS` parameters
    (the defaults give the smallest possible count for the data: 1 feature, 2 classes).

    Returns:
        The parameter count.

    Raises:
        ValueError: with the parameter count, naming the sizes to lower.
    """
    if layers > MAX_LAYERS:
        raise ValueError(f"layers must be at most {MAX_LAYERS}, got {layers}")
    count = recurrent_parameters(cell=cell, input_size=input_size, hidden=hidden,
                                 layers=layers, classes=classes)
    if count > MAX_PARAMETERS:
        raise ValueError(f"hidden {hidden} x layers {layers} ({cell}) is at least {count:.3g} "
                         f"parameters, above the limit of {MAX_PARAMETERS:.3g}; lower --hidden "
                         "or --layers")
    return count


def available_memory(device: torch.device) -> int:
    """Bytes a model may use on ``device``: free GPU memory, else physical RAM."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(free)
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # not POSIX: no estimate
        return 1 << 62


def check_memory(count: int, device: torch.device, *, what: str) -> None:
    """Refuse to train ``count`` parameters if weights, gradients and Adam state alone need
    more than half the memory of ``device``.

    Raises:
        ValueError: with the estimate and the memory available.
    """
    need, have = count * BYTES_PER_PARAMETER, available_memory(device)
    if need > have // 2:
        raise ValueError(f"{what} has {count:.3g} parameters, about {need / 2**30:.3g} GiB to "
                         f"train (weights, gradients, Adam state), more than half of the "
                         f"{have / 2**30:.3g} GiB on {device}; lower --hidden or --layers")
