"""The trace: one sentence pushed through the network one word at a time, keeping everything the views show.

The step equations come from the cell registry (cells.py), the one implementation of each cell; the tests hold the
trace to the fused nn.RNN / nn.LSTM / nn.GRU modules. The Trace is the one contract between the engine and the
views: it is frozen and its arrays are read-only, because the app caches one Trace per sentence for every visitor.
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import torch

from . import cells
from .errors import InputError
from .model import SentimentRNN
from .text import MAX_LEN, Vocab

GATE_NAMES = {name: c.gates for name, c in cells.CELLS.items()}


def unroll(model: SentimentRNN, ids: torch.Tensor, probe: torch.Tensor | None = None) -> dict:
    """Step the recurrent layer over `ids` (shape (T,)) with the registry's step equations and return stacked
    tensors: x (T,E), h (T,H), c (T,H) for a cell with a cell state, and the gates {name: (T,H)}.

    `probe`, a (T,H) tensor of zeros that requires grad, is added to each h_t as it is produced; its gradient is then
    ∂L/∂h_t, which is how the gradient lab measures backpropagation through time without a second implementation.
    """
    cell, rnn = cells.get(model.cell), model.rnn
    w_hh, b_hh = rnn.weight_hh_l0, rnn.bias_hh_l0
    x = model.embedding(ids)
    # Input projections do not depend on the past, so all steps get them in one matrix product.
    xw = x @ rnn.weight_ih_l0.T + rnn.bias_ih_l0
    h = x.new_zeros(model.hidden_dim)
    c = x.new_zeros(model.hidden_dim) if cell.has_cell_state else None
    hs, cs, gates = [], [], {name: [] for name in cell.gates}
    for t in range(len(ids)):
        step = cell.step(xw[t], h, c, w_hh, b_hh)
        h, c = step.h, step.c
        for name in cell.gates:
            gates[name].append(step.gates[name])
        if c is not None:
            cs.append(c)
        if probe is not None:
            h = h + probe[t]
        hs.append(h)
    return {"x": x, "h": torch.stack(hs), "c": torch.stack(cs) if cs else None,
            "gates": {k: torch.stack(v) for k, v in gates.items()}}


def _frozen(a: np.ndarray | None) -> np.ndarray | None:
    if a is None:
        return None
    a = np.array(a)  # our own copy, so nobody else holds a writable view of it
    a.setflags(write=False)
    return a


@dataclass(frozen=True)
class Trace:
    """Everything about one sentence, step by step. Arrays are numpy, time first, read-only; sequences are tuples.
    Shared between sessions by the app's cache: an attempt to change one raises instead of corrupting the others."""

    cell: str
    tokens: tuple[str, ...]
    ids: tuple[int, ...]
    unknown: tuple[bool, ...]
    n_total: int  # tokens in the text before truncation
    truncated: bool
    x: np.ndarray  # (T, E) embeddings
    h: np.ndarray  # (T, H) hidden state after each token
    prefix_p: np.ndarray  # (T,) P(positive | first t tokens): the classifier head applied to h_t
    c: np.ndarray | None = None  # (T, H) LSTM cell state
    gates: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    words: tuple[str, ...] = ()  # the tokens as the user typed them (case and ё kept); `tokens` is what is read
    keys: tuple[str, ...] = ()  # what each token is looked up by in the vocabulary: itself, or its lemma (Russian)

    def __post_init__(self):
        for name in ("tokens", "ids", "unknown", "words", "keys"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        for name in ("words", "keys"):  # a Trace made by hand may leave them out: they default to the tokens
            if len(getattr(self, name)) != len(self.tokens):
                object.__setattr__(self, name, self.tokens)
        for name in ("x", "h", "prefix_p", "c"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))
        object.__setattr__(self, "gates", MappingProxyType({k: _frozen(v) for k, v in dict(self.gates).items()}))

    @property
    def p(self) -> float:
        """P(positive) for the whole (possibly truncated) text: the prefix probability after the last token."""
        return float(self.prefix_p[-1])

    @property
    def label(self) -> str:
        return "positive" if self.p >= 0.5 else "negative"

    def to_dict(self) -> dict:
        d = {"cell": self.cell, "tokens": list(self.tokens), "words": list(self.words), "keys": list(self.keys),
             "ids": list(self.ids), "unknown": list(self.unknown),
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
        raise InputError("empty_text")
    was_training = model.training
    model.eval()
    out = unroll(model, torch.tensor(enc.ids, dtype=torch.long))
    prefix_p = torch.sigmoid(model.fc(out["h"]).squeeze(-1))
    model.train(was_training)
    return Trace(cell=model.cell, tokens=enc.tokens, ids=enc.ids, unknown=enc.unknown, n_total=enc.n_total,
                 truncated=enc.truncated, words=enc.words, keys=enc.keys, x=out["x"].numpy(), h=out["h"].numpy(),
                 prefix_p=prefix_p.numpy(),
                 c=None if out["c"] is None else out["c"].numpy(),
                 gates={k: v.numpy() for k, v in out["gates"].items()})
