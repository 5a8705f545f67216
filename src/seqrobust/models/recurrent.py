"""Recurrent sequence classifiers with a fast path and a twice-differentiable path.

``RecurrentClassifier`` holds one ``nn.RNN``/``nn.LSTM``/``nn.GRU`` (the *fast path*, cuDNN on
CUDA) and a pure-tensor cell loop over the *same parameters* (the *twice-differentiable path*).
cuDNN RNNs cannot double-backward, cannot backward in eval mode, and fail under
``torch.func.hessian``; the cell loop has none of these limits. ``forward`` picks the working
path by itself (see :meth:`RecurrentClassifier.uses_fast_path`).
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from seqrobust._checks import check_choice
from seqrobust.types import CellType

CELLS: tuple[CellType, ...] = ("rnn", "lstm", "gru")
PathMode = Literal["auto", "fast", "twice_differentiable"]
_GATES = {"rnn": 1, "lstm": 4, "gru": 3}
_MODULES: dict[str, type[nn.RNNBase]] = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


def _functorch_active() -> bool:
    return bool(torch._C._are_functorch_transforms_active())


class RecurrentClassifier(nn.Module):
    """A stacked RNN/LSTM/GRU reading ``(batch, time, features)`` with a linear head on the
    last hidden state, giving logits ``(batch, num_classes)``.

    Args:
        input_size: features per time step ``F``.
        num_classes: number of output classes ``L``.
        cell: ``"rnn"`` (tanh), ``"lstm"`` or ``"gru"``.
        hidden_size: hidden units per layer.
        num_layers: stacked recurrent layers.
        dropout: dropout between recurrent layers (training only).
        path: ``"auto"`` (default) chooses per call; ``"fast"`` or
            ``"twice_differentiable"`` forces one.

    Raises:
        ValueError: on an unknown cell or non-positive sizes.
    """

    def __init__(
        self,
        *,
        input_size: int,
        num_classes: int,
        cell: CellType = "rnn",
        hidden_size: int = 128,
        num_layers: int = 2,
        dropout: float = 0.0,
        path: PathMode = "auto",
    ) -> None:
        super().__init__()
        check_choice(cell, CELLS, name="cell")
        check_choice(path, ("auto", "fast", "twice_differentiable"), name="path")
        for name, value in (
            ("input_size", input_size),
            ("num_classes", num_classes),
            ("hidden_size", hidden_size),
            ("num_layers", num_layers),
        ):
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if num_classes < 2:
            raise ValueError(f"num_classes must be at least 2, got {num_classes}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.cell: CellType = cell
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.num_classes, self.dropout, self.path = num_classes, dropout, path
        self.rnn: nn.RNNBase = _MODULES[cell](
            input_size,  # type: ignore[arg-type]
            hidden_size,
            num_layers,
            batch_first=True,
            dropout=dropout,
        )
        self.head = nn.Linear(hidden_size, num_classes)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default uniform init, with orthogonal recurrent weights (per gate block)
        and zero recurrent biases; a big help for tanh RNNs on long sequences."""
        self.rnn.reset_parameters()
        for layer in range(self.num_layers):
            w_hh = getattr(self.rnn, f"weight_hh_l{layer}")
            with torch.no_grad():
                for block in w_hh.chunk(_GATES[self.cell], dim=0):
                    nn.init.orthogonal_(block)
                getattr(self.rnn, f"bias_hh_l{layer}").zero_()
        self.head.reset_parameters()

    def config(self) -> dict[str, object]:
        """Constructor arguments, JSON-serialisable (saved with checkpoints)."""
        return {
            "input_size": self.input_size,
            "num_classes": self.num_classes,
            "cell": self.cell,
            "hidden_size": self.hidden_size,
            "num_layers": self.num_layers,
            "dropout": self.dropout,
        }

    def uses_fast_path(self, x: Tensor) -> bool:
        """Whether ``forward(x)`` would take the fast (``nn.RNN``/cuDNN) path.

        In ``"auto"`` mode the twice-differentiable path is taken inside ``torch.func``
        transforms, and on CUDA whenever the input needs a gradient or the model is in eval
        mode with autograd on (the cases cuDNN cannot handle).
        """
        if self.path != "auto":
            return self.path == "fast"
        if _functorch_active():
            return False
        if x.is_cuda and torch.is_grad_enabled() and (x.requires_grad or not self.training):
            return False
        return True

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        """Logits ``(batch, num_classes)`` for inputs ``(batch, time, features)``.

        ``lengths`` ``(batch,)`` gives each sequence's number of real steps (padding after
        them); the logits then depend on the real steps only.
        """
        if self.uses_fast_path(x):
            return self.forward_fast(x, lengths)
        return self.forward_twice_differentiable(x, lengths)

    def forward_fast(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        """The ``nn.RNN``/``nn.LSTM``/``nn.GRU`` path (cuDNN on CUDA; packed sequences when
        ``lengths`` is given)."""
        h0 = x.new_zeros(self.num_layers, x.shape[0], self.hidden_size)
        state: Tensor | tuple[Tensor, Tensor] = (h0, h0) if self.cell == "lstm" else h0
        if lengths is None:
            out, _ = self.rnn(x, state)
            return self.head(out[:, -1])
        _check_lengths(lengths, x)
        packed = nn.utils.rnn.pack_padded_sequence(
            x, lengths.cpu(), batch_first=True, enforce_sorted=False
        )
        _, final = self.rnn(packed, state)
        h_n = final[0] if isinstance(final, tuple) else final
        return self.head(h_n[-1])

    def forward_twice_differentiable(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        """The same function as :meth:`forward_fast` written as a loop of tensor ops.

        Supports double backward, input gradients in eval mode and ``torch.func`` transforms
        on every device. With ``lengths``, the state is carried unchanged over padded steps,
        so padded inputs get exactly zero gradient and curvature.
        """
        mask = None
        if lengths is not None:
            _check_lengths(lengths, x)
            steps = torch.arange(x.shape[1], device=x.device)
            mask = (steps[None, :] < lengths.to(x.device)[:, None]).to(x.dtype)
        seq = x
        for layer in range(self.num_layers):
            w_ih = getattr(self.rnn, f"weight_ih_l{layer}")
            w_hh = getattr(self.rnn, f"weight_hh_l{layer}")
            b_ih = getattr(self.rnn, f"bias_ih_l{layer}")
            b_hh = getattr(self.rnn, f"bias_hh_l{layer}")
            projected = F.linear(seq, w_ih, b_ih)  # (batch, time, gates*hidden)
            seq = _scan(self.cell, projected, w_hh, b_hh, mask)
            if self.dropout > 0 and layer < self.num_layers - 1:
                seq = F.dropout(seq, self.dropout, self.training)
        return self.head(seq[:, -1])


def _check_lengths(lengths: Tensor, x: Tensor) -> None:
    if lengths.shape != (x.shape[0],):
        raise ValueError(
            f"lengths must have shape ({x.shape[0]},) to match the batch, "
            f"got {tuple(lengths.shape)}"
        )
    if x.shape[0] and (int(lengths.min()) < 1 or int(lengths.max()) > x.shape[1]):
        raise ValueError(f"lengths must lie in [1, {x.shape[1]}]")


def _scan(
    cell: CellType, projected: Tensor, w_hh: Tensor, b_hh: Tensor, mask: Tensor | None = None
) -> Tensor:
    """Run one recurrent layer over precomputed input projections; returns ``(B, T, H)``.

    ``mask`` ``(B, T)`` (1 on real steps) carries the state unchanged over padded steps."""
    batch, steps = projected.shape[0], projected.shape[1]
    hidden = w_hh.shape[1]
    h = projected.new_zeros(batch, hidden)
    c = h
    outputs = []
    # one unbind node for all steps: slicing projected[:, t] per step would make every step's
    # backward scatter into a full (B, T, gates) zero tensor, O(T^2) time and, under
    # create_graph, O(T^2) memory (gigabytes per input at T = 784)
    inputs = projected.unbind(1)
    for t in range(steps):
        h_prev, c_prev = h, c
        gx = inputs[t]
        gh = F.linear(h, w_hh, b_hh)
        if cell == "rnn":
            h = torch.tanh(gx + gh)
        elif cell == "lstm":
            i, f, g, o = (gx + gh).chunk(4, dim=-1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
        else:
            xr, xz, xn = gx.chunk(3, dim=-1)
            hr, hz, hn = gh.chunk(3, dim=-1)
            r = torch.sigmoid(xr + hr)
            z = torch.sigmoid(xz + hz)
            n = torch.tanh(xn + r * hn)
            h = (1 - z) * n + z * h
        if mask is not None:
            keep = mask[:, t, None]
            h = keep * h + (1 - keep) * h_prev
            c = keep * c + (1 - keep) * c_prev
        outputs.append(h)
    return torch.stack(outputs, dim=1)
