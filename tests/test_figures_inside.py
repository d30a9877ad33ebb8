"""Figures of the "look inside" pages, read through their JSON as the browser would get it."""
import json

import numpy as np
import torch

from rnn_core.explain.attribution import occlusion, word_importance
from rnn_core.explain.experiments import exploding_experiment
from rnn_core.explain.gradients import sentence_jacobians
from rnn_core.explain.memory_path import fit_pca, memory_path
from rnn_core.explain.neurons import unit_activation
from rnn_core.figures import inside
from rnn_core.model import CELLS, SentimentRNN
from rnn_core.text import Vocab
from rnn_core.trace import trace

VOCAB = Vocab(["<pad>", "<unk>", "the", "movie", "was", "not", "good", "<script>"])


def _json(fig) -> dict:
    return json.loads(fig.to_json())  # what the browser receives: NaN must not appear in it


def _model(cell, seed=0):
    torch.manual_seed(seed)
    return SentimentRNN(len(VOCAB), cell, 6, 8).eval()


def test_jacobian_figure_has_a_trained_and_an_untrained_line_per_cell():
    ids = [2, 3, 4, 5, 6, 2]
    reports = {c: sentence_jacobians(_model(c), ids, long_len=9) for c in CELLS}
    fig = _json(inside.jacobian_figure(reports, "short"))
    assert [t["name"] for t in fig["data"]] == [f"{c}, {s}" for c in ("RNN", "LSTM", "GRU")
                                                for s in ("trained", "untrained")]
    assert [t["line"]["dash"] for t in fig["data"][:2]] == ["solid", "dot"]
    assert fig["layout"]["yaxis"]["type"] == "log" and fig["data"][0]["x"] == [5, 4, 3, 2, 1, 0]
    np.testing.assert_allclose(fig["data"][2]["y"], reports["lstm"]["trained"]["short"]["norms"], rtol=1e-5)
    # the log axis spans whole decades that hold every curve (and the line at 1), labelled once per decade or few
    ys = [v for tr in fig["data"] for v in tr["y"] if v] + [1.0]
    lo, hi = fig["layout"]["yaxis"]["range"]
    assert lo == int(lo) and hi == int(hi) and 10 ** lo <= min(ys) and max(ys) <= 10 ** hi
    assert (hi - lo) / fig["layout"]["yaxis"]["dtick"] <= 5
    long = _json(inside.jacobian_figure(reports, "long", lang="ru"))
    assert len(long["data"][5]["x"]) == 9 and long["layout"]["title"]["text"].endswith("9 слов")
    np.testing.assert_allclose(long["data"][5]["y"], reports["gru"]["untrained"]["long"]["norms"], rtol=1e-5)


def test_step_factor_figure_draws_one_bar_per_step_back():
    r = sentence_jacobians(_model("gru"), [2, 3, 4, 5], long_len=4)
    fig = _json(inside.step_factor_figure(r, ["movie", "was", "not"]))
    assert [t["type"] for t in fig["data"]] == ["bar", "bar"]
    # each bar stands over the word it steps into (it once sat one label to the right of it)
    assert fig["data"][0]["x"] == fig["layout"]["xaxis"]["tickvals"] == [0, 1, 2]
    assert fig["layout"]["xaxis"]["ticktext"] == ["movie", "was", "not"]
    np.testing.assert_allclose(fig["data"][1]["y"], r["untrained"]["factors"], rtol=1e-5)
    assert "GRU" in fig["layout"]["title"]["text"]


def _fake_sweep():
    lengths = [5, 10, 20]
    runs = [{"cell": c, "length": n, "distance": np.arange(n), "jac_init": np.exp(-np.arange(n)),
             "jac_end": np.r_[0.0, np.ones(n - 1)]} for c in CELLS for n in lengths]
    return {"cells": list(CELLS), "lengths": lengths, "runs": runs,
            "accuracy": {"rnn": [1.0, 0.9, 0.5], "lstm": [1.0, 1.0, 1.0], "gru": [1.0, 1.0]}}


def test_long_range_figures():
    fig = _json(inside.long_range_accuracy_figure(_fake_sweep()))
    assert len(fig["data"]) == 3 and fig["data"][0]["y"] == [1.0, 0.9, 0.5]
    assert fig["data"][2]["x"] == [5, 10]  # a sweep stopped early draws what it has
    assert fig["layout"]["xaxis"]["type"] == "log"
    two_seeds = _fake_sweep()
    two_seeds["runs"] += [dict(r, jac_init=3 * r["jac_init"]) for r in two_seeds["runs"]]
    g2 = _json(inside.long_range_gradient_figure(two_seeds, length=5))
    assert len(g2["data"]) == 3  # seeds are averaged into one line per cell
    np.testing.assert_allclose(g2["data"][0]["y"], 2 * np.exp(-np.arange(5)), rtol=1e-5)
    g = _json(inside.long_range_gradient_figure(_fake_sweep(), length=10))
    assert len(g["data"]) == 3 and len(g["data"][0]["x"]) == 10 and g["layout"]["yaxis"]["type"] == "log"
    end = _json(inside.long_range_gradient_figure(_fake_sweep(), when="end"))
    assert end["data"][0]["y"][0] is None and len(end["data"][0]["x"]) == 20  # a zero on a log axis is a gap


