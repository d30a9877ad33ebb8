"""Figures for the "look inside" pages: the Jacobian product through time, long-range memory, exploding gradients, word
importance, memory paths and single neurons. Each builder takes the plain data that rnn_core.explain returns and
gives back a go.Figure; nothing here runs a model.

Tokens are drawn at integer positions with the words as tick labels: a categorical axis would merge two bars of
the same word ("the ... the") into one.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..i18n import plotly_separators, t
from ..model import CELL_NAMES
from . import palette
from .memory import CELL_COLORS, label

DIVERGING = palette.DIVERGING  # orange = pushes towards negative, blue = towards positive (cmid = 0)
_LAYOUT = {"template": "plotly_white", "margin": {"l": 60, "r": 20, "t": 50, "b": 50}}


def _finite(values, digits: int = 6) -> list:
    """Plain floats rounded to `digits` significant digits, with NaN/inf as None (gaps), so the JSON stays small
    and valid."""
    return [float(f"{v:.{digits}g}") if math.isfinite(v) else None for v in np.asarray(values, dtype=float).ravel()]


def _positive(values) -> list:
    """For log axes: zeros and non-finite values become gaps instead of errors."""
    return [v if v is not None and v > 0 else None for v in _finite(values)]


def _log_axis(*series) -> dict:
    """A log axis over whole decades (10^lo .. 10^hi, one label per decade or per few), so a short axis on a
    phone never stacks digit labels ("2 … 9") on top of "10^-1"."""
    vals = [v for s in series for v in s if v is not None and v > 0]
    if not vals:
        return {"type": "log", "exponentformat": "power"}
    lo, hi = math.floor(math.log10(min(vals))), math.ceil(math.log10(max(vals)))
    hi = max(hi, lo + 1)
    return {"type": "log", "exponentformat": "power", "range": [lo, hi], "dtick": max(1, math.ceil((hi - lo) / 5))}


# Invisible outside ticks push the x labels 8 px down, clear of the lowest y label at the corner they share.
_X_GAP = {"ticks": "outside", "ticklen": 8, "tickcolor": "rgba(0,0,0,0)"}


def _token_axis(tokens: Sequence[str]) -> dict:
    return {"tickmode": "array", "tickvals": list(range(len(tokens))), "ticktext": [label(x) for x in tokens],
            "tickangle": -45}


def jacobian_figure(reports: Mapping[str, dict], which: str = "long", lang: str = "en") -> go.Figure:
    """‖∂h_T/∂h_t‖₂ against the distance from the end, per cell: trained solid, untrained dotted, log y.
    `reports` maps a cell to sentence_jacobians' output; `which` is "short" (the sentence) or "long"."""
    fig = go.Figure()
    n, ys = 0, [[1.0]]
    for cell, r in reports.items():
        name, n = CELL_NAMES.get(cell, cell), r[f"n_{which}"]
        for state, dash in (("trained", "solid"), ("untrained", "dot")):
            curve = r[state][which]
            ys.append(_positive(curve["norms"]))
            fig.add_trace(go.Scatter(x=np.asarray(curve["distance"]).tolist(), y=ys[-1],
                                     mode="lines", name=t(f"lab_{state}", lang, cell=name),
                                     line={"color": CELL_COLORS.get(cell), "dash": dash}))
    fig.add_hline(y=1, line_dash="dash", line_width=1, line_color=palette.GUIDE)
    words = t("lab_words", lang, n=n)
    fig.update_layout(**_LAYOUT, title=t("fx_grad_title", lang, words=words),
                      xaxis_title=t("fx_steps_before_end", lang), yaxis_title=t("lab_jac_y", lang),
                      separators=plotly_separators(lang))
    fig.update_xaxes(**_X_GAP)
    fig.update_yaxes(**_log_axis(*ys))
    return fig


def step_factor_figure(report: dict, tokens: Sequence[str], lang: str = "en") -> go.Figure:
    """‖∂h_k/∂h_(k-1)‖₂ after each word k = 2..T of the sentence (sentence_jacobians' "factors"), trained and
    untrained side by side, with the line at 1 that separates shrinking from stretching."""
    name = CELL_NAMES.get(report["cell"], report["cell"])
    fig = go.Figure()
    for state, opacity in (("trained", 1.0), ("untrained", 0.45)):
        f = report[state]["factors"]
        # factor k is the step into word k+2, whose label sits at tick k (tokens = the words from the second on)
        fig.add_trace(go.Bar(x=list(range(len(f))), y=_finite(f), name=t(f"lab_{state}", lang, cell=name),
                             opacity=opacity, marker={"color": CELL_COLORS.get(report["cell"])}))
    fig.add_hline(y=1, line_dash="dash", line_width=1, line_color=palette.GUIDE)
    fig.update_layout(**_LAYOUT, barmode="group", title=t("lab_factors_title", lang, cell=name),
                      xaxis=_token_axis(tokens), yaxis_title=t("lab_factors_y", lang),
                      separators=plotly_separators(lang))
    fig.update_xaxes(**_X_GAP)
    return fig


