"""Layout pieces shared by the pages: the UI-language switch, the sentence controls, cached model loading.
State that should survive a shared link (text, language, cell, UI language) is bound to the URL's query params."""
from __future__ import annotations

import functools
import weakref
from dataclasses import dataclass
from typing import NamedTuple

import plotly.graph_objects as go
import streamlit as st

from app_pages import sessions
from rnn_core import Bundle, BundleError, InputError, Trace, detect_lang, examples, load_model
from rnn_core.bundle import models_dir
from rnn_core.i18n import LANGS, format_number, t
from rnn_core.lesson import STEPS as LESSON_STEPS
from rnn_core.model import CELL_NAMES, CELLS, serve_with_one_thread
from rnn_core.safe_html import md_escape
from rnn_core.trace import trace

serve_with_one_thread()  # once per process: this module is imported once and cached

__all__ = ["CELLS", "PageContext", "Selection", "accuracy_text", "chart", "current_ui", "example_chips",
           "get_analysis", "get_bundle", "get_trace", "lesson_step", "model_fragment", "model_name", "page_sentence",
           "restore_from_url", "sentence_controls", "session_models", "set_lesson_step", "sidebar_about", "t",
           "ui_language", "write_url"]


# The state a shared link reproduces, as it appears in the URL: ?text=...&lang=AUTO&cell=GRU&ui=RU. Its home is a
# plain session-state key "_<name>", copied from the URL on a session's first run and back to the URL on every run.
# Each widget is re-seeded from that home before it is drawn and writes back on change: a widget's own state does
# not survive a switch to a page that does not draw it (nor does bind="query-params"), hence this by hand.
# The text's home holds None while the user has not typed their own: the box then shows the default sentence of the
# UI language (it follows a UI switch), and a link without ?text= shows the default of its ?ui=.
URL_STATE = {"text": (None, None), "lang": ("AUTO", ("AUTO", "EN", "RU")),
             "cell": ("LSTM", tuple(CELL_NAMES.values())), "ui": ("EN", tuple(x.upper() for x in LANGS)),
             "step": ("1", tuple(str(k + 1) for k in range(len(LESSON_STEPS))))}  # the lesson's step
MAX_URL_TEXT = 1500  # longer texts stay out of the URL (browsers and servers cap URL length)


def restore_from_url() -> None:
    for key, (default, options) in URL_STATE.items():
        if "_" + key not in st.session_state:
            value = st.query_params.get(key)
            if value is not None and options is not None:
                value = value.upper() if value.upper() in options else None
            st.session_state["_" + key] = default if value is None else value


def _keep(key: str) -> None:
    value = st.session_state[key]
    if key == "text" and value in examples.DEFAULT_TEXT.values():
        value = None  # a default sentence stays "the default": it follows the UI language
    st.session_state["_" + key] = value


def _stateful(key: str) -> dict:
    """Widget arguments that tie the widget `key` to its home "_key" (see URL_STATE)."""
    value = st.session_state["_" + key]
    st.session_state[key] = examples.default_text(current_ui()) if key == "text" and value is None else value
    return {"key": key, "on_change": _keep, "args": (key,)}


def write_url() -> None:
    for key, (default, _) in URL_STATE.items():
        value = st.session_state.get("_" + key)
        keep = value is not None and value != default and (key != "text" or len(value) <= MAX_URL_TEXT)
        if not keep:
            st.query_params.pop(key, None)
        elif st.query_params.get(key) != value:
            st.query_params[key] = value


def ui_language() -> str:
    """The RU/EN switch at the top right of every page (not in the sidebar: a phone hides the sidebar); returns
    'en' or 'ru'."""
    _, right = st.columns([5, 1])
    choice = right.segmented_control("🌐", URL_STATE["ui"][1], required=True, label_visibility="collapsed",
                                     **_stateful("ui"))
    return (choice or "EN").lower()


def lesson_step() -> int:
    """The lesson's step from the URL state, 0-based."""
    return int(st.session_state.get("_step") or 1) - 1


