"""The numbers behind the lesson ("Start here"): one function per step, each reading the user's Trace (and the
model's weights through explain/), returning plain data the page lays out and the locale strings fill in.

Every sentence the lesson says about the sentence is built from these numbers, so it is true for whichever model
and sentence the student picks; tests/test_lesson.py checks them against the trace and, for the default sentences,
against the shipped bundles.
"""
from __future__ import annotations

import re

import numpy as np

from . import cells, examples
from .explain.readout import contributions, readout_weights, top_units
from .explain.step import open_step
from .model import SentimentRNN
from .trace import Trace

# The lesson's steps in the order of the specification: words → ids → vectors → one step → memory → readout →
# gates → gradients. A step's number in the URL is its position here plus one.
STEPS = ("words", "ids", "embedding", "step", "memory", "readout", "gates", "gradients")


def words(tr: Trace) -> list[dict]:
    """Each word as typed, the string the vocabulary looked it up by (folded case and ё; its lemma for Russian), its
    id and whether it is unknown (id of <unk>)."""
    return [{"token": w, "key": k, "id": i, "unknown": u}
            for w, k, i, u in zip(tr.words, tr.keys, tr.ids, tr.unknown)]


def first_lemma(tr: Trace) -> int | None:
    """The first word looked up by a form other than its own folded form (a Russian lemma), or None."""
    return next((k for k, (tok, key) in enumerate(zip(tr.tokens, tr.keys)) if key != tok), None)


def embedding(tr: Trace) -> dict:
    """{"dim", "repeat": (token, first, second) for a word that occurs twice (same id → the same vector), or None}."""
    seen: dict[int, int] = {}
    for t, i in enumerate(tr.ids):
        if i in seen and not tr.unknown[t]:
            return {"dim": tr.x.shape[1], "repeat": (tr.tokens[t], seen[i], t),
                    "same": bool(np.array_equal(tr.x[seen[i]], tr.x[t]))}
        seen.setdefault(i, t)
    return {"dim": tr.x.shape[1], "repeat": None, "same": None}


def p_before(model: SentimentRNN) -> float:
    """P(+) before any word: h_0 = 0, so the logit is the readout's bias alone."""
    return float(1 / (1 + np.exp(-readout_weights(model)[1])))


def memory(model: SentimentRNN, tr: Trace) -> dict:
    """Where the verdict moved: {"jump": t of the largest |ΔP(+)|, "before", "after" (P(+) around it), "flips":
    the words after which the label changed side, "p0"}."""
    p = np.concatenate([[p_before(model)], tr.prefix_p.astype(np.float64)])
    jump = int(np.argmax(np.abs(np.diff(p))))
    flips = [t for t in range(1, len(tr.tokens)) if (p[t] >= 0.5) != (p[t + 1] >= 0.5)]
    return {"jump": jump, "before": float(p[jump]), "after": float(p[jump + 1]), "flips": flips, "p0": float(p[0])}


def focus(model: SentimentRNN, tr: Trace) -> tuple[int, int]:
    """A good (word, unit) to open up first: the word that moved P(+) most, and focus_unit there."""
    t = memory(model, tr)["jump"]
    return t, focus_unit(model, tr, t)


def focus_unit(model: SentimentRNN, tr: Trace, t: int) -> int:
    """The unit whose change at word t moved the logit most: argmax |w_i·(h_t[i] − h_{t−1}[i])|."""
    w, _ = readout_weights(model)
    prev = tr.h[t - 1] if t > 0 else np.zeros_like(tr.h[t])
    return int(np.argmax(np.abs(w * (tr.h[t] - prev))))


def step(model: SentimentRNN, tr: Trace, t: int, unit: int) -> dict:
    """One step opened up (explain.step.open_step) plus this unit's readout weight."""
    s = open_step(model, tr, t, unit, top_k=3)
    s["w"] = float(readout_weights(model)[0][unit])
    return s


def step_rows(s: dict) -> list[dict]:
    """The arithmetic of each gate as table rows (numbers only; the page puts the localised column names on):
    symbol, input part (W_ih x_t)[i], its bias, memory part (W_hh h_{t−1})[i] + its bias (× r_t for GRU's n_t),
    the sum and the value after the nonlinearity."""
    rows = []
    for b in s["blocks"]:
        memory_total = (b["memory"] + b["memory_bias"]) * (b["reset"] if b["reset"] is not None else 1.0)
        rows.append({"symbol": b["symbol"], "input": b["input"], "input_bias": b["input_bias"],
                     "memory": memory_total, "sum": b["pre"], "activation": b["activation"], "value": b["value"]})
    return rows


def readout(model: SentimentRNN, tr: Trace, k: int = 3) -> dict:
    """After the last word: the top units each way, the sum of all w_i·h_T[i], the bias, the logit and P(+)."""
    r = contributions(model, tr)
    last = r["contrib"][-1]
    return {**top_units(last, k), "sum": float(last.sum()), "bias": r["bias"], "logit": float(r["logit"][-1]),
            "p": float(r["p"][-1]), "n_pos": int((last > 0).sum()), "n_neg": int((last < 0).sum())}


def gate_summary(tr: Trace) -> dict:
    """Per word: the mean of each gate over the units, and the fraction of units whose memory gate keeps more
    than half (f > 0.5 / z > 0.5). Empty for the plain RNN. "lowest": the word where the memory gate's mean is
    smallest (the network forgets most there)."""
    cell = cells.get(tr.cell)
    if not cell.gates:
        return {"means": {}, "keep": None, "lowest": None, "memory_gate": None}
    means = {name: tr.gates[name].astype(np.float64).mean(axis=1) for name in cell.gates}
    g = tr.gates[cell.memory_gate]
    return {"means": means, "keep": (g > 0.5).mean(axis=1), "memory_gate": cell.memory_gate,
            "lowest": int(np.argmin(means[cell.memory_gate]))}


def gradient_reach(norms: dict) -> float:
    """From explain.gradients.step_gradient_norms: ‖∂/∂h_1‖ / ‖∂/∂h_T‖, how much of the gradient at the last word
    still reaches the first (1 for a one-word sentence)."""
    g = np.asarray(norms["h_grad_norm"], dtype=np.float64)
    return float(g[0] / g[-1]) if g[-1] > 0 else float("nan")


def rnn_fades_most(reaches: dict[str, float]) -> bool | None:
    """Whether the plain RNN's gradient reach (gradient_reach per cell) is the smallest; None without an RNN or
    another cell to compare with."""
    if "rnn" not in reaches or len(reaches) < 2:
        return None
    return all(reaches["rnn"] < r for c, r in reaches.items() if c != "rnn")


def edits(text: str, tokens: tuple[str, ...], lang: str, k: int = 4) -> list[str]:
    """Counterfactual sentences for the "what if" chips: a sentiment word swapped for its opposite, or a negation
    put before it (examples.LESSON_SWAPS / NEGATION). Edits are made in the user's own text (first occurrence,
    whole word, case-insensitive); a word that cannot be found as typed is skipped."""
    swaps, neg = examples.lesson_swaps(lang), examples.NEGATION.get(lang, "not")
    out: list[str] = []
    for tok in dict.fromkeys(tokens):
        if tok not in swaps:
            continue
        pattern = re.compile(rf"(?<!\w){re.escape(tok)}(?!\w)", re.IGNORECASE)
        if not pattern.search(text):
            continue
        out.append(pattern.sub(swaps[tok], text, count=1))
        out.append(pattern.sub(lambda m: f"{neg} {m.group(0)}", text, count=1))
    return [e for e in dict.fromkeys(out) if e != text][:k]