def long_range_accuracy_figure(sweep: dict, lang: str = "en") -> go.Figure:
    """Test accuracy against the distance the first token must be remembered, one line per cell; chance = 0.5."""
    fig = go.Figure()
    for cell in sweep["cells"]:
        acc = sweep["accuracy"][cell]
        fig.add_trace(go.Scatter(x=list(sweep["lengths"][:len(acc)]), y=_finite(acc), mode="lines+markers",
                                 name=CELL_NAMES.get(cell, cell), line={"color": CELL_COLORS.get(cell)}))
    fig.add_hline(y=0.5, line_dash="dot", line_color=palette.GUIDE, annotation_text=t("fx_chance", lang))
    fig.update_layout(**_LAYOUT, title=t("fx_long_title", lang), xaxis_title=t("fx_long_x", lang),
                      yaxis_title=t("fx_test_accuracy", lang), separators=plotly_separators(lang))
    fig.update_xaxes(type="log", tickvals=list(sweep["lengths"]))
    fig.update_yaxes(range=[0.4, 1.02])
    return fig


def long_range_gradient_figure(sweep: dict, length: int | None = None, when: str = "init",
                               lang: str = "en") -> go.Figure:
    """Mean ‖∂h_T/∂h_t‖₂ against the distance from the end for one sequence length (default: the longest), one line
    per cell (averaged over the sweep's seeds), log y. `when` is "init" (before training: the cause) or "end"."""
    length = length or max(sweep["lengths"])
    key = {"init": "jac_init", "end": "jac_end"}[when]
    fig, ys = go.Figure(), []
    for cell in sweep["cells"]:
        runs = [r for r in sweep["runs"] if r["cell"] == cell and r["length"] == length]
        if runs:
            ys.append(_positive(np.mean([r[key] for r in runs], axis=0)))
            fig.add_trace(go.Scatter(x=np.asarray(runs[0]["distance"]).tolist(), mode="lines", y=ys[-1],
                                     name=CELL_NAMES.get(cell, cell), line={"color": CELL_COLORS.get(cell)}))
    fig.update_layout(**_LAYOUT, title=t(f"fx_long_grad_{when}", lang, length=length),
                      xaxis_title=t("fx_steps_before_end", lang), yaxis_title=t("fx_mean_grad", lang),
                      separators=plotly_separators(lang))
    fig.update_xaxes(**_X_GAP)
    fig.update_yaxes(**_log_axis(*ys))
    return fig


def exploding_figure(runs: Sequence[dict], lang: str = "en") -> go.Figure:
    """Per training step, side by side, one colour per run, log y: the loss; the gradient norm before clipping
    (dotted) and the norm of the gradient the update used (solid); ‖W_hh‖₂. A run that diverged is marked with an
    ✕ at its last finite step."""
    panels = [("loss", t("fx_train_loss", lang)), ("grad_norm", t("fx_grad_norm", lang)),
              ("w_hh_norm", t("fx_whh", lang))]
    fig = make_subplots(rows=1, cols=len(panels), subplot_titles=[title for _, title in panels])
    series, ys = palette.SERIES, {col: [] for col in range(1, len(panels) + 1)}
    for i, r in enumerate(runs):
        name = t("fx_run_name", lang, scale=r["init_scale"], clip=(t("fx_clip", lang, clip=r["clip"]) if r["clip"]
                                                                     else t("fx_no_clip", lang)))
        color = series[i % len(series)]
        lines = [(1, "loss", name, "solid", True), (2, "grad_norm", t("lab_raw", lang, name=name), "dot", True),
                 (2, "used_norm", name, "solid", False), (3, "w_hh_norm", name, "solid", False)]
        for col, key, label_, dash, legend in lines:
            y = _positive(r[key])
            ys[col].append(y)
            fig.add_trace(go.Scatter(x=list(range(1, len(y) + 1)), y=y, mode="lines", name=label_, legendgroup=name,
                                     showlegend=legend, line={"color": color, "dash": dash}), row=1, col=col)
            if r.get("diverged_at") and key != "used_norm":
                last = max((k for k, v in enumerate(y) if v is not None), default=None)
                if last is not None:
                    fig.add_trace(go.Scatter(x=[last + 1], y=[y[last]], mode="markers", legendgroup=name,
                                             showlegend=False, marker={"symbol": "x", "size": 12, "color": color},
                                             hovertext=t("fx_diverged", lang, step=r["diverged_at"])), row=1, col=col)
    # The legend goes under the panels: three of them leave no room on the right.
    fig.update_layout(**{**_LAYOUT, "margin": {**_LAYOUT["margin"], "t": 80}}, title=t("fx_explode_title", lang),
                      height=480, separators=plotly_separators(lang),
                      legend={"orientation": "h", "yanchor": "top", "y": -0.2, "xanchor": "left", "x": 0})
    fig.update_xaxes(title_text=t("fx_step", lang), **_X_GAP)
    for col, panel in ys.items():
        fig.update_yaxes(**_log_axis(*panel), row=1, col=col)
    return fig


