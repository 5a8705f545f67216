"""Users' own modules of the three kinds the forward chooser must handle: a plain ``nn.LSTM``
that reads its padding, an ``nn.TransformerEncoder`` (fused attention kernels) and a GRU whose
``forward(x, lengths)`` packs the batch (``T, F, L``: steps, features, classes)."""

from __future__ import annotations

from torch import Tensor, nn

T, F, L = 6, 3, 4


class LSTMNet(nn.Module):
    """A batch-first LSTM and a linear head on the last step: it reads padded steps."""

    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(F, 8, batch_first=True)
        self.head = nn.Linear(8, L)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.lstm(x)[0][:, -1])


class TransformerNet(nn.Module):
    """Two ``nn.TransformerEncoderLayer`` (GELU) and mean pooling."""

    def __init__(self) -> None:
        super().__init__()
        self.proj = nn.Linear(F, 8)
        layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, activation="gelu",
                                           batch_first=True)
        self.enc = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.head = nn.Linear(8, L)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.enc(self.proj(x)).mean(1))


class PackedGRU(nn.Module):
    """``forward(x, lengths)`` packs the batch: padding never reaches the GRU."""

    def __init__(self) -> None:
        super().__init__()
        self.gru = nn.GRU(F, 8, batch_first=True)
        self.head = nn.Linear(8, L)

    def forward(self, x: Tensor, lengths: Tensor) -> Tensor:
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths.cpu(), batch_first=True,
                                                   enforce_sorted=False)
        _, h = self.gru(packed)
        return self.head(h[-1])
