"""The one visual language of every figure: sentiment, activation sign, the three cells and the gates.

Blue means positive (sentiment, activation, contribution) and orange means negative, everywhere; the two are told
apart by people with any common colour-vision deficiency (Okabe & Ito 2008; ColorBrewer's PuOr family). The cells
and the gates use the Okabe–Ito qualitative colours. tests/test_palette.py walks every figure builder's JSON and
checks that each colour and colour scale it uses comes from here.
"""
from __future__ import annotations

POSITIVE = "#0072B2"  # Okabe–Ito blue: P(+) > 0.5, a positive activation, a push towards positive
NEGATIVE = "#D55E00"  # Okabe–Ito vermillion: the opposite
NEUTRAL = "#555555"  # curves that are neither (P(+) itself), text-like marks
GUIDE = "#999999"  # the 0.5 line, axes helpers
INK = "#111111"  # the cursor
MASK = "rgba(238,238,238,0.93)"  # words not read yet
TRANSPARENT = "rgba(0,0,0,0)"
HIGHLIGHT = "rgba(230,159,0,0.28)"  # the chosen word's column (Okabe–Ito orange-yellow, translucent)

# Diverging, for signed values (tanh activations, c_t, contributions): orange (−) · white (0) · blue (+).
# Spelled out as rgb stops: figures reach the browser unvalidated and plotly.js knows few named scales.
DIVERGING = [[i / 10, c] for i, c in enumerate([
    "rgb(127,59,8)", "rgb(179,88,6)", "rgb(224,130,20)", "rgb(253,184,99)", "rgb(254,224,182)", "rgb(247,247,247)",
    "rgb(209,229,240)", "rgb(146,197,222)", "rgb(67,147,195)", "rgb(33,102,172)", "rgb(5,48,97)"])]
# Sequential, for values in [0, 1] that are not signed (gates: closed → open; counts): white → deep purple.
SEQUENTIAL = [[0.0, "rgb(252,251,253)"], [0.5, "rgb(158,154,200)"], [1.0, "rgb(63,0,125)"]]

CELL_COLORS = {"rnn": "#CC79A7", "lstm": "#009E73", "gru": "#E69F00"}  # Okabe–Ito reddish purple, green, orange
GATE_COLORS = {"input": "#56B4E9", "forget": "#CC79A7", "output": "#009E73", "candidate": "#000000",
               "reset": "#E69F00", "update": "#CC79A7", "state": "#000000"}  # the memory gates share a colour
SERIES = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]  # runs, splits, …

COLORS = {POSITIVE, NEGATIVE, NEUTRAL, GUIDE, INK, MASK, HIGHLIGHT, TRANSPARENT, "black", "white",
          *CELL_COLORS.values(), *GATE_COLORS.values(), *SERIES}
SCALES = (DIVERGING, SEQUENTIAL)


def sentiment_color(p: float) -> str:
    """The colour of a verdict: blue when P(+) ≥ 0.5, orange otherwise."""
    return POSITIVE if p >= 0.5 else NEGATIVE


def sign_color(v: float) -> str:
    return POSITIVE if v >= 0 else NEGATIVE
