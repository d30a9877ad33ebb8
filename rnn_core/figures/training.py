"""Figures of a training run: loss and accuracy per epoch (train and validation), and the confusion matrix."""
from __future__ import annotations

from ..i18n import plotly_separators, t
from . import palette


def training_curves(epochs: list[dict], lang: str = "en") -> dict:
    """Two panels side by side: loss and accuracy per epoch, train (solid) and validation (dashed)."""
    x = [e["epoch"] for e in epochs]
    data = []
    for key, axis, title in (("loss", "1", t("fig_loss", lang)), ("accuracy", "2", t("fig_accuracy", lang))):
        for split, dash, color in (("train", "solid", palette.NEUTRAL), ("val", "dash", palette.SERIES[4])):
            data.append({"type": "scatter", "x": x, "y": [round(e[f"{split}_{key}"], 4) for e in epochs],
                         "name": f"{t('fig_' + split, lang)} · {title}", "mode": "lines+markers",
                         "line": {"dash": dash, "color": color}, "xaxis": f"x{axis if axis != '1' else ''}",
                         "yaxis": f"y{axis if axis != '1' else ''}"})
    layout = {"height": 300, "margin": {"l": 50, "r": 20, "t": 40, "b": 40},
              "xaxis": {"domain": [0, 0.45], "title": {"text": t("fig_epoch", lang)}, "dtick": 1},
              "xaxis2": {"domain": [0.55, 1], "title": {"text": t("fig_epoch", lang)}, "dtick": 1, "anchor": "y2"},
              "yaxis": {"title": {"text": t("fig_loss", lang)}},
              "yaxis2": {"title": {"text": t("fig_accuracy", lang)}, "anchor": "x2", "range": [0, 1]},
              "legend": {"orientation": "h", "y": 1.18}, "separators": plotly_separators(lang)}
    return {"data": data, "layout": layout}


def confusion_matrix(conf: dict, lang: str = "en") -> dict:
    """2×2 counts, rows = true class, columns = predicted class; light = few, dark = many."""
    neg, pos = t("negative", lang), t("positive", lang)
    z = [[conf["tn"], conf["fp"]], [conf["fn"], conf["tp"]]]
    return {"data": [{"type": "heatmap", "z": z, "x": [neg, pos], "y": [neg, pos], "colorscale": palette.SEQUENTIAL,
                      "showscale": False, "text": [[str(v) for v in row] for row in z], "texttemplate": "%{text}",
                      "hovertemplate": "%{y} → %{x}: %{z}<extra></extra>"}],
            "layout": {"height": 280, "width": 340, "margin": {"l": 90, "r": 10, "t": 30, "b": 60},
                       "xaxis": {"title": {"text": t("fig_predicted", lang)}},
                       "yaxis": {"title": {"text": t("fig_true", lang)}, "autorange": "reversed"},
                       "separators": plotly_separators(lang)}}
