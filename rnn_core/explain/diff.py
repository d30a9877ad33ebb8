"""A counterfactual: the same network on two sentences that differ by an edit ("good" → "not good"), aligned word
by word, to see where the two memories part and whether they meet again.

The two token lists are aligned with difflib (longest matching blocks). Each column of the alignment is a word of
one sentence or of both; at a column a side has not read a word, its state is the one it already had (a network
only changes its memory when it reads). Per column: both P(+), ‖h_t − h'_t‖ (and ‖c_t − c'_t‖ for the LSTM), and,
where both read a word, the mean |Δ| of each gate. Everything comes from the two Traces (tests: equal to their
differences).
"""
from __future__ import annotations

import difflib

import numpy as np

from ..trace import Trace

APART = 1e-6  # a distance above this means the two memories differ


def align(a: tuple[str, ...], b: tuple[str, ...]) -> list[tuple[int | None, int | None]]:
    """Columns (i, j): the i-th word of a and the j-th of b, None where one side has no word there."""
    cols: list[tuple[int | None, int | None]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=list(a), b=list(b), autojunk=False).get_opcodes():
        if op == "equal":
            cols += [(i1 + k, j1 + k) for k in range(i2 - i1)]
        else:  # replace / delete / insert: the removed words, then the added ones (replace pairs up first)
            n = max(i2 - i1, j2 - j1)
            cols += [(i1 + k if i1 + k < i2 else None, j1 + k if j1 + k < j2 else None) for k in range(n)]
    return cols


def _held(cols, side: int) -> list[int]:
    """For every column, the index of the last word that side has read so far (−1: none yet)."""
    last, out = -1, []
    for col in cols:
        if col[side] is not None:
            last = col[side]
        out.append(last)
    return out


def _state(m: np.ndarray, idx: list[int]) -> np.ndarray:
    zero = np.zeros((1, m.shape[1]))
    return np.concatenate([zero, m.astype(np.float64)])[np.array(idx) + 1]


def trace_diff(a: Trace, b: Trace) -> dict:
    """Both runs aligned: {"columns" [(i, j)], "labels" [(token a | None, token b | None)], "p_a", "p_b" (P(+)
    after each column, NaN before a side's first word), "h_dist", "c_dist" (or None), "gates" {name: mean |Δ| per
    column, NaN where a side read nothing}, "reacted" [(gate, its largest mean |Δ|)] largest first, "part" (first
    column where the memories differ, or None), "peak", "final" (‖Δh‖ at its largest and at the end), "met_again"
    (final < 10% of peak)}."""
    if a.cell != b.cell:
        raise ValueError("a diff compares one network on two sentences: both traces need the same cell")
    cols = align(a.tokens, b.tokens)
    ia, ib = _held(cols, 0), _held(cols, 1)
    h_dist = np.linalg.norm(_state(a.h, ia) - _state(b.h, ib), axis=1)
    c_dist = None if a.c is None else np.linalg.norm(_state(a.c, ia) - _state(b.c, ib), axis=1)
    pa = np.array([a.prefix_p[i] if i >= 0 else np.nan for i in ia], dtype=np.float64)
    pb = np.array([b.prefix_p[j] if j >= 0 else np.nan for j in ib], dtype=np.float64)
    gates = {name: np.array([np.abs(a.gates[name][i].astype(np.float64) - b.gates[name][j]).mean()
                             if i is not None and j is not None else np.nan for i, j in cols])
             for name in a.gates}
    reacted = sorted(((name, float(np.nanmax(v))) for name, v in gates.items() if np.isfinite(v).any()),
                     key=lambda x: -x[1])
    apart = np.nonzero(h_dist > APART)[0]
    peak = float(h_dist.max())
    return {"columns": cols, "labels": [(None if i is None else a.tokens[i], None if j is None else b.tokens[j])
                                        for i, j in cols],
            "p_a": pa, "p_b": pb, "h_dist": h_dist, "c_dist": c_dist, "gates": gates, "reacted": reacted,
            "part": int(apart[0]) if len(apart) else None, "peak": peak, "final": float(h_dist[-1]),
            "met_again": bool(peak > APART and h_dist[-1] < 0.1 * peak)}
