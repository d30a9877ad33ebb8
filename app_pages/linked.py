"""Linked views: choose a word or a unit in one chart and every chart of the page shows it.

A click on a heatmap column (or on a point of a curve) chooses that word; a click on a heatmap row chooses that unit;
the ◀ ▶ buttons step through the words. The choice lives in the session (`_focus`), so the gates page and the neuron
inspector follow the same word and unit, and it is reset when the sentence or the model changes.

Plotly's own selection events (st.plotly_chart(on_select=...)) do not report a click on a heatmap cell, so a tiny
st.components.v2 component listens for plotly_click on the page's charts (found by their `st-key-<key>` class) and
sends {chart, x, y, kind} back as a one-shot trigger. Inside an st.fragment only that fragment reruns.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import streamlit as st

from rnn_core.i18n import format_number, t
from rnn_core.report import markdown_table
from rnn_core.safe_html import md_escape

_JS = """
export default function (component) {
  const { data, setTriggerValue } = component;
  const keys = (data && data.keys) || [];
  // Charts are (re)drawn by Streamlit at any time: bind each new one as soon as it appears in the page (a click
  // right after a rerun must not be lost), with a slow timer as a safety net.
  const bind = () => {
    for (const key of keys) {
      for (const plot of document.querySelectorAll(`.st-key-${key} .js-plotly-plot`)) {
        if (typeof plot.on !== "function" || plot.__rnnLensBound === plot._ev) continue;
        plot.__rnnLensBound = plot._ev;  // plotly replaces _ev when it purges a plot: then bind again
        plot.on("plotly_click", (ev) => {
          const pt = ev && ev.points && ev.points[0];
          if (!pt) return;
          setTriggerValue("click", { chart: key, x: pt.x, y: pt.y, kind: (pt.data && pt.data.type) || "" });
        });
      }
    }
  };
  bind();
  let queued = false;
  const soon = () => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => { queued = false; bind(); });
  };
  const watch = new MutationObserver(soon);
  watch.observe(document.body, { childList: true, subtree: true });
  const timer = setInterval(bind, 400);
  return () => { watch.disconnect(); clearInterval(timer); };
}
"""
_CLICKS = st.components.v2.component("rnn_lens_chart_clicks", js=_JS)


class Focus(NamedTuple):
    word: int  # the word shown everywhere (the student's choice, else the page's default)
    unit: int  # the unit followed everywhere
    chosen: bool  # the student chose the word (then the animation stops there)


def choice(ev, n_words: int, rows) -> tuple[int | None, int | None]:
    """(word, unit) meant by a click event: x is the word's column; on a heatmap, y is the row, which shows unit
    rows[y] (figures.memory.heatmap_rows). Anything else (a click off the data, a malformed event) means nothing."""
    if not isinstance(ev, dict):
        return None, None
    word = unit = None
    x, y = ev.get("x"), ev.get("y")
    if isinstance(x, int | float) and not isinstance(x, bool) and np.isfinite(x) and 0 <= round(x) < n_words:
        word = int(round(x))
    if ev.get("kind") == "heatmap" and isinstance(y, int | float) and not isinstance(y, bool) and np.isfinite(y):
        r = int(round(y))
        if 0 <= r < len(rows):
            unit = int(rows[r])
    return word, unit


def _state(tr, model_key: str) -> dict:
    """This session's focus, reset when the sentence or the model changes (a unit means nothing in another model,
    a word index nothing in another sentence)."""
    f = st.session_state.get("_focus")
    owner = (model_key, tuple(tr.tokens))
    if not f or f.get("for") != owner:
        f = st.session_state["_focus"] = {"for": owner, "word": None, "unit": None}
    return f


def focus(tr, model_key: str, charts: list[str], listener: str, rows, default_word: int, default_unit) -> Focus:
    """Listen for clicks on `charts` (whose heatmap row r shows unit rows[r]), apply one if it came, and return the
    word and unit to show. `default_unit` is a function of the word (e.g. the unit that moved the verdict most)."""
    f = _state(tr, model_key)
    ev = getattr(_CLICKS(key=listener, data={"keys": charts}, height=0, on_click_change=lambda: None), "click", None)
    word, unit = choice(ev, len(tr.tokens), rows)
    if word is not None:
        f["word"] = word
    if unit is not None:
        f["unit"] = unit
    w = default_word if f["word"] is None else f["word"]
    u = default_unit(w) if f["unit"] is None else f["unit"]
    return Focus(int(w), int(u), f["word"] is not None)


def followed_unit(tr, model_key: str) -> int | None:
    """The unit chosen on another page, if it was chosen for this sentence and model."""
    return _state(tr, model_key)["unit"]


def follow_unit(tr, model_key: str, unit: int) -> None:
    _state(tr, model_key)["unit"] = int(unit)


def _move(tr, model_key: str, word: int) -> None:
    _state(tr, model_key)["word"] = min(max(word, 0), len(tr.tokens) - 1)


def step_buttons(tr, model_key: str, word: int, ui: str, where: str) -> None:
    """◀ word ▶: one word back or on; every chart of the page follows."""
    # A horizontal container, not columns: columns stack on a phone, putting ◀ and ▶ a screen apart.
    row = st.container(horizontal=True, vertical_alignment="center", wrap=False)
    row.button("◀", key=f"_focus_prev_{where}", help=t("step_prev", ui), disabled=word == 0, on_click=_move,
               args=(tr, model_key, word - 1))
    row.button("▶", key=f"_focus_next_{where}", help=t("step_next", ui), disabled=word == len(tr.tokens) - 1,
               on_click=_move, args=(tr, model_key, word + 1))
    row.markdown(t("step_where", ui, t=word + 1, n=len(tr.tokens), token=md_escape(tr.tokens[word])))


def step_table(rows: list[dict], ui: str) -> str:
    """One step's arithmetic (rnn_core.lesson.step_rows) as a Markdown table with the UI's column names."""
    cols = [t(f"lesson_col_{k}", ui) for k in ("gate", "input", "bias", "memory", "sum", "value")]

    def num(v: float) -> str:  # signed, with the UI language's decimal sign («+0,560»)
        return ("+" if v >= 0 else "−") + format_number(abs(v), ".3f", ui)

    return markdown_table([{cols[0]: r["symbol"], cols[1]: num(r["input"]), cols[2]: num(r["input_bias"]),
                            cols[3]: num(r["memory"]), cols[4]: num(r["sum"]),
                            cols[5]: f"{r['activation']}(·) = {num(r['value'])}"} for r in rows])
