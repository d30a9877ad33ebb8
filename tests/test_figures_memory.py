"""The memory figures, tested through their JSON: what the browser receives."""
import json

import pytest
import torch

from rnn_core.figures.memory import (
    compare_curves,
    gates_animation,
    memory_animation,
    raw_matrix_bytes,
    standalone_html,
    state_heatmap,
)
from rnn_core.model import SentimentRNN
from rnn_core.text import Vocab
from rnn_core.trace import trace

VOCAB = Vocab(["<pad>", "<unk>"] + [f"w{i}" for i in range(60)])


def _trace(cell, n=50, text=None):
    torch.manual_seed(0)
    return trace(SentimentRNN(len(VOCAB), cell).eval(), VOCAB, text or " ".join(f"w{i}" for i in range(n)))


def size(fig):
    return len(json.dumps(fig, separators=(",", ":")))


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_animation_sends_the_matrix_once(cell):
    tr = _trace(cell)
    fig = memory_animation(tr)
    assert len(fig["frames"]) == 50
    heatmaps = [d for d in fig["data"] if d["type"] == "heatmap"]
    assert len(heatmaps) == (2 if cell == "lstm" else 1)
    assert all(len(d["z"]) == 128 and len(d["z"][0]) == 50 for d in heatmaps)
    # frames carry no matrix: only a few numbers each
    assert all("z" not in d for f in fig["frames"] for d in f["data"])
    assert max(size(f) for f in fig["frames"]) < 250
    assert size(fig) <= 1.5 * raw_matrix_bytes(tr)


def test_payload_grows_linearly_with_length():
    small, big = size(memory_animation(_trace("gru", 10))), size(memory_animation(_trace("gru", 40)))
    assert big < 4.6 * small  # O(T·H): 4× the words costs about 4× the bytes, not 16×


def test_fixed_diverging_scale_and_labels():
    fig = memory_animation(_trace("lstm", text="w1 w2 w3"))
    lay = fig["layout"]
    assert (lay["coloraxis"]["cmin"], lay["coloraxis"]["cmax"]) == (-1.0, 1.0)
    scale = lay["coloraxis"]["colorscale"]
    assert scale[0] == [0.0, "rgb(127,59,8)"] and scale[5] == [0.5, "rgb(247,247,247)"]  # zero is white
    assert lay["coloraxis"]["colorbar"]["title"]["text"] == "h"
    assert lay["coloraxis2"]["cmin"] == -lay["coloraxis2"]["cmax"]  # c: symmetric, possibly wider
    assert lay["xaxis"]["ticktext"] == ["w1", "w2", "w3"]
    assert [s["label"] for s in lay["sliders"][0]["steps"]] == ["w1", "w2", "w3"]
    assert lay["updatemenus"][0]["buttons"][0]["args"][0] == ["0", "1", "2"]  # ▶ plays from the first word


def test_frame_t_masks_exactly_the_unread_words():
    fig = memory_animation(_trace("rnn", text="w1 w2 w3 w4"))
    masks = [d for d in fig["data"] if d.get("fill") == "toself"]
    frame = fig["frames"][1]  # after the second word
    assert frame["data"][0]["x"] == [1.5, 3.5, 3.5, 1.5]
    cursor = frame["data"][-1]
    assert cursor["x"] == [1] and len(masks) == len(frame["data"]) - 1


def test_long_sentences_thin_their_labels():
    fig = memory_animation(_trace("gru", 50))
    assert fig["layout"]["xaxis"]["tickvals"] == list(range(0, 50, 2))
    assert len(fig["layout"]["sliders"][0]["steps"]) == 50  # every word still has its slider step


def test_animation_redraws_so_heatmaps_stay_visible():
    fig = memory_animation(_trace("gru", 3))
    assert fig["layout"]["updatemenus"][0]["buttons"][0]["args"][1]["frame"]["redraw"] is True
    assert fig["layout"]["sliders"][0]["steps"][0]["args"][1]["frame"]["redraw"] is True


def test_labels_are_escaped_for_plotly():
    fig = memory_animation(_trace("rnn", text="< w1 & >"))
    assert fig["layout"]["xaxis"]["ticktext"] == ["&lt;", "w1", "&amp;", "&gt;"]


def test_gates_animation_has_one_panel_per_gate():
    lstm, gru = gates_animation(_trace("lstm", 5)), gates_animation(_trace("gru", 5))
    assert sum(d["type"] == "heatmap" for d in lstm["data"]) == 4
    assert sum(d["type"] == "heatmap" for d in gru["data"]) == 3
    assert lstm["layout"]["coloraxis"]["cmin"] == 0.0 and len(lstm["frames"]) == 5
    def bars(fig):
        return [v["colorbar"]["title"]["text"] for k, v in fig["layout"].items() if k.startswith("coloraxis")]
    assert bars(lstm) == ["i_t", "f_t", "g_t", "o_t"] and bars(gru) == ["r_t", "z_t", "n_t"]
    assert bars(gates_animation(_trace("gru", 5), "ru")) == bars(gru)  # symbols, not English words, in any UI


def test_compare_and_static_heatmap_and_html():
    trs = {c: _trace(c, 6) for c in ("rnn", "lstm", "gru")}
    cmp = compare_curves(trs)
    assert [d["name"] for d in cmp["data"]] == ["RNN", "LSTM", "GRU"] and len(cmp["data"][0]["y"]) == 6
    heat = state_heatmap(trs["gru"], title="GRU")
    assert heat["data"][0]["zmin"] == -1 and len(heat["data"][0]["z"]) == 128
    html = standalone_html(memory_animation(trs["gru"]))
    assert html.lower().startswith("<!doctype html>") and "Plotly.newPlot" in html
    assert "Plotly.addFrames" in html  # the animation survives in the standalone file
