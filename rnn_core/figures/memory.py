"""Figures of the network's memory: the animated heatmap of h_t (and c_t) with the prefix-probability curve, and
the side-by-side comparison of the three cells.

Figures are plain dicts (Plotly's JSON). The animation sends each matrix once: a frame only moves a grey mask over
the words not yet read and the marker on the curve, so the payload grows as O(T·H), not O(T²·H).
"""
from __future__ import annotations

import html

import numpy as np

from .. import cells
from ..i18n import plotly_separators, t
from ..trace import Trace
from . import palette

# Colours come from the one palette; scales are spelled out there (figures reach the browser unvalidated).
COLORSCALE = palette.DIVERGING  # orange = negative, white = 0, blue = positive
GATE_SCALE = palette.SEQUENTIAL  # closed → open
MASK = palette.MASK
CELL_COLORS = palette.CELL_COLORS
CURVE_BOTTOM = -0.12
DIGITS = 3  # colour needs no more: [-1, 1] in steps of 0.001


def label(token: str) -> str:
    """A token as Plotly text. Plotly renders a small subset of HTML in labels, so < > & are escaped; a token never
    contains a tag anyway (the tokenizer splits < and > off), this is belt and braces."""
    return html.escape(token, quote=False)


def _z(matrix: np.ndarray) -> list:
    """Time-first (T, H) → rows = units, columns = words, rounded for the wire."""
    return np.round(matrix.T.astype(float), DIGITS).tolist()


def _xaxis(ticks: list[str], lang: str) -> dict:
    """Words on the x axis. Past 25 words every other label is left out so they do not overlap (hover still names
    each word)."""
    n = len(ticks)
    step = 1 if n <= 25 else 2
    return {"tickmode": "array", "tickvals": list(range(0, n, step)), "ticktext": ticks[::step],
            "tickangle": -45 if n > 8 else "auto", "range": [-0.5, n - 0.5], "zeroline": False, "automargin": True,
            "title": {"text": t("fig_token", lang), "standoff": 8}}


def _mask_x(t_shown: int, n: int) -> list[float]:
    """x of the grey rectangle covering words t_shown+1..n (empty when all are shown)."""
    a, b = t_shown + 0.5, n - 0.5
    return [a, b, b, a]


def memory_animation(tr: Trace, lang: str = "en", frame_ms: int = 450, order=None, highlight: int | None = None,
                     unit: int | None = None, current: int | None = None) -> dict:
    """The hidden state (and LSTM cell state) as a heatmap over words × units, with P(positive) after each prefix
    below it; a slider and ▶ reveal one more word per frame. `order` (unit indices, e.g. explain.readout.unit_order)
    sorts the rows, first on top; `highlight` frames one word's column in every panel, `unit` one unit's row;
    `current` is the word the slider starts at (default: the last, everything shown); ▶ plays on from there."""
    panels = [(t("fig_h", lang), "h", tr.h, -1.0, 1.0)]
    if tr.c is not None:
        zmax = max(1.0, float(np.ceil(np.abs(tr.c).max())))
        panels.append((t("fig_c", lang), "c", tr.c, -zmax, zmax))
    return animation(tr, panels, lang, frame_ms, order, highlight, unit, current)


GATE_RANGES = {"candidate": (-1.0, 1.0)}  # tanh; every other gate is a sigmoid in [0, 1]


def gates_animation(tr: Trace, lang: str = "en", frame_ms: int = 450, order=None, highlight: int | None = None,
                    unit: int | None = None, current: int | None = None) -> dict:
    """Each gate of an LSTM or GRU as its own heatmap, on the same frames and slider as the memory animation."""
    symbols = cells.get(tr.cell).symbols  # colour-bar labels: i_t, f_t, g_t / r_t, z_t, n_t
    panels = [(t(f"gate_{name}", lang, sym=symbols[name]), symbols[name], m, *GATE_RANGES.get(name, (0.0, 1.0)))
              for name, m in tr.gates.items()]
    return animation(tr, panels, lang, frame_ms, order, highlight, unit, current)


def heatmap_rows(h: int, order=None) -> np.ndarray:
    """rows[r] is the unit drawn in heatmap row r. Plotly draws row 0 at the bottom, so the first unit of `order`
    (e.g. the largest readout weight) goes on top. A click on row r (pages/linked.py) means unit rows[r]."""
    return np.arange(h) if order is None else np.asarray(order)[::-1]


def unit_row_shape(row: int, yref: str = "y") -> dict:
    """An outline around one heatmap row: the unit a student follows."""
    return {"type": "rect", "xref": "paper", "x0": 0, "x1": 1, "yref": yref, "y0": row - 0.5, "y1": row + 0.5,
            "line": {"width": 1.5, "color": palette.INK}, "fillcolor": palette.TRANSPARENT, "layer": "above"}


