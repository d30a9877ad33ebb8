"""One visual language: every colour and colour scale in every figure comes from rnn_core/figures/palette.py."""
import json

import numpy as np
import torch

from rnn_core import lesson
from rnn_core.explain.attribution import word_importance
from rnn_core.explain.diff import trace_diff
from rnn_core.explain.gradients import sentence_jacobians, step_gradient_norms
from rnn_core.explain.memory_path import fit_pca, memory_path
from rnn_core.explain.neurons import unit_activation
from rnn_core.explain.readout import contributions, unit_order
from rnn_core.figures import inside, palette, training
from rnn_core.figures import lesson as lesson_figs
from rnn_core.figures import memory as memory_figs
from rnn_core.model import CELLS, SentimentRNN
from rnn_core.safe_html import weighted_chips
from rnn_core.text import Vocab
from rnn_core.trace import trace

VOCAB = Vocab(["<pad>", "<unk>", "the", "movie", "was", "not", "good"])
COLOUR_KEYS = {"color", "fillcolor", "bgcolor", "bordercolor", "linecolor", "gridcolor"}
SCALE_KEYS = {"colorscale"}


def walk(node, path=""):
    """Yield (path, key, value) for every colour-like entry of a figure's JSON (the template is plotly's own)."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "template":
                continue
            if k in COLOUR_KEYS | SCALE_KEYS:
                yield f"{path}.{k}", k, v
            else:
                yield from walk(v, f"{path}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from walk(v, f"{path}[{i}]")


def as_json(fig) -> dict:
    return fig if isinstance(fig, dict) else json.loads(fig.to_json())


def check(fig):
    allowed = {c.lower() for c in palette.COLORS}
    scales = [json.loads(json.dumps(s)) for s in palette.SCALES]
    seen = 0
    for path, key, value in walk(as_json(fig)):
        seen += 1
        if key == "colorscale":
            assert value in scales, f"{path}: colour scale not from the palette: {value}"
        elif isinstance(value, str):
            assert value.lower() in allowed, f"{path}: colour {value!r} not from the palette"
        elif isinstance(value, list) and value and isinstance(value[0], str):
            bad = {v for v in value if v.lower() not in allowed}
            assert not bad, f"{path}: colours {bad} not from the palette"
        # numbers (values mapped through a colour scale) are fine
    assert seen, "the figure has no colour at all: is the walker looking at the right keys?"


def model(cell, seed=0):
    torch.manual_seed(seed)
    return SentimentRNN(len(VOCAB), cell, 6, 8).eval()


def test_every_figure_uses_the_palette():
    figs = []
    for cell in CELLS:
        m = model(cell)
        tr = trace(m, VOCAB, "the movie was not good")
        other = trace(m, VOCAB, "the movie was good")
        figs += [memory_figs.memory_animation(tr), memory_figs.memory_animation(tr, order=unit_order(m), highlight=2),
                 memory_figs.state_heatmap(tr), lesson_figs.embedding_figure(tr, highlight=1),
                 lesson_figs.step_figure(lesson.step(m, tr, 1, 0)),
                 lesson_figs.readout_figure(contributions(m, tr)["contrib"][-1], unit_order(m)),
                 lesson_figs.diff_figure(trace_diff(tr, other), ("a", "b"), highlight=1),
                 memory_figs.memory_animation(tr, order=unit_order(m), highlight=1, unit=3, current=1),
                 lesson_figs.contribution_heatmap(tr, contributions(m, tr)["contrib"], unit_order(m), highlight=1,
                                                  unit=3),
                 lesson_figs.unit_figure(tr, 3, highlight=1)]
        if tr.gates:
            figs += [memory_figs.gates_animation(tr), lesson_figs.gate_lines_figure(tr, lesson.gate_summary(tr))]
    traces = {c: trace(model(c), VOCAB, "the movie was good") for c in CELLS}
    figs.append(memory_figs.compare_curves(traces))
    norms = {c: step_gradient_norms(model(c), [2, 3, 4, 6], objective="logit") for c in CELLS}
    figs.append(lesson_figs.gradient_figure(norms, ["the", "movie", "was", "good"]))
    m = model("lstm")
    tr = trace(m, VOCAB, "the movie was not good")
    figs.append(inside.word_importance_figure(word_importance(m, tr.ids, tr.tokens, n_steps=8)))
    pca = fit_pca(np.random.default_rng(0).normal(size=(40, 8)))
    figs.append(inside.memory_path_figure([memory_path(tr, pca)], pca))
    figs.append(inside.neuron_activation_figure(unit_activation(tr, 0)))
    from tests.test_figures_inside import _fake_sweep

    reports = {c: sentence_jacobians(model(c), [2, 3, 4, 5, 6], long_len=6) for c in CELLS}
    figs += [inside.jacobian_figure(reports, "short"), inside.step_factor_figure(reports["gru"], ["a", "b", "c", "d"]),
             inside.long_range_accuracy_figure(_fake_sweep()), inside.long_range_gradient_figure(_fake_sweep(), 5)]
    run = {"init_scale": 5.0, "clip": None, "loss": np.array([0.7, 3.0]), "grad_norm": np.array([1.0, 1e6]),
           "used_norm": np.array([1.0, 1e6]), "w_hh_norm": np.array([5.0, 6.0]), "diverged_at": None}
    figs.append(inside.exploding_figure([run, dict(run, clip=1.0)]))
    epochs = [{"epoch": 1, "train_loss": 0.7, "val_loss": 0.69, "train_accuracy": 0.5, "val_accuracy": 0.52}]
    figs += [training.training_curves(epochs), training.confusion_matrix({"tn": 5, "fp": 1, "fn": 2, "tp": 4})]
    for fig in figs:
        check(fig)


def test_sentiment_has_one_colour_everywhere():
    assert palette.sentiment_color(0.9) == palette.POSITIVE and palette.sentiment_color(0.1) == palette.NEGATIVE
    # the diverging scale's positive end is blue (the POSITIVE hue), its negative end orange
    assert palette.DIVERGING[-1][1] == "rgb(5,48,97)" and palette.DIVERGING[0][1] == "rgb(127,59,8)"
    assert palette.DIVERGING[5] == [0.5, "rgb(247,247,247)"]  # white at zero, not grey (grey is the unread mask)
    html = weighted_chips(["good", "bad"], [0.5, -0.5])
    assert "rgba(0,114,178," in html and "rgba(213,94,0," in html  # POSITIVE and NEGATIVE
    dark = palette.SEQUENTIAL[-1][1]
    assert training.confusion_matrix({"tn": 5, "fp": 1, "fn": 2, "tp": 4})["data"][0]["colorscale"][-1][1] == dark
