"""One recurrent step opened up: how unit i of the state after word t is computed, with the model's real numbers.

For the plain RNN that is h_t[i] = tanh((W_ih x_t)[i] + b_ih[i] + (W_hh h_{t−1})[i] + b_hh[i]): the input part, the
memory part, the biases, the sum and the tanh. For LSTM and GRU the same split is shown for every gate, and then how
the gates make the new state (c_t = f⊙c_{t−1} + i⊙g, h_t = o⊙tanh(c_t); GRU: h_t = (1−z)⊙n + z⊙h_{t−1}). The
largest single contributions are listed: which input dimensions x_t[d]·W_ih[row, d] and which units of the old
memory h_{t−1}[j]·W_hh[row, j] move the pre-activation most.

Everything is computed by the registry's step function (cells.py) from the Trace's own x and h, so the numbers are
those the trace holds; tests/test_step.py checks them against the Trace to 1e-5.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from .. import cells
from ..model import SentimentRNN
from ..trace import Trace


def _activation(name: str, v: float) -> float:
    return math.tanh(v) if name == "tanh" else 1 / (1 + math.exp(-v))


def _top(values: np.ndarray, k: int) -> list[dict]:
    """The k entries of largest magnitude, as {index, value}, largest first."""
    order = np.argsort(-np.abs(values), kind="stable")[:k]
    return [{"index": int(j), "value": float(values[j])} for j in order]


@torch.no_grad()
def open_step(model: SentimentRNN, tr: Trace, t: int, unit: int, top_k: int = 5) -> dict:
    """The arithmetic of unit `unit` at word `t` (0-based) of `tr`, which must come from `model`.

    Returns {"cell", "t", "unit", "token", "blocks": [per gate (or "state" for the RNN): name, symbol, activation,
    input (W_ih x_t)[row], input_bias, memory (W_hh h_{t−1})[row], memory_bias, reset (GRU candidate only: the
    r_t[i] that multiplies the memory part), pre (the sum), value (after the nonlinearity), top_inputs [{index d,
    x, weight, value = x·weight}], top_memory [{index j, h_prev, weight, value}]], "terms": [(label, value)] how the
    new state is assembled, "h_prev", "h", "c_prev", "c"}.
    """
    cell = cells.get(tr.cell)
    T, H = tr.h.shape
    if not (0 <= t < T and 0 <= unit < H):
        raise ValueError(f"word {t} / unit {unit} is outside this sentence ({T} words) or state ({H} units)")
    rnn = model.rnn
    w_ih, b_ih, w_hh, b_hh = rnn.weight_ih_l0, rnn.bias_ih_l0, rnn.weight_hh_l0, rnn.bias_hh_l0
    x = torch.from_numpy(np.array(tr.x[t]))
    h_prev = torch.from_numpy(np.array(tr.h[t - 1])) if t > 0 else x.new_zeros(H)
    c_prev = None
    if cell.has_cell_state:
        c_prev = torch.from_numpy(np.array(tr.c[t - 1])) if t > 0 else x.new_zeros(H)
    step = cell.step(x @ w_ih.T + b_ih, h_prev, c_prev, w_hh, b_hh)  # the registry's own equations
    blocks = []
    for k, name in enumerate(cell.blocks_named):
        row = k * H + unit
        in_terms = (x * w_ih[row]).numpy()
        mem_terms = (h_prev * w_hh[row]).numpy()
        entry = {"name": name, "symbol": cell.symbols[name], "activation": cell.activations[name],
                 "input": float(in_terms.sum()), "input_bias": float(b_ih[row]),
                 "memory": float(mem_terms.sum()), "memory_bias": float(b_hh[row]), "reset": None}
        memory_total = entry["memory"] + entry["memory_bias"]
        if name == cell.reset_scaled:  # GRU: n_t = tanh(W_in x + b_in + r_t ⊙ (W_hn h + b_hn))
            entry["reset"] = float(step.gates["reset"][unit])
            memory_total *= entry["reset"]
        entry["pre"] = entry["input"] + entry["input_bias"] + memory_total
        entry["value"] = _activation(entry["activation"], entry["pre"])
        entry["registry_value"] = float(step.gates[name][unit]) if name in step.gates else float(step.h[unit])
        entry["top_inputs"] = [{"index": d["index"], "x": float(x[d["index"]]), "weight": float(w_ih[row, d["index"]]),
                                "value": d["value"]} for d in _top(in_terms, top_k)]
        entry["top_memory"] = [] if t == 0 else [
            {"index": d["index"], "h_prev": float(h_prev[d["index"]]), "weight": float(w_hh[row, d["index"]]),
             "value": d["value"]} for d in _top(mem_terms, top_k)]
        blocks.append(entry)
    return {"cell": cell.name, "t": t, "unit": unit, "token": tr.tokens[t], "blocks": blocks,
            "terms": cell.terms(step, h_prev, c_prev, unit), "h_prev": float(h_prev[unit]), "h": float(step.h[unit]),
            "c_prev": None if c_prev is None else float(c_prev[unit]),
            "c": None if step.c is None else float(step.c[unit])}
