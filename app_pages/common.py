"""Layout pieces shared by the pages: the UI-language switch, the sentence controls, cached model loading.
State that should survive a shared link (text, language, cell, UI language) is bound to the URL's query params."""
from __future__ import annotations

from dataclasses import dataclass

import plotly.graph_objects as go
import streamlit as st

from rnn_core import BundleError, detect_lang, load_model, trace
from rnn_core.bundle import models_dir
from rnn_core.i18n import LANGS, t

CELLS = ("rnn", "lstm", "gru")
DEFAULT_TEXT = "the acting is good, but the plot is not good at all"
EXAMPLES = ["good", "not good", "a terrible boring mess", "a funny, touching and wonderful film",
            "это отличный фильм", "фильм не очень хороший", "скучно и ужасно"]

__all__ = ["Selection", "chart", "current_ui", "get_bundle", "get_trace", "model_name", "sentence_controls",
           "session_models", "sidebar_about", "t", "ui_language"]


# Bound widgets keep their *displayed* option in the URL, so options are short, stable labels (no format_func):
# ?ui=RU&cell=GRU&lang=AUTO&text=...


def ui_language() -> str:
    """The RU/EN switch at the top of the sidebar; returns 'en' or 'ru'."""
    choice = st.sidebar.segmented_control("🌐", [x.upper() for x in LANGS], default="EN", key="ui",
                                          bind="query-params", required=True, label_visibility="collapsed")
    return (choice or "EN").lower()


def current_ui() -> str:
    return (st.session_state.get("ui") or "EN").lower()


def sidebar_about(ui: str) -> None:
    st.sidebar.markdown(t("sidebar_about", ui))


@st.cache_resource(show_spinner=False, max_entries=32)
def _load(name: str, root: str):  # root is part of the key: tests and deployments may point elsewhere
    return load_model(name)


def session_models() -> dict:
    """Models trained or uploaded in this session: {name: Bundle}. They live in this user's session only."""
    return st.session_state.setdefault("my_models", {})


def get_bundle(name: str):
    """(bundle, None) or (None, message). Loaded once per process; a broken bundle is reported, not cached."""
    if name in session_models():
        return session_models()[name], None
    try:
        return _load(name, str(models_dir())), None
    except BundleError as e:
        return None, str(e)


@st.cache_resource(show_spinner=False, max_entries=128)
def _trace(name: str, root: str, text: str):
    b = _load(name, root)
    return trace(b.model, b.vocab, text, b.max_len)


def get_trace(name: str, text: str):
    """The Trace of `text` under a model (which must load). Memoised: a rerun with the same sentence is free.
    Raises InputError for a text without tokens."""
    mine = session_models().get(name)
    if mine is not None:  # never in the shared cache: other sessions must not see it
        return trace(mine.model, mine.vocab, text, mine.max_len)
    return _trace(name, str(models_dir()), text)


def model_name(lang: str, cell: str) -> str:
    return f"{lang}-{cell}"


def _use_example():
    choice = st.session_state.get("example")
    if choice:
        st.session_state["text"] = choice
    st.session_state["example"] = None


@dataclass
class Selection:
    text: str
    lang: str  # language of the text (detected or chosen): picks the shipped models
    cell: str
    name: str  # the model to use: a shipped one by lang and cell, or one of this session's


def sentence_controls(ui: str) -> Selection:
    """Text box, examples, text language (auto-detected unless chosen), cell, and this session's own models."""
    text = st.text_area(t("text_label", ui), value=DEFAULT_TEXT, key="text", bind="query-params",
                        placeholder=t("text_placeholder", ui), height=90) or ""
    st.pills(t("examples", ui), EXAMPLES, key="example", on_change=_use_example)
    detected = detect_lang(text)
    left, right = st.columns(2)
    with left:
        choice = st.segmented_control(t("text_lang", ui), ("AUTO", "EN", "RU"), default="AUTO", key="lang",
                                      bind="query-params", required=True,
                                      help=t("lang_auto", ui, language=t(f"lang_{detected}", ui)))
    with right:
        cell = st.segmented_control(t("cell", ui), [c.upper() for c in CELLS], default="LSTM", key="cell",
                                    bind="query-params", required=True, help=t("cell_help", ui))
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


def chart(spec: dict, key: str) -> None:
    st.plotly_chart(_Prebuilt(spec), theme=None, key=key, config={"displayModeBar": False})
