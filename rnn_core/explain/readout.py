"""What the classifier reads: the Linear layer's weight w_i for every hidden unit, and each unit's contribution
w_i·h_t[i] to the logit after word t. Their sum plus the bias is the logit, sigmoid(logit) = P(+) (tested).

Ordering the units by w_i makes the hidden state legible: the top rows of a heatmap push P(+) up when they are
positive, the bottom rows push it down.
"""
from __future__ import annotations

import numpy as np

from ..model import SentimentRNN
from ..trace import Trace


def readout_weights(model: SentimentRNN) -> tuple[np.ndarray, float]:
    """(w (H,), b): logit = w · h + b."""
    return model.fc.weight.detach().numpy()[0].astype(np.float64), float(model.fc.bias.detach()[0])


def unit_order(model: SentimentRNN) -> np.ndarray:
    """Unit indices by readout weight, largest w_i first (ties by index, so the order is stable)."""
    w, _ = readout_weights(model)
    return np.lexsort((np.arange(len(w)), -w))


def contributions(model: SentimentRNN, tr: Trace) -> dict:
    """{"w" (H,), "bias", "contrib" (T, H) = w_i·h_t[i], "logit" (T,) = row sums + bias, "p" (T,)}."""
    w, b = readout_weights(model)
    contrib = tr.h.astype(np.float64) * w
    logit = contrib.sum(axis=1) + b
    return {"w": w, "bias": b, "contrib": contrib, "logit": logit, "p": 1 / (1 + np.exp(-logit))}


def top_units(contrib_t: np.ndarray, k: int = 3) -> dict:
    """The k units pushing most towards positive and towards negative at one step: {"pos": [(unit, value)], "neg"}."""
    order = np.argsort(contrib_t, kind="stable")
    pos = [(int(i), float(contrib_t[i])) for i in order[::-1][:k] if contrib_t[i] > 0]
    neg = [(int(i), float(contrib_t[i])) for i in order[:k] if contrib_t[i] < 0]
    return {"pos": pos, "neg": neg}