def animation(tr: Trace, panels: list[tuple], lang: str = "en", frame_ms: int = 450, order=None,
              highlight: int | None = None, unit: int | None = None, current: int | None = None) -> dict:
    """Heatmap panels (title, short name, (T, H) matrix, zmin, zmax) stacked over the prefix-probability curve.
    Matrices go out once; frames only move the grey masks over unread words and the cursor on the curve."""
    n, h = len(tr.tokens), tr.h.shape[1]
    rows = heatmap_rows(h, order)
    cur = n - 1 if current is None or not 0 <= current < n else int(current)
    unit_title = t("fig_unit", lang) if order is None else t("fig_unit_by_w", lang)
    hover = t("fig_hover_state" if order is None else "fig_hover_sorted", lang)
    ticks = [label(tok) for tok in tr.tokens]
    # Stack: heatmaps on top, the probability curve at the bottom, sharing the one x axis (the words).
    curve_top = 0.26 if len(panels) <= 2 else 0.14
    gap = 0.06 if len(panels) <= 2 else 0.035
    span = (1 - curve_top - gap * len(panels)) / len(panels)
    layout = {
        "height": 460 + 180 * (len(panels) - 1),
        "margin": {"l": 60, "r": 20, "t": 30, "b": 130},
        # No axis title: the slider's "after: word" label sits just below the word labels (it collided on phones).
        "xaxis": {"anchor": "y", **_xaxis(ticks, lang), "title": None},
        # The range starts below 0 so the "0" tick label sits clear of the word labels under the axis.
        "yaxis": {"domain": [0, curve_top], "range": [CURVE_BOTTOM, 1.02], "title": {"text": "P(+)"},
                  "tickvals": [0, 0.5, 1], "fixedrange": True},
        "shapes": [{"type": "line", "xref": "paper", "x0": 0, "x1": 1, "yref": "y", "y0": 0.5, "y1": 0.5,
                    "line": {"dash": "dot", "width": 1, "color": palette.GUIDE}}],
        "annotations": [],
        "showlegend": False,
        "hovermode": "closest",
        "separators": plotly_separators(lang),
    }
    data = []
    mask_traces = []
    for k, (title, name, matrix, zmin, zmax) in enumerate(panels):
        axis = f"y{k + 2}"
        top = 1 - k * (span + gap)
        layout[f"yaxis{k + 2}"] = {"domain": [top - span, top], "range": [-0.5, h - 0.5], "fixedrange": True,
                                   "title": {"text": unit_title}, "zeroline": False}
        if order is not None:  # say which end of the ordered rows pushes P(+) up
            layout[f"yaxis{k + 2}"].update({"tickmode": "array", "tickvals": [0, h - 1],
                                            "ticktext": ["w_i −", "w_i +"]})
        if unit is not None and 0 <= unit < h:
            layout["shapes"].append(unit_row_shape(int(np.flatnonzero(rows == unit)[0]), axis))
        layout["annotations"].append({"text": title, "xref": "paper", "yref": "paper", "x": 0,
                                      "y": top, "xanchor": "left", "yanchor": "bottom", "showarrow": False})
        coloraxis = "coloraxis" if k == 0 else f"coloraxis{k + 1}"
        layout[coloraxis] = {"cmin": zmin, "cmax": zmax, "colorscale": COLORSCALE if zmin < 0 else GATE_SCALE,
                             "colorbar": {"title": {"text": name}, "len": span, "y": top - span / 2,
                                          "thickness": 12, "tickvals": sorted({zmin, 0.0, zmax})}}
        data.append({"type": "heatmap", "z": _z(np.asarray(matrix)[:, rows]), "xaxis": "x", "yaxis": axis,
                     "coloraxis": coloraxis, "hovertemplate": hover})
        mask_traces.append({"type": "scatter", "x": _mask_x(cur, n), "y": [-0.5, -0.5, h - 0.5, h - 0.5],
                            "yaxis": axis, "fill": "toself", "fillcolor": MASK, "mode": "none",
                            "hoverinfo": "skip"})
    p = np.round(tr.prefix_p.astype(float), 4).tolist()
    data.append({"type": "scatter", "x": list(range(n)), "y": p, "mode": "lines+markers", "yaxis": "y",
                 "line": {"color": palette.NEUTRAL}, "marker": {"size": 5}, "customdata": ticks,
                 "hovertemplate": "%{customdata}: P(+)=%{y:.3f}<extra></extra>"})
    mask_traces.append({"type": "scatter", "x": _mask_x(cur, n), "y": [CURVE_BOTTOM, CURVE_BOTTOM, 1.02, 1.02],
                        "yaxis": "y", "fill": "toself", "fillcolor": MASK, "mode": "none", "hoverinfo": "skip"})
    cursor = {"type": "scatter", "x": [cur], "y": [p[cur]], "yaxis": "y", "mode": "markers",
              "marker": {"size": 13, "color": palette.INK, "symbol": "diamond"}, "hoverinfo": "skip"}
    if highlight is not None and 0 <= highlight < n:  # the chosen word, framed across every panel
        layout["shapes"].append({"type": "rect", "xref": "x", "yref": "paper", "x0": highlight - 0.5,
                                 "x1": highlight + 0.5, "y0": 0, "y1": 1, "line": {"width": 2, "color": palette.INK},
                                 "fillcolor": palette.TRANSPARENT})
    data += mask_traces + [cursor]
    moving = list(range(len(data) - len(mask_traces) - 1, len(data)))
    frames = [{"name": str(i), "traces": moving,
               "data": [{"x": _mask_x(i, n)} for _ in mask_traces] + [{"x": [i], "y": [p[i]]}]}
              for i in range(n)]
    # redraw=True: with redraw=False plotly.js drops heatmap layers from the view during an animation
    # (plotly/plotly.js#4491). Frames still carry only the masks and the cursor, so the payload does not grow.
    step_args = {"mode": "immediate", "frame": {"duration": 0, "redraw": True}}
    # Play/Pause sit under the word labels and the slider under them, each the full width: beside the slider the
    # buttons pushed the left margin out until a phone had ~130 px of plot left.
    layout["sliders"] = [{"active": cur, "pad": {"t": 100}, "currentvalue": {"prefix": t("fig_after", lang)},
                          "transition": {"duration": 0},
                          "steps": [{"method": "animate", "label": ticks[i], "args": [[str(i)], step_args]}
                                    for i in range(n)]}]
    # ▶ plays on from the current word (from the start when the last word is current); fromcurrent lets it resume
    # from wherever the slider was moved in the browser or where a pause left it.
    start = 0 if cur == n - 1 else cur
    play = {"frame": {"duration": frame_ms, "redraw": True}, "transition": {"duration": 0}, "mode": "immediate",
            "fromcurrent": True}
    layout["updatemenus"] = [{"type": "buttons", "direction": "left", "x": 0, "y": 0, "xanchor": "left",
                              "yanchor": "top", "pad": {"t": 60}, "showactive": False,
                              "buttons": [{"label": t("fig_play", lang), "method": "animate",
                                           "args": [[f["name"] for f in frames[start:]], play]},
                                          {"label": t("fig_pause", lang), "method": "animate",
                                           "args": [[None], step_args]}]}]
    return {"data": data, "layout": layout, "frames": frames}