def _weights(result: dict) -> np.ndarray:
    return np.asarray(result["attributions"] if "attributions" in result else result["drop"], dtype=float)


def word_importance_figure(result: dict, title: str | None = None, lang: str = "en") -> go.Figure:
    """Bars of per-token importance (word_importance or occlusion output) with the sentence's tokens on the x axis,
    coloured on a diverging scale centred at 0 (blue = towards positive, red = towards negative)."""
    w = _weights(result)
    tokens = result["tokens"] if result.get("tokens") is not None else [str(i) for i in result["ids"]]
    lim = float(np.abs(w).max()) or 1.0
    fig = go.Figure(go.Bar(x=list(range(len(w))), y=_finite(w), hovertext=[label(x) for x in tokens], marker={
        "color": _finite(w), "colorscale": DIVERGING, "cmin": -lim, "cmax": lim, "cmid": 0}))
    if "attributions" in result:
        what = f"Integrated Gradients ({result['target']})"
        note = f"Σ = {w.sum():.3f}, f(x) − f(baseline) = {result['f_x'] - result['f_baseline']:.3f}"
    else:
        what, note = f"Occlusion ({result['replace_with']}, {result['target']})", f"f(x) = {result['f_x']:.3f}"
    fig.update_layout(**_LAYOUT, title=title or f"{what} ({note})", xaxis=_token_axis(tokens),
                      yaxis_title=t("fx_contribution", lang), showlegend=False, separators=plotly_separators(lang))
    return fig


def word_chips(result: dict) -> list[tuple[str, float]]:
    """(token, weight in [-1, 1]) per token, scaled by the largest |importance|, for colour chips. Tokens are
    returned as plain text: the page escapes them; nothing here builds HTML."""
    w = _weights(result)
    lim = float(np.abs(w).max())
    scaled = w / lim if lim > 0 else np.zeros_like(w)
    tokens = result["tokens"] if result.get("tokens") is not None else [str(i) for i in result["ids"]]
    return [(str(t), float(v)) for t, v in zip(tokens, scaled)]


def memory_path_figure(paths: Sequence[dict], pca: dict | None = None, names: Sequence[str] | None = None,
                       lang: str = "en") -> go.Figure:
    """Several sentences' paths in the PCA plane (memory_path output), one line per sentence with token labels;
    markers coloured by P(positive) after that token on one shared 0..1 scale."""
    fig = go.Figure()
    for i, path in enumerate(paths):
        xy = np.asarray(path["xy"])
        name = label(names[i]) if names is not None else f"{t('fx_sentence', lang)} {i + 1}"
        fig.add_trace(go.Scatter(
            x=_finite(xy[:, 0]), y=_finite(xy[:, 1]), mode="lines+markers+text", name=name,
            text=[label(x) for x in path["tokens"]], textposition="top center", line={"width": 1},
            marker={"size": 10, "color": _finite(path["prefix_p"], 4), "colorscale": DIVERGING, "cmin": 0,
                    "cmax": 1, "showscale": i == 0, "colorbar": {"title": {"text": "P(+)"}},
                    "line": {"width": 1, "color": palette.INK}},
            customdata=_finite(path["prefix_p"], 4), hovertemplate="%{text}<br>P(+) = %{customdata:.3f}"))
    labels = [t("fx_pc_bare", lang, k=k) for k in (1, 2)]
    if pca is not None:
        ratio = np.asarray(pca["explained_variance_ratio"])
        labels = [t("fx_pc", lang, k=k + 1, share=float(ratio[k])) for k in range(2)]
    # The legend (one entry per sentence) goes under the plot: on the right it would sit on the colour bar.
    fig.update_layout(**{**_LAYOUT, "margin": {**_LAYOUT["margin"], "b": 60 + 22 * len(paths)}},
                      title=t("fx_path_title", lang), xaxis_title=labels[0], yaxis_title=labels[1],
                      separators=plotly_separators(lang),
                      legend={"orientation": "h", "yanchor": "top", "y": -0.15, "xanchor": "left", "x": 0})
    return fig


def neuron_activation_figure(act: dict, title: str | None = None, lang: str = "en") -> go.Figure:
    """One unit's value after each token (unit_activation output) as bars with the tokens as labels."""
    v = np.asarray(act["values"], dtype=float)
    lim = float(np.abs(v).max()) or 1.0
    fig = go.Figure(go.Bar(x=list(range(len(v))), y=_finite(v), hovertext=[label(x) for x in act["tokens"]],
                           marker={"color": _finite(v), "colorscale": DIVERGING, "cmin": -lim, "cmax": lim}))
    fig.update_layout(**_LAYOUT, title=title or t("fx_unit_title", lang, unit=act["unit"], state=act["state"]),
                      xaxis=_token_axis(act["tokens"]), yaxis_title=t("fig_activation", lang), showlegend=False,
                      separators=plotly_separators(lang))
    return fig