def set_lesson_step(k: int) -> None:
    st.session_state["_step"] = str(min(max(k, 0), len(LESSON_STEPS) - 1) + 1)


def current_ui() -> str:
    return (st.session_state.get("_ui") or "EN").lower()


def sidebar_about(ui: str) -> None:
    st.sidebar.markdown(t("sidebar_about", ui))


@st.cache_resource(show_spinner=False, max_entries=32)
def _load(name: str, root: str):  # root is part of the key: tests and deployments may point elsewhere
    return load_model(name)


def session_models() -> dict:
    """Models trained or uploaded in this session: {name: Bundle}. They live in this user's session only, capped
    and freed when the session ends (app_pages/sessions.py)."""
    return sessions.models()


def _mine_cached(key: tuple, mine, fn):
    """fn() memoised in this session (a session's own model never enters the shared caches): the last few
    results, so a rerun on the same sentence does not redo a trace or an analysis (B7). An entry holds only a weak
    reference to its model, so a model the session dropped is freed, and its entries are never reused."""
    cache = st.session_state.setdefault("_mine_cache", {})
    hit = cache.get(key)
    if hit is None or hit[0]() is not mine:
        if len(cache) >= 24:
            cache.pop(next(iter(cache)))
        hit = cache[key] = (weakref.ref(mine), fn())
    return hit[1]


def get_bundle(name: str):
    """(bundle, None) or (None, message). Loaded once per process; a broken bundle is reported, not cached."""
    if name in session_models():
        return session_models()[name], None
    try:
        return _load(name, str(models_dir())), None
    except BundleError as e:
        return None, e.message(current_ui())


def model_fragment(fn, bundle, name: str, *args) -> None:
    """fn(bundle, *args) as an st.fragment (its identity: fn's). Streamlit keeps a fragment's arguments for the
    session's later reruns of it: a session's own Bundle there would stay in memory after the server put it away
    (app_pages/sessions.py), so such a model is passed by name and looked up again on each run. A shipped model is
    passed as it is: it is cached for every session anyway, and a lookup costs ~1 ms a rerun."""
    @functools.wraps(fn)
    def body(shipped, name: str, *args):
        bundle, err = (shipped, None) if shipped is not None else get_bundle(name)
        if bundle is None:  # the session's model went meanwhile (a newer upload took its place)
            st.warning(err or name)
            return
        fn(bundle, *args)

    st.fragment(body)(None if name in session_models() else bundle, name, *args)


@st.cache_resource(show_spinner=False, max_entries=128)
def _trace(name: str, root: str, text: str):
    b = _load(name, root)
    return trace(b.model, b.vocab, text, b.max_len)


def get_trace(name: str, text: str):
    """The Trace of `text` under a model (which must load). Memoised: a rerun with the same sentence is free.
    Raises InputError for a text without tokens."""
    mine = session_models().get(name)
    if mine is not None:  # never in the shared cache: other sessions must not see it
        return _mine_cached(("trace", name, text), mine, lambda: trace(mine.model, mine.vocab, text, mine.max_len))
    return _trace(name, str(models_dir()), text)


def accuracy_text(metrics: dict, lang: str) -> str:
    """A metrics card's test accuracy as "78.8%" («78,8 %»), or "n/a" (an uploaded card may hold anything there)."""
    acc = metrics.get("test_accuracy")
    ok = isinstance(acc, int | float) and not isinstance(acc, bool)
    return format_number(acc, ".1%", lang) if ok else t("not_available", lang)


@st.cache_resource(show_spinner=False, max_entries=256)
def _analysis(kind: str, name: str, root: str, text: str, _fn):  # _fn is not hashed: `kind` names it
    return _fn(_load(name, root), _trace(name, root, text))


