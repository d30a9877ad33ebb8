"""The lesson's figures, as plain Plotly dicts: the embedding vectors, one step's parts, the readout's
contributions, the gates per word, the gradient's reach, and the counterfactual diff. Colours from palette.py.

`highlight` (a word index) draws the chosen word's column in every chart that has words on its x axis, so one
choice shows up everywhere on the page.
"""
from __future__ import annotations

import numpy as np

from .. import cells
from ..i18n import plotly_separators, t
from ..model import CELL_NAMES
from ..trace import Trace
from . import palette
from .memory import _xaxis, heatmap_rows, label, unit_row_shape

MIN_HEIGHT = 260  # phones: no chart shorter than 240 px (tests/test_browser_lesson.py measures it)
FLOOR = -0.14  # y ranges start below 0, so the "0" label stays clear of the word labels under the axis


def _r(values, digits: int = 4) -> list:
    return [None if v is None or not np.isfinite(v) else round(float(v), digits) for v in values]


def _column(t_: int | None, yref: str = "paper") -> list[dict]:
    if t_ is None:
        return []
    return [{"type": "rect", "xref": "x", "x0": t_ - 0.5, "x1": t_ + 0.5, "yref": yref, "y0": 0, "y1": 1,
             "fillcolor": palette.HIGHLIGHT, "line": {"width": 0}, "layer": "below"}]


def _half_line() -> dict:
    return {"type": "line", "xref": "paper", "x0": 0, "x1": 1, "yref": "y", "y0": 0.5, "y1": 0.5,
            "line": {"dash": "dot", "width": 1, "color": palette.GUIDE}}


def _base(height: int, ticks: list[str], lang: str) -> dict:
    return {"height": max(MIN_HEIGHT, height), "margin": {"l": 56, "r": 16, "t": 36, "b": 40},
            "xaxis": _xaxis(ticks, lang), "showlegend": False, "hovermode": "closest",
            "separators": plotly_separators(lang)}


def embedding_figure(tr: Trace, lang: str = "en", highlight: int | None = None) -> dict:
    """The embedding vector of every word (columns) as a heatmap over its dimensions (rows)."""
    ticks = [label(tok) for tok in tr.tokens]
    lim = float(max(1e-6, np.abs(tr.x).max()))
    layout = _base(300, ticks, lang)
    layout.update({"yaxis": {"title": {"text": t("lesson_fig_dim", lang)}, "fixedrange": True},
                   "shapes": [{**s, "layer": "above", "fillcolor": palette.TRANSPARENT,
                               "line": {"width": 2, "color": palette.INK}} for s in _column(highlight)]})
    return {"data": [{"type": "heatmap", "z": np.round(tr.x.T.astype(float), 3).tolist(), "zmin": -lim, "zmax": lim,
                      "colorscale": palette.DIVERGING, "colorbar": {"thickness": 10, "title": {"text": "x_t"}},
                      "hovertemplate": "t=%{x} d=%{y}: %{z}<extra></extra>"}], "layout": layout}


def step_figure(s: dict, lang: str = "en") -> dict:
    """One unit's pre-activation of every gate, split into its parts (input, memory, biases), as bars."""
    names = [t("lesson_part_input", lang), t("lesson_part_memory", lang), t("lesson_part_bias", lang)]
    data = []
    for k, name in enumerate(names):
        vals = []
        for b in s["blocks"]:
            mem = (b["memory"] + b["memory_bias"]) * (b["reset"] if b["reset"] is not None else 1.0)
            bias = b["input_bias"]
            vals.append([b["input"], mem, bias][k])
        data.append({"type": "bar", "name": name, "y": [b["symbol"] for b in s["blocks"]], "x": _r(vals),
                     "orientation": "h", "marker": {"color": palette.SERIES[k + 2]},
                     "hovertemplate": name + ": %{x:.3f}<extra></extra>"})
    data.append({"type": "scatter", "name": t("lesson_part_sum", lang), "y": [b["symbol"] for b in s["blocks"]],
                 "x": _r([b["pre"] for b in s["blocks"]]), "mode": "markers",
                 "marker": {"symbol": "diamond", "size": 12, "color": palette.INK},
                 "hovertemplate": t("lesson_part_sum", lang) + ": %{x:.3f}<extra></extra>"})
    return {"data": data, "layout": {"height": max(MIN_HEIGHT, 70 * len(s["blocks"]) + 120), "barmode": "relative",
                                     "margin": {"l": 48, "r": 16, "t": 16, "b": 40}, "showlegend": True,
                                     "legend": {"orientation": "h", "y": -0.25},
                                     "xaxis": {"zeroline": True, "title": {"text": t("lesson_fig_pre", lang)}},
                                     "yaxis": {"autorange": "reversed", "fixedrange": True}}}


