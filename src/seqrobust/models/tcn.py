"""A temporal convolutional network (TCN) sequence classifier.

Residual blocks of dilated *causal* 1-D convolutions (Bai, Kolter & Koltun, 2018, "An
Empirical Evaluation of Generic Convolutional and Recurrent Networks for Sequence Modeling"),
with the smooth GELU in place of ReLU and no weight normalisation, so the input Hessian is
defined everywhere. Convolutions, GELU and dropout have double-backward and forward-mode
derivatives on CPU and CUDA (cuDNN included).
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from seqrobust.models.recurrent import _check_lengths
from seqrobust.models.transformer import step_mask


def receptive_field(num_layers: int, kernel_size: int) -> int:
    """Steps one output sees: ``1 + 2 (k - 1) (2^num_layers - 1)`` (two convolutions per block,
    dilation ``2^i`` in block ``i``)."""
    return 1 + 2 * (kernel_size - 1) * (2**num_layers - 1)


def blocks_for(max_len: int, kernel_size: int) -> int:
    """The fewest blocks (at least 1) whose receptive field covers ``max_len`` steps."""
    layers = 1
    while receptive_field(layers, kernel_size) < max_len:
        layers += 1
    return layers


class _CausalConv(nn.Conv1d):
    """A dilated 1-D convolution padded on the left only: output ``t`` sees inputs
    ``t - (k - 1) d, ..., t``; ``(B, C_in, T) -> (B, C_out, T)``."""

    def forward(self, x: Tensor) -> Tensor:
        """The causal convolution of ``x`` ``(B, C_in, T)``."""
        pad = (self.kernel_size[0] - 1) * self.dilation[0]
        out: Tensor = super().forward(F.pad(x, (pad, 0)))
        return out


class _Block(nn.Module):
    """``gelu(skip(x) + drop(conv2(drop(gelu(conv1(x))))))``, ``skip`` a 1x1 convolution when
    the widths differ, else the identity; ``(B, C_in, T) -> (B, C_out, T)``."""

    def __init__(self, c_in: int, c_out: int, kernel_size: int, dilation: int, dropout: float):
        super().__init__()
        self.dropout = dropout
        self.conv1 = _CausalConv(c_in, c_out, kernel_size, dilation=dilation)
        self.conv2 = _CausalConv(c_out, c_out, kernel_size, dilation=dilation)
        self.skip = nn.Conv1d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        """The block applied to ``x`` ``(B, C_in, T)``."""
        h = F.dropout(F.gelu(self.conv1(x)), self.dropout, self.training)
        h = F.dropout(self.conv2(h), self.dropout, self.training)
        out: Tensor = F.gelu(self.skip(x) + h)
        return out


class TCNClassifier(nn.Module):
    """A causal TCN reading ``(batch, time, features)``, mean-pooled over the real steps, with
    a linear head giving logits ``(batch, num_classes)``.

    Block ``i`` has two causal convolutions of width ``hidden_size`` and dilation ``2^i``; the
    pooled features are the mean of the last block's outputs over each sequence's real steps.

    Args:
        input_size: features per time step ``F``.
        num_classes: number of output classes ``L``.
        hidden_size: channels per convolution.
        num_layers: residual blocks; ``None`` takes the fewest whose
            :attr:`receptive_field` covers ``max_len`` steps.
        kernel_size: convolution kernel size (at least 2).
        dropout: dropout after each convolution's activation (training only).
        max_len: sequence length the receptive field should cover (only used to choose
            ``num_layers``; longer inputs are accepted).

    Raises:
        ValueError: on non-positive sizes, ``kernel_size < 2`` or a bad ``dropout``.
    """

    def __init__(
        self,
        *,
        input_size: int,
        num_classes: int,
        hidden_size: int = 128,
        num_layers: int | None = None,
        kernel_size: int = 3,
        dropout: float = 0.0,
        max_len: int = 1024,
    ) -> None:
        super().__init__()
        sizes = [
            ("input_size", input_size),
            ("num_classes", num_classes),
            ("hidden_size", hidden_size),
            ("max_len", max_len),
        ]
        if num_layers is not None:
            sizes.append(("num_layers", num_layers))
        for name, value in sizes:
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if num_classes < 2:
            raise ValueError(f"num_classes must be at least 2, got {num_classes}")
        if isinstance(kernel_size, bool) or not isinstance(kernel_size, int) or kernel_size < 2:
            raise ValueError(f"kernel_size must be an integer >= 2, got {kernel_size!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        layers = blocks_for(max_len, kernel_size) if num_layers is None else num_layers
        self.input_size, self.num_classes, self.hidden_size = input_size, num_classes, hidden_size
        self.num_layers, self.kernel_size, self.dropout = layers, kernel_size, dropout
        self.max_len = max_len
        self.blocks = nn.ModuleList(
            _Block(input_size if i == 0 else hidden_size, hidden_size, kernel_size, 2**i, dropout)
            for i in range(layers)
        )
        self.head = nn.Linear(hidden_size, num_classes)

    @property
    def receptive_field(self) -> int:
        """Input steps each output step depends on (itself and earlier ones)."""
        return receptive_field(self.num_layers, self.kernel_size)

    def config(self) -> dict[str, object]:
        """Constructor arguments (``num_layers`` resolved) plus ``"arch": "tcn"``,
        JSON-serialisable."""
        return {
            "arch": "tcn",
            "input_size": self.input_size,
            "num_classes": self.num_classes,
            "hidden_size": self.hidden_size,
            "num_layers": self.num_layers,
            "kernel_size": self.kernel_size,
            "dropout": self.dropout,
            "max_len": self.max_len,
        }

    def features(self, x: Tensor) -> Tensor:
        """Per-step outputs of the last block, ``(batch, time, hidden_size)``, for inputs
        ``(batch, time, features)``; step ``t`` depends on input steps
        ``t - receptive_field + 1, ..., t`` only."""
        h = x.transpose(1, 2)
        for block in self.blocks:
            h = block(h)
        return h.transpose(1, 2)

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        """Logits ``(batch, num_classes)`` for inputs ``x`` ``(batch, time, features)``.

        ``lengths`` ``(batch,)`` (int64) gives each sequence's real steps, padding after them.
        Padded steps are zeroed on input and left out of the mean; causality keeps real steps
        from seeing later (padded) ones, so the logits equal those of each sequence trimmed to
        its length, and padded inputs get exactly zero gradient and curvature.

        Raises:
            ValueError: on bad ``lengths``.
        """
        if lengths is None:
            pooled = self.features(x).mean(dim=1)
        else:
            _check_lengths(lengths, x)
            lengths = lengths.to(x.device)
            mask = step_mask(lengths, x.shape[1])[..., None].to(x.dtype)
            h = self.features(x * mask)
            pooled = (h * mask).sum(dim=1) / lengths[:, None].to(h.dtype)
        out: Tensor = self.head(pooled)
        return out

    def forward_twice_differentiable(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        """The same computation as :meth:`forward` (which is already twice differentiable).

        Causal convolutions, GELU and means only: double backward, eval-mode input gradients
        and ``torch.func`` transforms work on CPU and CUDA.
        """
        out: Tensor = self.forward(x, lengths)
        return out
