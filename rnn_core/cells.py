"""The one registry of recurrent cells: name, PyTorch module, gates, and the step equations.

Everything else (the model, the trace, the figures, the gradient lab, the pages) iterates over CELLS or asks a Cell
for what it needs, so a new cell is added here and nowhere else. The step functions are the only hand-written
implementation of the cells' equations; tests/test_trace.py holds them to PyTorch's fused nn.RNN / nn.LSTM / nn.GRU.

A step works on pre-projected inputs, because the projections are where the weights are:
    xw = W_ih x_t + b_ih   (all gate blocks, in PyTorch's order)
    hw = W_hh h_{t−1} + b_hh
and returns the new h (and c), each gate's value, and each gate's pre-activation split into the part that comes
from the input and the part that comes from the memory, so "one step opened up" shows the same numbers the trace
used.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # torch is imported when a model is built, not when the registry is read: `rnn-lens --help` and
    import torch  # the CLI's argument parsing list the cells without paying the 2 s that importing torch costs
    from torch import nn


@dataclass(frozen=True)
class Step:
    h: torch.Tensor
    c: torch.Tensor | None  # the LSTM's cell state; None for cells without one
    gates: dict[str, torch.Tensor]  # gate name -> value after its nonlinearity
    parts: dict[str, tuple[torch.Tensor, torch.Tensor]]  # gate name -> (input part, memory part) of its pre-activation


def rnn_step(xw: torch.Tensor, hw: torch.Tensor, h_prev: torch.Tensor, c: torch.Tensor | None) -> Step:
    # The Elman cell of the specification: h_t = tanh(W_ih x_t + b_ih + W_hh h_{t−1} + b_hh).
    h = (xw + hw).tanh()
    return Step(h, None, {}, {"state": (xw, hw)})


def lstm_step(xw: torch.Tensor, hw: torch.Tensor, h_prev: torch.Tensor, c: torch.Tensor) -> Step:
    xi, xf, xg, xo = xw.chunk(4, dim=-1)
    hi, hf, hg, ho = hw.chunk(4, dim=-1)
    i, f, g, o = (xi + hi).sigmoid(), (xf + hf).sigmoid(), (xg + hg).tanh(), (xo + ho).sigmoid()
    c = f * c + i * g  # forget part of the old memory, write part of the candidate
    h = o * c.tanh()  # show part of the memory
    return Step(h, c, {"input": i, "forget": f, "candidate": g, "output": o},
                {"input": (xi, hi), "forget": (xf, hf), "candidate": (xg, hg), "output": (xo, ho)})


def gru_step(xw: torch.Tensor, hw: torch.Tensor, h_prev: torch.Tensor, c: torch.Tensor | None) -> Step:
    xr, xz, xn = xw.chunk(3, dim=-1)
    hr, hz, hn = hw.chunk(3, dim=-1)
    r, z = (xr + hr).sigmoid(), (xz + hz).sigmoid()
    memory_n = r * hn  # the reset gate decides how much of the past shapes the candidate
    n = (xn + memory_n).tanh()
    h = (1 - z) * n + z * h_prev  # update gate: keep the old state (z→1) or take the candidate (z→0)
    return Step(h, None, {"reset": r, "update": z, "candidate": n},
                {"reset": (xr, hr), "update": (xz, hz), "candidate": (xn, memory_n)})


def rnn_terms(step: Step, h_prev, c_prev, i: int) -> list[tuple[str, float]]:
    return [("h_t = tanh(·)", float(step.h[i]))]


def lstm_terms(step: Step, h_prev, c_prev, i: int) -> list[tuple[str, float]]:
    g = step.gates
    return [("f_t·c_{t−1}", float(g["forget"][i] * c_prev[i])), ("i_t·g_t", float(g["input"][i] * g["candidate"][i])),
            ("c_t = f_t·c_{t−1} + i_t·g_t", float(step.c[i])), ("tanh(c_t)", float(step.c[i].tanh())),
            ("h_t = o_t·tanh(c_t)", float(step.h[i]))]


def gru_terms(step: Step, h_prev, c_prev, i: int) -> list[tuple[str, float]]:
    g = step.gates
    return [("(1−z_t)·n_t", float((1 - g["update"][i]) * g["candidate"][i])),
            ("z_t·h_{t−1}", float(g["update"][i] * h_prev[i])), ("h_t = (1−z_t)·n_t + z_t·h_{t−1}", float(step.h[i]))]


@dataclass(frozen=True)
class Cell:
    name: str  # "lstm": the key in bundles, URLs and the CLI
    title: str  # "LSTM": as the UI and the figures write it
    module_name: str  # the fused PyTorch layer the model trains with: torch.nn.<module_name>
    gates: tuple[str, ...]  # the per-step vectors the trace keeps, in PyTorch's block order
    memory_gate: str | None  # the gate that keeps the old state (LSTM forget, GRU update), None for the plain RNN
    has_cell_state: bool  # True when the state is (h, c)
    symbols: dict[str, str]  # gate -> its symbol in PyTorch's docs (the same in every UI language)
    activations: dict[str, str]  # block -> "sigmoid" or "tanh": the nonlinearity after its pre-activation
    _step: Callable[..., Step]  # (xw, hw, h_prev, c) -> Step; GRU mixes in h_prev itself, not only its projection
    terms: Callable[..., list[tuple[str, float]]]  # how unit i's new state is put together from the gates
    reset_scaled: str | None = None  # the block whose memory part the reset gate multiplies (GRU's candidate)

    @property
    def blocks(self) -> int:
        """Gate blocks in W_ih / W_hh: they are (blocks·H, E) and (blocks·H, H)."""
        return len(self.blocks_named)

    @property
    def blocks_named(self) -> tuple[str, ...]:
        """Names of the row blocks of W_ih / W_hh in order: the gates, or ("state",) for the plain RNN."""
        return self.gates or ("state",)

    @property
    def module(self) -> type[nn.RNNBase]:
        return getattr(importlib.import_module("torch.nn"), self.module_name)

    def step(self, xw: torch.Tensor, h: torch.Tensor, c: torch.Tensor | None, w_hh: torch.Tensor,
             b_hh: torch.Tensor) -> Step:
        """One time step from x's projection `xw` and the previous state (h, c)."""
        return self._step(xw, h @ w_hh.T + b_hh, h, c)

    def memory_gate_slice(self, hidden: int) -> slice | None:
        """Rows of the stacked gate parameters that belong to the memory gate (None when there is none)."""
        if self.memory_gate is None:
            return None
        k = self.gates.index(self.memory_gate)
        return slice(k * hidden, (k + 1) * hidden)


CELLS: dict[str, Cell] = {
    "rnn": Cell("rnn", "RNN", "RNN", (), None, False, {"state": "h_t"}, {"state": "tanh"}, rnn_step, rnn_terms),
    "lstm": Cell("lstm", "LSTM", "LSTM", ("input", "forget", "candidate", "output"), "forget", True,
                 {"input": "i_t", "forget": "f_t", "candidate": "g_t", "output": "o_t"},
                 {"input": "sigmoid", "forget": "sigmoid", "candidate": "tanh", "output": "sigmoid"},
                 lstm_step, lstm_terms),
    "gru": Cell("gru", "GRU", "GRU", ("reset", "update", "candidate"), "update", False,
                {"reset": "r_t", "update": "z_t", "candidate": "n_t"},
                {"reset": "sigmoid", "update": "sigmoid", "candidate": "tanh"}, gru_step, gru_terms, "candidate"),
}
NAMES = tuple(CELLS)


def get(name: str) -> Cell:
    """The registered cell `name`; ValueError naming the known ones otherwise (never a silent default)."""
    try:
        return CELLS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown cell {name!r}; choose one of {', '.join(NAMES)}") from None
