"""Linked views: a chosen word and unit reach every chart of the page and the other pages (app_pages/linked.py).
The browser half (a real click on a heatmap column) is tests/test_browser_linked.py."""
import json

import numpy as np
import pytest
import torch

from app_pages.linked import choice
from rnn_core.explain.readout import contributions, unit_order
from rnn_core.figures.lesson import contribution_heatmap, unit_figure
from rnn_core.figures.memory import gates_animation, heatmap_rows, memory_animation
from rnn_core.model import SentimentRNN
from rnn_core.text import Vocab
from rnn_core.trace import trace

VOCAB = Vocab(["<pad>", "<unk>"] + [f"w{i}" for i in range(20)])


def _trace(cell="lstm", n=6):
    torch.manual_seed(0)
    m = SentimentRNN(len(VOCAB), cell, 8, 16).eval()
    return m, trace(m, VOCAB, " ".join(f"w{i}" for i in range(n)))


# --- what a click means ----------------------------------------------------------------------------------------------

def test_a_heatmap_click_names_the_word_and_the_unit_drawn_in_that_row():
    rows = heatmap_rows(16, np.arange(16)[::-1])  # order 15..0 → row r shows unit r
    assert choice({"x": 2, "y": 5, "kind": "heatmap"}, 6, rows) == (2, 5)
    rows = heatmap_rows(16, [3, 1, 2] + list(range(4, 16)) + [0])  # the first of the order is drawn on top
    assert choice({"x": 0, "y": 15, "kind": "heatmap"}, 6, rows) == (0, 3)
    assert choice({"x": 1.2, "y": 0.4, "kind": "heatmap"}, 6, rows) == (1, 0)


@pytest.mark.parametrize("ev, expected", [
    ({"x": 3, "y": 0.71, "kind": "scatter"}, (3, None)),  # a point of the P(+) curve: a word, no unit
    ({"x": 9, "y": 2, "kind": "heatmap"}, (None, 2)),  # x past the last word
    ({"x": -1, "y": 99, "kind": "heatmap"}, (None, None)),
    ({"x": "2", "y": None, "kind": "heatmap"}, (None, None)),  # malformed: ignored, never an error
    ({"x": True, "y": float("nan"), "kind": "heatmap"}, (None, None)),
    (None, (None, None)),
    ("click", (None, None)),
])
def test_other_clicks_mean_less_or_nothing(ev, expected):
    assert choice(ev, 6, np.arange(16)) == expected


# --- the figures show the choice -------------------------------------------------------------------------------------

def _rects(fig):
    return [s for s in fig["layout"]["shapes"] if s["type"] == "rect"]


def test_memory_animation_frames_the_word_outlines_the_unit_and_starts_at_the_word():
    m, tr = _trace()
    order = unit_order(m)
    rows = heatmap_rows(16, order)
    fig = json.loads(json.dumps(memory_animation(tr, order=order, highlight=2, unit=int(order[0]), current=2)))
    (word,) = [r for r in _rects(fig) if r["xref"] == "x"]
    units = [r for r in _rects(fig) if r["xref"] == "paper"]
    assert (word["x0"], word["x1"]) == (1.5, 2.5)
    assert len(units) == 2 and all(u["y0"] == len(rows) - 1.5 for u in units)  # h and c panels, top row
    assert {u["yref"] for u in units} == {"y2", "y3"}
    assert fig["layout"]["sliders"][0]["active"] == 2
    masks = [d for d in fig["data"] if d.get("fill") == "toself"]
    assert all(d["x"][0] == 2.5 for d in masks)  # words after the chosen one are greyed out
    cursor = fig["data"][-1]
    assert cursor["x"] == [2] and cursor["y"] == [round(float(tr.prefix_p[2]), 4)]
    play = fig["layout"]["updatemenus"][0]["buttons"][0]["args"]
    assert play[0] == ["2", "3", "4", "5"] and play[1]["fromcurrent"]
    full = memory_animation(tr, order=order)  # nothing chosen: everything shown, ▶ plays from the start
    assert full["layout"]["sliders"][0]["active"] == 5
    assert len(full["layout"]["updatemenus"][0]["buttons"][0]["args"][0]) == 6