def compare_curves(traces: dict[str, Trace], lang: str = "en") -> dict:
    """P(positive) after each word for several cells on one chart (they share the tokens)."""
    first = next(iter(traces.values()))
    ticks = [label(tok) for tok in first.tokens]
    data = [{"type": "scatter", "name": cell.upper(), "x": list(range(len(tr.tokens))),
             "y": np.round(tr.prefix_p.astype(float), 4).tolist(), "mode": "lines+markers",
             "line": {"color": CELL_COLORS.get(cell)}, "hovertemplate": f"{cell.upper()}: %{{y:.3f}}<extra></extra>"}
            for cell, tr in traces.items()]
    layout = {"height": 320, "margin": {"l": 50, "r": 20, "t": 40, "b": 80},
              "title": {"text": t("fig_compare_curves", lang)},
              "xaxis": _xaxis(ticks, lang),
              "yaxis": {"range": [-0.02, 1.02], "title": {"text": "P(+)"}},
              "shapes": [{"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": 0.5, "y1": 0.5,
                          "line": {"dash": "dot", "width": 1, "color": palette.GUIDE}}],
              "legend": {"orientation": "h", "y": 1.12, "x": 1, "xanchor": "right"},
              "separators": plotly_separators(lang)}
    return {"data": data, "layout": layout}


def state_heatmap(tr: Trace, lang: str = "en", title: str = "") -> dict:
    """A static heatmap of h_t, for side-by-side comparison (same fixed scale as the animation)."""
    ticks = [label(tok) for tok in tr.tokens]
    return {"data": [{"type": "heatmap", "z": _z(tr.h), "zmin": -1, "zmax": 1, "colorscale": COLORSCALE,
                      "showscale": False, "hovertemplate": t("fig_hover_state", lang)}],
            "layout": {"height": 300, "margin": {"l": 40, "r": 10, "t": 40, "b": 70}, "title": {"text": title},
                       "xaxis": _xaxis(ticks, lang),
                       "yaxis": {"title": {"text": t("fig_unit", lang)}}, "separators": plotly_separators(lang)}}


def raw_matrix_bytes(tr: Trace) -> int:
    """Size of the matrices the animation shows (h, and c for LSTM) as compact JSON at the precision the figure
    uses: the yardstick for the animation's payload."""
    import json

    mats = [_z(tr.h)] + ([_z(tr.c)] if tr.c is not None else [])
    return sum(len(json.dumps(m, separators=(",", ":"))) for m in mats)


def standalone_html(fig: dict) -> str:
    """The figure as one HTML file that works offline (plotly.js inlined), animation included."""
    import plotly.io as pio

    return pio.to_html(fig, include_plotlyjs=True, full_html=True, validate=False, auto_play=False)