def test_exploding_figure_turns_non_finite_values_into_gaps():
    free = {"init_scale": 5.0, "clip": None, "loss": np.array([0.7, 3.0, np.inf]),
            "grad_norm": np.array([1.0, 1e6, np.nan]), "used_norm": np.array([1.0, 1e6, np.nan]),
            "w_hh_norm": np.array([5.0, 6.0, 9.0]), "diverged_at": 3}
    clipped = {"init_scale": 5.0, "clip": 1.0, "loss": np.array([0.7, 0.6, 0.5]),
               "grad_norm": np.array([1.0, 1e6, 2.0]), "used_norm": np.array([1.0, 1.0, 1.0]),
               "w_hh_norm": np.array([5.0, 5.1, 5.2]), "diverged_at": None}
    fig = _json(inside.exploding_figure([free, clipped]))
    lines = [t for t in fig["data"] if t["mode"] == "lines"]
    markers = [t for t in fig["data"] if t["mode"] == "markers"]
    assert len(lines) == 8 and len(markers) == 3  # 4 lines per run; an ✕ on loss, raw norm and W_hh when diverged
    assert lines[0]["y"] == [0.7, 3.0, None] and markers[0]["x"] == [2]
    assert lines[1]["line"]["dash"] == "dot" and lines[2]["line"]["dash"] == "solid"  # raw vs used by the update
    assert {fig["layout"]["yaxis" + k]["type"] for k in ("", "2", "3")} == {"log"}
    assert "NaN" not in json.dumps(fig) and "Infinity" not in json.dumps(fig)


def test_exploding_figure_of_real_runs():
    runs = [exploding_experiment(clip=c, steps=4, length=6) for c in (None, 0.25)]
    fig = _json(inside.exploding_figure(runs))
    assert len(fig["data"]) == 8 and fig["layout"]["yaxis3"]["type"] == "log"
    assert [t["name"] for t in fig["data"][::4]] == ["scale 8, no clipping", "scale 8, clip 0.25"]
    np.testing.assert_allclose(fig["data"][1]["y"], runs[0]["grad_norm"], rtol=1e-5)
    np.testing.assert_allclose(fig["data"][6]["y"], runs[1]["used_norm"], rtol=1e-5)
    assert max(fig["data"][6]["y"]) <= 0.25 * (1 + 1e-5)


def test_word_importance_figure_keeps_every_token_in_order():
    tr = trace(_model("gru"), VOCAB, "the movie was not good , the <script>")
    r = word_importance(_model("gru"), tr.ids, tr.tokens, n_steps=16)
    fig = _json(inside.word_importance_figure(r))
    bar = fig["data"][0]
    # the repeated "the" keeps both bars; "<" and ">" are escaped for Plotly's label markup
    assert fig["layout"]["xaxis"]["ticktext"] == [x.replace("<", "&lt;").replace(">", "&gt;") for x in tr.tokens]
    assert bar["x"] == list(range(len(tr.tokens)))
    np.testing.assert_allclose(bar["y"], r["attributions"], rtol=1e-5, atol=1e-9)
    assert bar["marker"]["cmin"] == -bar["marker"]["cmax"]  # diverging scale centred on zero
    occ = _json(inside.word_importance_figure(occlusion(_model("gru"), tr.ids, tr.tokens)))
    assert "Occlusion" in occ["layout"]["title"]["text"]


def test_word_chips_are_plain_tokens_with_weights_in_minus_one_to_one():
    r = {"tokens": ["<b>good</b>", "bad", "the"], "attributions": np.array([2.0, -4.0, 0.0]), "ids": [7, 8, 2]}
    chips = inside.word_chips(r)
    assert chips == [("<b>good</b>", 0.5), ("bad", -1.0), ("the", 0.0)]  # text untouched: the page escapes it
    zero = inside.word_chips({"tokens": ["a"], "attributions": np.zeros(1), "ids": [2]})
    assert zero == [("a", 0.0)]


def test_memory_path_figure_overlays_sentences_with_token_labels():
    m = _model("lstm")
    traces = [trace(m, VOCAB, s) for s in ("the movie was good", "the movie was not good")]
    pca = fit_pca(np.concatenate([t.h for t in traces]))
    paths = [memory_path(t, pca) for t in traces]
    fig = _json(inside.memory_path_figure(paths, pca, names=["a", "b"]))
    assert len(fig["data"]) == 2 and [t["name"] for t in fig["data"]] == ["a", "b"]
    for t, tr, path in zip(fig["data"], traces, paths):
        assert t["text"] == list(tr.tokens)
        np.testing.assert_allclose(t["marker"]["color"], tr.prefix_p, atol=1e-4)
        np.testing.assert_allclose(t["x"], path["xy"][:, 0], rtol=1e-5, atol=1e-9)
        assert (t["marker"]["cmin"], t["marker"]["cmax"]) == (0, 1)
    assert [t["marker"]["showscale"] for t in fig["data"]] == [True, False]  # one colour bar for all
    assert fig["layout"]["legend"]["orientation"] == "h" and fig["layout"]["legend"]["y"] < 0  # not on the colour bar
    assert "% of variance" in fig["layout"]["xaxis"]["title"]["text"]


def test_neuron_activation_figure():
    tr = trace(_model("rnn"), VOCAB, "not good , not bad")
    act = unit_activation(tr, 2)
    fig = _json(inside.neuron_activation_figure(act))
    assert fig["layout"]["xaxis"]["ticktext"] == list(tr.tokens)
    np.testing.assert_allclose(fig["data"][0]["y"], tr.h[:, 2], rtol=1e-5, atol=1e-9)
    assert "Unit 2" in fig["layout"]["title"]["text"]
