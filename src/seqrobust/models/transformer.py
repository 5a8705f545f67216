"""An encoder-only Transformer sequence classifier written with plain tensor ops, and a fused
fast path over the same parameters for first derivatives.

:meth:`TransformerClassifier.forward` computes attention explicitly (``softmax(q k^T / sqrt(d))
v`` with a key padding mask) instead of through ``nn.MultiheadAttention`` or
``F.scaled_dot_product_attention``, whose fused kernels have no double backward. Every op
(linear maps, LayerNorm, softmax, exact GELU) is smooth and has double-backward and
forward-mode derivatives on CPU and CUDA, so the input Hessian is defined everywhere and
``torch.func`` transforms work. :meth:`TransformerClassifier.forward_fast` is the same function
through ``F.scaled_dot_product_attention`` (fused kernels: about six times faster per attention
layer at 427 steps on one CPU thread, first derivatives only); attacks and the training loss
take it (:func:`~seqrobust.models.differentiable_forward` with ``order=1``).
"""

from __future__ import annotations

import math
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from seqrobust._checks import check_choice
from seqrobust.models.recurrent import _check_lengths

PositionKind = Literal["learned", "sinusoidal"]
POSITIONS: tuple[str, ...] = ("learned", "sinusoidal")


def sinusoidal_positions(max_len: int, width: int) -> Tensor:
    """The fixed encoding of Vaswani et al. (2017): ``(max_len, width)``, ``sin`` on even and
    ``cos`` on odd columns with wavelengths ``2 pi * 10000^(2i / width)``."""
    pos = torch.arange(max_len, dtype=torch.float64)[:, None]
    freq = torch.exp(torch.arange(0, width, 2, dtype=torch.float64) * (-math.log(1e4) / width))
    table = torch.zeros(max_len, width, dtype=torch.float64)
    table[:, 0::2] = torch.sin(pos * freq)
    table[:, 1::2] = torch.cos(pos * freq)[:, : width // 2]
    return table.to(torch.get_default_dtype())


def step_mask(lengths: Tensor, steps: int) -> Tensor:
    """Boolean ``(batch, steps)`` mask, ``True`` on the first ``lengths[b]`` steps of row ``b``."""
    return torch.arange(steps, device=lengths.device)[None, :] < lengths[:, None]


class _Block(nn.Module):
    """One pre-norm encoder block: ``x + attn(LN(x))``, then ``x + mlp(LN(x))``."""

    def __init__(self, width: int, heads: int, ff_mult: int, dropout: float) -> None:
        super().__init__()
        self.heads, self.dropout = heads, dropout
        self.norm1 = nn.LayerNorm(width)
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)
        self.norm2 = nn.LayerNorm(width)
        self.fc1 = nn.Linear(width, ff_mult * width)
        self.fc2 = nn.Linear(ff_mult * width, width)

    def attention(self, h: Tensor, keys: Tensor | None, *, fused: bool) -> Tensor:
        """Multi-head self-attention of ``h`` ``(B, T, W)``; ``keys`` ``(B, T)`` bool marks the
        real steps every query may attend to (``None``: all); ``fused``: through
        ``F.scaled_dot_product_attention`` (no double backward), else explicitly."""
        batch, steps, width = h.shape
        d = width // self.heads
        q, k, v = self.qkv(h).view(batch, steps, 3, self.heads, d).permute(2, 0, 3, 1, 4)
        if fused:
            mask = None if keys is None else keys[:, None, None, :]
            out = F.scaled_dot_product_attention(
                q, k, v, attn_mask=mask, dropout_p=self.dropout if self.training else 0.0)
            return self.proj(out.transpose(1, 2).reshape(batch, steps, width))
        scores = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(d))  # (B, heads, T, T)
        if keys is not None:
            # every row keeps >= 1 real key (lengths >= 1), so softmax never sees all -inf;
            # masked keys get weight exactly 0 and (double) backward sends them exactly 0
            scores = scores.masked_fill(~keys[:, None, None, :], float("-inf"))
        weights = F.dropout(scores.softmax(dim=-1), self.dropout, self.training)
        out = (weights @ v).transpose(1, 2).reshape(batch, steps, width)
        return self.proj(out)

    def forward(self, h: Tensor, keys: Tensor | None, *, fused: bool) -> Tensor:
        """The block applied to ``h`` ``(B, T, W)``; same shape out."""
        h = h + F.dropout(self.attention(self.norm1(h), keys, fused=fused), self.dropout,
                          self.training)
        ff = self.fc2(F.gelu(self.fc1(self.norm2(h))))
        return h + F.dropout(ff, self.dropout, self.training)


