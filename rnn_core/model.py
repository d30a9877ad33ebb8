"""The seed's sentiment network, one class for all three cells (as in pytorch/examples word_language_model).

Embedding(vocab→100) → RNN/LSTM/GRU(100→128, 1 layer, batch_first) → Linear(128→1) → sigmoid, reading the hidden
state after the last *real* token of each sentence.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

CELLS = ("rnn", "lstm", "gru")
CELL_NAMES = {c: c.upper() for c in CELLS}  # as the UI and the figures write them
_MODULES = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


class SentimentRNN(nn.Module):
    def __init__(self, vocab_size: int, cell: str = "rnn", emb_dim: int = 100, hidden_dim: int = 128,
                 dropout: float = 0.0, pad_id: int = 0):
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"unknown cell {cell!r}; choose one of {', '.join(CELLS)}")
        self.cell, self.hidden_dim = cell, hidden_dim
        self.embedding = nn.Embedding(vocab_size, emb_dim, padding_idx=pad_id)
        # nn.RNN is the tanh Elman cell the seed describes: h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh).
        self.rnn = _MODULES[cell](emb_dim, hidden_dim, num_layers=1, batch_first=True)
        self.drop = nn.Dropout(dropout)  # on embeddings and on the last hidden state; inactive in eval()
        self.fc = nn.Linear(hidden_dim, 1)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Logits, shape (batch,). `ids` is (batch, time) padded; `lengths` the real lengths (each ≥ 1).

        Packing makes the fused kernel stop at each sentence's own end, so padding never reaches the hidden state
        we read: the final h of a packed sequence *is* the state after the last real token.
        """
        x = self.drop(self.embedding(ids))
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        _, h = self.rnn(packed)
        if self.cell == "lstm":
            h = h[0]  # (h_n, c_n): the classifier reads h
        return self.fc(self.drop(h[-1])).squeeze(-1)

    @torch.no_grad()
    def predict_proba(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """P(positive) per sentence. The seed's Sigmoid lives here; training uses the logits with
        BCEWithLogitsLoss, which is BCELoss(sigmoid(x)) computed without overflow."""
        was_training = self.training
        self.eval()
        p = torch.sigmoid(self(ids, lengths))
        self.train(was_training)
        return p

    def param_counts(self) -> dict[str, int]:
        count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
        return {"embedding": count(self.embedding), "recurrent": count(self.rnn), "output": count(self.fc),
                "total": count(self), "without_embedding": count(self) - count(self.embedding)}


def pad_batch(id_lists: list[list[int]], pad_id: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad lists of ids into a (batch, max_len) tensor plus their lengths. Empty lists are not allowed."""
    if any(len(ids) == 0 for ids in id_lists):
        raise ValueError("every sentence needs at least one token")
    lengths = torch.tensor([len(ids) for ids in id_lists], dtype=torch.long)
    batch = torch.full((len(id_lists), int(lengths.max())), pad_id, dtype=torch.long)
    for row, ids in enumerate(id_lists):
        batch[row, : len(ids)] = torch.tensor(ids, dtype=torch.long)
    return batch, lengths


def serve_with_one_thread() -> None:
    """For the app's server: run torch on one intra-op thread. A 50-word trace is a few small matrix products, which
    threads only slow down (and on a shared 2-core machine they fight each other and the training runs)."""
    torch.set_num_threads(1)
