"""The seed's sentiment network, one class for all three cells (as in pytorch/examples word_language_model).

Embedding(vocab→100) → RNN/LSTM/GRU(100→128, 1 layer, batch_first) → Linear(128→1) → sigmoid, reading the hidden
state after the last *real* token of each sentence. The model owns its maths, as in nanoGPT: `forward` gives the
logits (of the last token, or of every prefix) and `loss` the training objective; the loop in train.py knows
nothing of either.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from . import cells

CELLS = cells.NAMES
CELL_NAMES = {name: c.title for name, c in cells.CELLS.items()}  # as the UI and the figures write them


def dropout(x: torch.Tensor, p: float, training: bool, gen: torch.Generator | None) -> torch.Tensor:
    """Inverted dropout whose mask comes from `gen` (a training run's own random stream), so two trainings in two
    threads never draw from each other's numbers. With gen=None it is F.dropout (the global stream). The mask is
    drawn and applied exactly as PyTorch's CPU kernel does, so a generator seeded like the global stream gives the
    same numbers as F.dropout."""
    if not training or p == 0:
        return x
    if gen is None:
        return F.dropout(x, p, True)
    mask = torch.empty_like(x).bernoulli_(1 - p, generator=gen)
    return x.mul(mask).mul_(1 / (1 - p))


class SentimentRNN(nn.Module):
    def __init__(self, vocab_size: int, cell: str = "rnn", emb_dim: int = 100, hidden_dim: int = 128,
                 dropout: float = 0.0, pad_id: int = 0):
        super().__init__()
        self.spec = cells.get(cell)
        self.cell, self.hidden_dim, self.p_drop = cell, hidden_dim, dropout
        self.embedding = nn.Embedding(vocab_size, emb_dim, padding_idx=pad_id)
        # nn.RNN is the tanh Elman cell the seed describes: h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh).
        self.rnn = self.spec.module(emb_dim, hidden_dim, num_layers=1, batch_first=True)
        self.fc = nn.Linear(hidden_dim, 1)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor, all_steps: bool = False, weight_drop: float = 0.0,
                gen: torch.Generator | None = None) -> torch.Tensor:
        """Logits: (batch,) for the last real token, or (batch, time) for every prefix with `all_steps` (entries past
        a sentence's end are meaningless: mask them). `ids` is (batch, time) padded; `lengths` the real lengths.

        Packing makes the fused kernel stop at each sentence's own end, so padding never reaches the hidden state
        we read. Dropout (on the embeddings and on the states the classifier reads) and `weight_drop` — DropConnect
        on W_hh (Merity et al. 2018): one mask per batch, the same at every step, which regularises the recurrence
        itself — act in training mode only, drawing from `gen` when given.
        """
        x = dropout(self.embedding(ids), self.p_drop, self.training, gen)
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        if weight_drop > 0 and self.training:
            params = dict(self.rnn.named_parameters())
            params["weight_hh_l0"] = dropout(params["weight_hh_l0"], weight_drop, True, gen)
            out, last = torch.func.functional_call(self.rnn, params, (packed,))
        else:
            out, last = self.rnn(packed)
        if all_steps:
            states = pad_packed_sequence(out, batch_first=True, total_length=ids.shape[1])[0]
        else:
            states = (last[0] if self.spec.has_cell_state else last)[-1]  # (h_n, c_n): the classifier reads h
        return self.fc(dropout(states, self.p_drop, self.training, gen)).squeeze(-1)

    def loss(self, ids: torch.Tensor, lengths: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor | None = None,
             prefix_weight: float = 0.0, weight_drop: float = 0.0,
             gen: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Last-token logits and the training loss: the seed's BCE on the last token, plus `prefix_weight` × the mean
        BCE of the same classifier on every earlier prefix ("target replication", Lipton et al. 2016). Inference is
        unchanged (it reads the last token only); the extra targets give the recurrent layer a short gradient path
        from every word, which the plain RNN, whose gradient from the last token fades over a 20-word sentence,
        needs most. `weights` weigh each sentence (neutral texts may count less); the loss is the weighted mean.
        BCE-with-logits is BCELoss(sigmoid(x)) computed without overflow."""
        w = torch.ones_like(targets) if weights is None else weights
        logits_t = self(ids, lengths, all_steps=True, weight_drop=weight_drop, gen=gen)  # (batch, time)
        last = logits_t[torch.arange(len(lengths)), lengths - 1]
        bce = F.binary_cross_entropy_with_logits
        loss = (bce(last, targets, reduction="none") * w).sum() / w.sum()
        if prefix_weight > 0:
            mask = (torch.arange(ids.shape[1]) < (lengths - 1)[:, None]) * w[:, None]  # earlier prefixes only
            per_step = bce(logits_t, targets[:, None].expand_as(logits_t), reduction="none")
            loss = loss + prefix_weight * (per_step * mask).sum() / mask.sum().clamp(min=1e-9)
        return last, loss

    @torch.no_grad()
    def predict_proba(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """P(positive) per sentence: the seed's Sigmoid on the last token's logit."""
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