class TransformerClassifier(nn.Module):
    """A pre-norm Transformer encoder reading ``(batch, time, features)``, mean-pooled over the
    real steps, with a linear head giving logits ``(batch, num_classes)``.

    Steps: a linear projection to the model width, plus positions; ``num_layers`` blocks
    (LayerNorm -> self-attention -> residual; LayerNorm -> MLP with GELU -> residual); a
    final LayerNorm; the mean over real steps; a linear head.

    Args:
        input_size: features per time step ``F``.
        num_classes: number of output classes ``L``.
        hidden_size: model width ``W`` (divisible by ``heads``).
        num_layers: encoder blocks.
        heads: attention heads.
        dropout: dropout on the embedding, the attention weights and both residual branches
            (training only).
        positions: ``"sinusoidal"`` (fixed) or ``"learned"`` (a trained ``(max_len, W)``
            table).
        max_len: longest sequence accepted.
        ff_mult: MLP hidden width as a multiple of ``W``.

    Raises:
        ValueError: on non-positive sizes, a width not divisible by ``heads``, a bad
            ``dropout`` or an unknown ``positions``.
    """

    def __init__(
        self,
        *,
        input_size: int,
        num_classes: int,
        hidden_size: int = 128,
        num_layers: int = 2,
        heads: int = 4,
        dropout: float = 0.0,
        positions: PositionKind = "sinusoidal",
        max_len: int = 1024,
        ff_mult: int = 4,
    ) -> None:
        super().__init__()
        check_choice(positions, POSITIONS, name="positions")
        for name, value in (
            ("input_size", input_size),
            ("num_classes", num_classes),
            ("hidden_size", hidden_size),
            ("num_layers", num_layers),
            ("heads", heads),
            ("max_len", max_len),
            ("ff_mult", ff_mult),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if num_classes < 2:
            raise ValueError(f"num_classes must be at least 2, got {num_classes}")
        if hidden_size % heads:
            raise ValueError(f"hidden_size {hidden_size} must be divisible by heads {heads}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.input_size, self.num_classes, self.hidden_size = input_size, num_classes, hidden_size
        self.num_layers, self.heads, self.dropout = num_layers, heads, dropout
        self.positions: PositionKind = positions
        self.max_len, self.ff_mult = max_len, ff_mult
        self.embed = nn.Linear(input_size, hidden_size)
        self.position_table: Tensor
        if positions == "learned":
            self.position_table = nn.Parameter(0.02 * torch.randn(max_len, hidden_size))
        else:
            self.register_buffer(
                "position_table", sinusoidal_positions(max_len, hidden_size), persistent=False
            )
        self.blocks = nn.ModuleList(
            _Block(hidden_size, heads, ff_mult, dropout) for _ in range(num_layers)
        )
        self.norm = nn.LayerNorm(hidden_size)
        self.head = nn.Linear(hidden_size, num_classes)

    def config(self) -> dict[str, object]:
        """Constructor arguments plus ``"arch": "transformer"``, JSON-serialisable."""
        return {
            "arch": "transformer",
            "input_size": self.input_size,
            "num_classes": self.num_classes,
            "hidden_size": self.hidden_size,
            "num_layers": self.num_layers,
            "heads": self.heads,
            "dropout": self.dropout,
            "positions": self.positions,
            "max_len": self.max_len,
            "ff_mult": self.ff_mult,
        }

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        """Logits ``(batch, num_classes)`` for inputs ``x`` ``(batch, time, features)``.

        ``lengths`` ``(batch,)`` (int64) gives each sequence's real steps, padding after them.
        Padded steps are zeroed on input, masked as attention keys and left out of the mean,
        so the logits equal those of each sequence trimmed to its length, and padded inputs
        get exactly zero gradient and curvature.

        Raises:
            ValueError: on bad ``lengths`` or more than ``max_len`` steps.
        """
        return self._encode(x, lengths, fused=False)

    def forward_fast(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        """The same function as :meth:`forward`, attention through the fused kernels of
        ``F.scaled_dot_product_attention``: first derivatives only (no double backward, no
        forward-mode AD on CPU)."""
        return self._encode(x, lengths, fused=True)

    def _encode(self, x: Tensor, lengths: Tensor | None, *, fused: bool) -> Tensor:
        steps = x.shape[1]
        if steps > self.max_len:
            raise ValueError(f"sequence of {steps} steps exceeds max_len {self.max_len}")
        keys = None
        if lengths is not None:
            _check_lengths(lengths, x)
            lengths = lengths.to(x.device)
            keys = step_mask(lengths, steps)
            x = x * keys[..., None].to(x.dtype)
        h = self.embed(x) + self.position_table[:steps].to(x.dtype)
        h = F.dropout(h, self.dropout, self.training)
        for block in self.blocks:
            h = block(h, keys, fused=fused)
        h = self.norm(h)
        if keys is None or lengths is None:
            pooled = h.mean(dim=1)
        else:
            pooled = (h * keys[..., None].to(h.dtype)).sum(dim=1) / lengths[:, None].to(h.dtype)
        out: Tensor = self.head(pooled)
        return out

    def forward_twice_differentiable(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        """The same computation as :meth:`forward` (which is already twice differentiable).

        Plain tensor ops only (no fused attention kernels): double backward, eval-mode input
        gradients and ``torch.func`` transforms work on CPU and CUDA.
        """
        return self._encode(x, lengths, fused=False)