def test_gates_readout_and_unit_figures_show_the_same_choice():
    m, tr = _trace()
    order = unit_order(m)
    unit = int(order[4])
    gates = gates_animation(tr, order=order, highlight=3, unit=unit)
    assert len(_rects(gates)) == 1 + 4  # the word, and the unit in each of the four gate panels
    heat = contribution_heatmap(tr, contributions(m, tr)["contrib"], order, highlight=3, unit=unit)
    (word,) = [r for r in _rects(heat) if r["xref"] == "x"]
    (row,) = [r for r in _rects(heat) if r["xref"] == "paper"]
    assert word["x0"] == 2.5 and row["y0"] == int(np.flatnonzero(heatmap_rows(16, order) == unit)[0]) - 0.5
    z = np.asarray(heat["data"][0]["z"])
    np.testing.assert_allclose(z[int(row["y0"] + 0.5)], np.round(contributions(m, tr)["contrib"][:, unit], 4))
    fig = unit_figure(tr, unit, highlight=3)
    names = [d["name"] for d in fig["data"]]
    assert names == ["h_t[i]", "c_t[i]", "i_t[i]", "f_t[i]", "g_t[i]", "o_t[i]"]
    np.testing.assert_allclose(fig["data"][0]["y"], np.round(tr.h[:, unit], 4))
    np.testing.assert_allclose(fig["data"][3]["y"], np.round(tr.gates["forget"][:, unit], 4))
    assert fig["layout"]["shapes"][0]["x0"] == 2.5
    _, rnn = _trace("rnn")
    assert [d["name"] for d in unit_figure(rnn, 0)["data"]] == ["h_t[i]"]


# --- the pages -------------------------------------------------------------------------------------------------------

def _shapes(at, key):
    for c in at.get("plotly_chart"):
        spec = json.loads(c.proto.spec)
        if c.proto.id and key in c.proto.id:
            return spec
    raise AssertionError(f"no chart {key}")


def _word_rect(spec):
    return [s["x0"] + 0.5 for s in spec["layout"]["shapes"] if s["type"] == "rect" and s.get("xref") == "x"]


def test_step_buttons_move_the_word_in_every_chart_and_the_step_follows(app):
    at = app(text="good movie but boring plot")
    first = [_word_rect(_shapes(at, k)) for k in ("memory_chart", "readout_chart", "unit_chart")]
    assert all(len(f) == 1 for f in first) and len({f[0] for f in first}) == 1  # one word, in all three
    start = int(first[0][0])
    at.button(key="_focus_next_memory" if start < 4 else "_focus_prev_memory").click().run()
    moved = start + 1 if start < 4 else start - 1
    assert not at.exception
    for k in ("memory_chart", "readout_chart", "unit_chart"):
        assert _word_rect(_shapes(at, k)) == [moved]
    spec = _shapes(at, "memory_chart")
    assert spec["layout"]["sliders"][0]["active"] == moved  # the animation stops at the chosen word
    tokens = "good movie but boring plot".split()
    assert any(f"“{tokens[moved]}”" in e.label for e in at.expander)  # the step opened up is that word's


def test_the_followed_unit_reaches_the_gates_page_and_the_neuron_inspector(app):
    at = app(text="good movie but boring plot")
    tokens = tuple("good movie but boring plot".split())
    at.session_state["_focus"] = {"for": ("en-lstm", tokens), "word": 1, "unit": 7}
    at.run()
    assert any("Unit 7" in m.value for m in at.markdown)
    at.switch_page("app_pages/gates.py").run()
    assert not at.exception
    spec = _shapes(at, "gates_chart")
    assert _word_rect(spec) == [1]
    assert sum(s.get("xref") == "paper" and s["type"] == "rect" for s in spec["layout"]["shapes"]) == 4
    assert any("Unit 7" in m.value for m in at.markdown)
    at.switch_page("app_pages/neurons.py").run()
    assert at.number_input(key="neuron_unit").value == 7
    at.number_input(key="neuron_unit").set_value(9).run()  # chosen here: followed back on the main page
    at.switch_page("app_pages/memory.py").run()
    assert any("Unit 9" in m.value for m in at.markdown)


def test_a_new_sentence_resets_the_choice(app):
    at = app(text="good movie but boring plot")
    at.session_state["_focus"] = {"for": ("en-lstm", tuple("good movie but boring plot".split())), "word": 4,
                                  "unit": 7}
    at.text_area(key="text").input("fine film").run()
    assert not at.exception and at.session_state["_focus"]["word"] is None
    assert all(x < 2 for x in _word_rect(_shapes(at, "memory_chart")))