def readout_figure(contrib: np.ndarray, order: np.ndarray, lang: str = "en") -> dict:
    """w_i·h_T[i] for every unit, units ordered by their readout weight w_i (largest first): blue pushes P(+) up."""
    v = contrib[order]
    return {"data": [{"type": "bar", "x": list(range(len(v))), "y": _r(v), "customdata": [int(i) for i in order],
                      "marker": {"color": [palette.sign_color(x) for x in v]},
                      "hovertemplate": t("fig_unit", lang) + " %{customdata}: %{y:.3f}<extra></extra>"}],
            "layout": {"height": MIN_HEIGHT + 20, "margin": {"l": 56, "r": 16, "t": 16, "b": 48}, "showlegend": False,
                       "xaxis": {"title": {"text": t("lesson_fig_units_by_w", lang)}, "showticklabels": False},
                       "yaxis": {"title": {"text": "w_i·h_T[i]"}, "zeroline": True}}}


def gate_lines_figure(tr: Trace, summary: dict, lang: str = "en", highlight: int | None = None) -> dict:
    """Per word, the mean of each gate over the units, and the fraction of units whose memory gate is above 0.5."""
    ticks = [label(tok) for tok in tr.tokens]
    x = list(range(len(ticks)))
    symbols = cells.get(tr.cell).symbols
    data = [{"type": "scatter", "x": x, "y": _r(m), "mode": "lines+markers", "name": f"{symbols[name]}",
             "line": {"color": palette.GATE_COLORS[name], "width": 3 if name == summary["memory_gate"] else 1.5},
             "customdata": ticks, "hovertemplate": f"{symbols[name]} · %{{customdata}}: %{{y:.3f}}<extra></extra>"}
            for name, m in summary["means"].items()]
    if summary["keep"] is not None:
        sym = symbols[summary["memory_gate"]]
        data.append({"type": "scatter", "x": x, "y": _r(summary["keep"]), "mode": "lines",
                     "name": t("lesson_fig_keep", lang, sym=sym),
                     "line": {"color": palette.GATE_COLORS[summary["memory_gate"]], "dash": "dot"},
                     "hovertemplate": t("lesson_fig_keep", lang, sym=sym) + ": %{y:.0%}<extra></extra>"})
    layout = _base(300, ticks, lang)
    layout.update({"showlegend": True, "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
                   "yaxis": {"range": [FLOOR, 1.04], "tickvals": [0, 0.5, 1], "fixedrange": True,
                             "title": {"text": t("lesson_fig_mean", lang)}},
                   "shapes": _column(highlight) + [_half_line()], "margin": {"l": 56, "r": 16, "t": 48, "b": 40}})
    return {"data": data, "layout": layout}


def gradient_figure(results: dict[str, dict], tokens, lang: str = "en") -> dict:
    """‖∂logit/∂h_t‖ per word for each cell (log scale): how much of the gradient from the output reaches word t."""
    ticks = [label(tok) for tok in tokens]
    data = [{"type": "scatter", "x": list(range(len(ticks))), "y": _r(r["h_grad_norm"], 6), "mode": "lines+markers",
             "name": CELL_NAMES.get(c, c), "line": {"color": palette.CELL_COLORS.get(c, palette.NEUTRAL)},
             "hovertemplate": CELL_NAMES.get(c, c) + ": %{y:.2e}<extra></extra>"} for c, r in results.items()]
    layout = _base(300, ticks, lang)
    layout.update({"showlegend": True, "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
                   "yaxis": {"type": "log", "title": {"text": "‖∂logit/∂h_t‖"}},
                   "margin": {"l": 64, "r": 16, "t": 48, "b": 40}})
    return {"data": data, "layout": layout}


def _diff_label(pair: tuple[str | None, str | None]) -> str:
    a, b = pair
    if a == b:
        return label(a)
    return f"{label(a) if a else '∅'}→{label(b) if b else '∅'}"