def get_analysis(kind: str, fn, name: str, text: str):
    """fn(bundle, trace) for `text` under a model, memoised like get_trace under the key `kind` (one kind, one
    fn), so a rerun that does not change the sentence (a UI switch, a form on the same page) does not redo it.
    Results are shared between sessions: callers must not modify them."""
    mine = session_models().get(name)
    if mine is not None:  # never in the shared cache
        return _mine_cached((kind, name, text), mine, lambda: fn(mine, get_trace(name, text)))
    return _analysis(kind, name, str(models_dir()), text, fn)


def model_name(lang: str, cell: str) -> str:
    return f"{lang}-{cell}"


def _use_example():
    choice = st.session_state.get("example")
    if choice:
        st.session_state["_text"] = None if choice in examples.DEFAULT_TEXT.values() else choice
    st.session_state["example"] = None


def example_chips(ui: str) -> list[str]:
    """The chips under the text box: the UI language's examples; the English UI also offers the Russian ones (so a
    visitor finds the Russian models), the Russian UI stays Russian."""
    return examples.examples(ui) + (examples.examples("ru") if ui == "en" else [])


@dataclass
class Selection:
    text: str
    lang: str  # language of the text (detected or chosen): picks the shipped models
    cell: str
    name: str  # the model to use: a shipped one by lang and cell, or one of this session's


def sentence_controls(ui: str) -> Selection:
    """Text box, examples, text language (auto-detected unless chosen), cell, and this session's own models."""
    text = st.text_area(t("text_label", ui), placeholder=t("text_placeholder", ui), height=90,
                        **_stateful("text")) or ""
    st.pills(t("examples", ui), example_chips(ui), key="example", on_change=_use_example)
    detected = detect_lang(text)
    left, right = st.columns(2)
    with left:
        choice = st.segmented_control(t("text_lang", ui), URL_STATE["lang"][1], required=True,
                                      format_func=lambda v: t("lang_auto_option", ui) if v == "AUTO" else v,
                                      help=t("lang_auto", ui, language=t(f"lang_{detected}", ui)), **_stateful("lang"))
    with right:
        cell = st.segmented_control(t("cell", ui), URL_STATE["cell"][1], required=True, help=t("cell_help", ui),
                                    **_stateful("cell"))
    lang = detected if choice in (None, "AUTO") else choice.lower()
    cell = (cell or "LSTM").lower()
    name = model_name(lang, cell)
    mine = session_models()
    if mine:
        shipped = t("shipped_models", ui)
        pick = st.selectbox(t("model_select", ui), [shipped, *mine], key="my_model")
        if pick in mine:
            name, cell = pick, mine[pick].cell
    return Selection(text, lang, cell, name)


class _Prebuilt(go.Figure):
    """A figure dict that st.plotly_chart takes as already validated. Our figures are plain dicts built and tested in
    rnn_core.figures; validating a 50×128 animation again costs ~100 ms a rerun, so it is skipped."""

    def __init__(self, spec: dict):  # noqa: D107 -- deliberately skips go.Figure's validating constructor
        self._spec = spec

    def to_dict(self) -> dict:
        return self._spec


def chart(fig, key: str) -> None:
    """A figure from rnn_core.figures: a plain dict (sent as it is) or a small go.Figure."""
    st.plotly_chart(_Prebuilt(fig) if isinstance(fig, dict) else fig, theme=None, key=key,
                    config={"displayModeBar": False})


class PageContext(NamedTuple):
    """What a page about one sentence works with (unpacks as `sel, bundle, tr`)."""

    sel: Selection
    bundle: Bundle
    trace: Trace


def page_sentence(ui: str) -> PageContext | None:
    """The sentence controls plus the chosen model and its trace, or None after telling the user why not."""
    sel = sentence_controls(ui)
    bundle, error = get_bundle(sel.name)
    if error:
        st.error(t("model_error", ui, name=md_escape(sel.name), error=md_escape(error)))
        return None
    try:
        tr = get_trace(sel.name, sel.text)
    except InputError:
        st.info(t("empty_text", ui))
        return None
    if tr.truncated:
        st.warning(t("truncated", ui, n=tr.n_total, max_len=bundle.max_len))
    return PageContext(sel, bundle, tr)
