"""The trace: one sentence pushed through the network one word at a time, keeping everything the views show.

This file is the one implementation of the three cells' equations (PyTorch's gate order and conventions).
The tests hold it to the fused nn.RNN / nn.LSTM / nn.GRU modules; the app, the CLI and the gradient lab all read it.
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field

import numpy as np
import torch

from .errors import InputError
from .model import SentimentRNN
from .text import MAX_LEN, Vocab

GATE_NAMES = {"rnn": (), "lstm": ("input", "forget", "candidate", "output"), "gru": ("reset", "update", "candidate")}


def unroll(model: SentimentRNN, ids: torch.Tensor, probe: torch.Tensor | None = None) -> dict:
    """Step the recurrent layer over `ids` (shape (T,)) and return stacked tensors: x (T,E), h (T,H), c (T,H) for
    LSTM, and the gates {name: (T,H)}.

    `probe`, a (T,H) tensor of zeros that requires grad, is added to each h_t as it is produced; its gradient is then
    ∂L/∂h_t, which is how the gradient lab measures backpropagation through time without a second implementation.
    """
    rnn = model.rnn
    w_hh, b_hh = rnn.weight_hh_l0, rnn.bias_hh_l0
    x = model.embedding(ids)
    # Input projections do not depend on the past, so all steps get them in one matrix product.
    xw = x @ rnn.weight_ih_l0.T + rnn.bias_ih_l0
    h = x.new_zeros(model.hidden_dim)
    c = x.new_zeros(model.hidden_dim)
    hs, cs, gates = [], [], {name: [] for name in GATE_NAMES[model.cell]}
    for t in range(len(ids)):
        hw = h @ w_hh.T + b_hh
        if model.cell == "rnn":
            h = torch.tanh(xw[t] + hw)
        elif model.cell == "lstm":
            i, f, g, o = (xw[t] + hw).chunk(4)
            i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
            c = f * c + i * g  # forget part of the old memory, write part of the candidate
            h = o * torch.tanh(c)  # show part of the memory
            for name, v in zip(GATE_NAMES["lstm"], (i, f, g, o)):
                gates[name].append(v)
            cs.append(c)
        else:
            xr, xz, xn = xw[t].chunk(3)
            hr, hz, hn = hw.chunk(3)
            r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
            n = torch.tanh(xn + r * hn)  # reset gate decides how much of the past shapes the candidate
            h = (1 - z) * n + z * h  # update gate: keep the old state (z→1) or take the candidate (z→0)
            for name, v in zip(GATE_NAMES["gru"], (r, z, n)):
                gates[name].append(v)
        if probe is not None:
            h = h + probe[t]
        hs.append(h)
    return {"x": x, "h": torch.stack(hs), "c": torch.stack(cs) if cs else None,
            "gates": {k: torch.stack(v) for k, v in gates.items()}}


@dataclass
class Trace:
    """Everything about one sentence, step by step. Arrays are numpy, time first."""

    cell: str
    tokens: list[str]
    ids: list[int]
    unknown: list[bool]
    n_total: int  # tokens in the text before truncation
    truncated: bool
    x: np.ndarray  # (T, E) embeddings
    h: np.ndarray  # (T, H) hidden state after each token
    prefix_p: np.ndarray  # (T,) P(positive | first t tokens): the classifier head applied to h_t
    c: np.ndarray | None = None  # (T, H) LSTM cell state
    gates: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def p(self) -> float:
        """P(positive) for the whole (possibly truncated) text: the prefix probability after the last token."""
        return float(self.prefix_p[-1])

    @property
    def label(self) -> str:
        return "positive" if self.p >= 0.5 else "negative"

    def to_dict(self) -> dict:
        d = {"cell": self.cell, "tokens": self.tokens, "ids": self.ids, "unknown": self.unknown,
             "n_total": self.n_total, "truncated": self.truncated, "label": self.label, "probability": self.p,
             "prefix_p": self.prefix_p.tolist(), "h": self.h.tolist()}
        if self.c is not None:
            d["c"] = self.c.tolist()
        d["gates"] = {k: v.tolist() for k, v in self.gates.items()}
        return d

    def to_json(self, **extra) -> str:
        """The trace as JSON; `extra` keys (e.g. model=...) come first."""
        return json.dumps({**extra, **self.to_dict()}, ensure_ascii=False)

    def to_csv(self) -> str:
        """One row per token: position, token, id, unknown flag, prefix probability, then every unit of h, c and
        each gate. Cells that start with = + - @ are prefixed with ' so spreadsheets do not run them as formulas."""
        blocks = [("h", self.h)] + ([("c", self.c)] if self.c is not None else []) + list(self.gates.items())
        header = ["t", "token", "id", "unknown", "prefix_p"]
        header += [f"{name}_{j}" for name, m in blocks for j in range(m.shape[1])]
        out = io.StringIO()
        w = csv.writer(out)
        w.writerow(header)
        for t, tok in enumerate(self.tokens):
            safe = "'" + tok if tok[:1] in "=+-@" else tok
            row = [t + 1, safe, self.ids[t], int(self.unknown[t]), f"{self.prefix_p[t]:.6f}"]
            row += [f"{v:.6f}" for _, m in blocks for v in m[t]]
            w.writerow(row)
        return out.getvalue()


@torch.no_grad()
def trace(model: SentimentRNN, vocab: Vocab, text: str, max_len: int = MAX_LEN) -> Trace:
    """Trace `text` through `model`. Raises InputError when the text has no tokens at all."""
    enc = vocab.encode(text, max_len)
    if not enc.ids:
        raise InputError("The text is empty: type a sentence with at least one word.")
    was_training = model.training
    model.eval()
    out = unroll(model, torch.tensor(enc.ids, dtype=torch.long))
    prefix_p = torch.sigmoid(model.fc(out["h"]).squeeze(-1))
    model.train(was_training)
    return Trace(cell=model.cell, tokens=enc.tokens, ids=enc.ids, unknown=enc.unknown, n_total=enc.n_total,
                 truncated=enc.truncated, x=out["x"].numpy(), h=out["h"].numpy(), prefix_p=prefix_p.numpy(),
                 c=None if out["c"] is None else out["c"].numpy(),
                 gates={k: v.numpy() for k, v in out["gates"].items()})