def diff_figure(d: dict, names: tuple[str, str], lang: str = "en", highlight: int | None = None) -> dict:
    """The counterfactual: both P(+) curves on top, ‖h_t − h'_t‖ (and ‖c_t − c'_t‖) per column below."""
    ticks = [_diff_label(p) for p in d["labels"]]
    x = list(range(len(ticks)))
    data = [{"type": "scatter", "x": x, "y": _r(d["p_a"]), "mode": "lines+markers", "name": names[0],
             "line": {"color": palette.NEUTRAL}, "yaxis": "y2", "hovertemplate": "P(+) = %{y:.3f}<extra></extra>"},
            {"type": "scatter", "x": x, "y": _r(d["p_b"]), "mode": "lines+markers", "name": names[1],
             "line": {"color": palette.SERIES[4], "dash": "dash"}, "yaxis": "y2",
             "hovertemplate": "P(+) = %{y:.3f}<extra></extra>"},
            {"type": "bar", "x": x, "y": _r(d["h_dist"]), "name": "‖h_t − h'_t‖", "yaxis": "y",
             "marker": {"color": palette.SERIES[2]}, "hovertemplate": "‖Δh‖ = %{y:.3f}<extra></extra>"}]
    if d["c_dist"] is not None:
        data.append({"type": "scatter", "x": x, "y": _r(d["c_dist"]), "name": "‖c_t − c'_t‖", "yaxis": "y",
                     "mode": "lines", "line": {"color": palette.SERIES[3]},
                     "hovertemplate": "‖Δc‖ = %{y:.3f}<extra></extra>"})
    top = max(1e-6, float(np.nanmax(d["h_dist"])), float(np.nanmax(d["c_dist"])) if d["c_dist"] is not None else 0)
    layout = _base(420, ticks, lang)
    layout.update({"showlegend": True, "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
                   "yaxis": {"domain": [0, 0.42], "title": {"text": t("lesson_fig_dist", lang)},
                             "range": [FLOOR * top, 1.08 * top], "fixedrange": True},
                   "yaxis2": {"domain": [0.55, 1], "range": [-0.02, 1.02], "title": {"text": "P(+)"},
                              "fixedrange": True},
                   "shapes": _column(highlight) + [{**_half_line(), "yref": "y2"}],
                   "margin": {"l": 56, "r": 16, "t": 48, "b": 40}})
    return {"data": data, "layout": layout}


def contribution_heatmap(tr: Trace, contrib: np.ndarray, order: np.ndarray, lang: str = "en",
                         highlight: int | None = None, unit: int | None = None) -> dict:
    """What the Linear layer sees after each word: w_i·h_t[i] (units ordered by w_i, largest on top). A column's
    sum plus the bias is the logit after that word (explain.readout.contributions). `unit` outlines its row."""
    ticks = [label(tok) for tok in tr.tokens]
    rows = heatmap_rows(contrib.shape[1], order)
    z = contrib[:, rows].T
    lim = float(max(1e-6, np.abs(z).max()))
    layout = _base(320, ticks, lang)
    shapes = [{**s, "layer": "above", "fillcolor": palette.TRANSPARENT, "line": {"width": 2, "color": palette.INK}}
              for s in _column(highlight)]
    if unit is not None and 0 <= unit < len(rows):
        shapes.append(unit_row_shape(int(np.flatnonzero(rows == unit)[0])))
    layout.update({"yaxis": {"title": {"text": t("fig_unit_by_w", lang)}, "showticklabels": False,
                             "fixedrange": True}, "shapes": shapes})
    return {"data": [{"type": "heatmap", "z": np.round(z.astype(float), 4).tolist(), "zmin": -lim, "zmax": lim,
                      "colorscale": palette.DIVERGING,
                      "colorbar": {"thickness": 10, "title": {"text": "w_i·h_t[i]", "side": "right"}},
                      "hovertemplate": "t=%{x}: %{z}<extra></extra>"}], "layout": layout}


def unit_figure(tr: Trace, unit: int, lang: str = "en", highlight: int | None = None) -> dict:
    """One unit followed along the sentence: h_t[i], c_t[i] (LSTM) and each gate's value at unit i, per word."""
    ticks = [label(tok) for tok in tr.tokens]
    x = list(range(len(ticks)))
    series = [("h_t[i]", tr.h, palette.NEUTRAL, "solid")]
    if tr.c is not None:
        series.append(("c_t[i]", tr.c, palette.NEUTRAL, "dot"))
    symbols = cells.get(tr.cell).symbols
    series += [(f"{symbols[name]}[i]", m, palette.GATE_COLORS.get(name, palette.NEUTRAL), "solid")
               for name, m in tr.gates.items()]
    data = [{"type": "scatter", "name": name, "x": x, "y": _r(np.asarray(m)[:, unit]), "mode": "lines+markers",
             "line": {"color": color, "dash": dash}, "customdata": ticks,
             "hovertemplate": f"%{{customdata}}: {name} = %{{y:.3f}}<extra></extra>"}
            for name, m, color, dash in series]
    layout = _base(280, ticks, lang)
    layout.update({"showlegend": True, "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
                   "yaxis": {"zeroline": True, "fixedrange": True}, "shapes": _column(highlight),
                   "margin": {"l": 56, "r": 16, "t": 40, "b": 40}})
    return {"data": data, "layout": layout}
