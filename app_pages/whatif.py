"""What if? The counterfactual: the same network on your sentence and on an edited one, aligned word by word
(rnn_core.explain.diff), with chips that offer edits ("good" → "not good")."""
import streamlit as st

from app_pages.common import chart, current_ui, get_bundle, get_trace, page_sentence, t
from rnn_core import cells, lesson
from rnn_core.errors import InputError
from rnn_core.explain.diff import trace_diff
from rnn_core.figures.lesson import diff_figure
from rnn_core.safe_html import md_escape

ui = current_ui()
st.title(t("page_whatif", ui))
st.markdown(t("whatif_intro", ui))


def _use_edit():
    choice = st.session_state.get("whatif_chip")
    if choice:
        st.session_state["whatif_text"] = choice
    st.session_state["whatif_chip"] = None


def page():
    picked = page_sentence(ui)
    if not picked:
        return
    sel, bundle, tr = picked
    offers = lesson.edits(sel.text, tr.tokens, sel.lang)
    if st.session_state.get("whatif_base") != sel.text:  # a new sentence: start from its first suggested edit
        st.session_state["whatif_base"] = sel.text
        st.session_state["whatif_text"] = offers[0] if offers else sel.text
    if offers:
        st.pills(t("whatif_suggest", ui), offers, key="whatif_chip", on_change=_use_edit)
    edited = st.text_input(t("whatif_edit", ui), key="whatif_text")
    try:
        other = get_trace(sel.name, edited)
    except InputError:
        st.info(t("empty_text", ui))
        return
    if get_bundle(sel.name)[0] is None or other.cell != tr.cell:
        st.warning(t("whatif_other_cell", ui))
        return
    if other.tokens == tr.tokens:
        st.info(t("whatif_same", ui))
    d = trace_diff(tr, other)
    st.markdown(t("whatif_verdicts", ui, a=tr.p, b=other.p))
    if d["part"] is None:
        st.markdown(t("whatif_never", ui))
    else:
        a, b = d["labels"][d["part"]]
        st.markdown(t("whatif_part", ui, token=md_escape(b or a), final=d["final"], peak=d["peak"]) + " "
                    + t("whatif_met" if d["met_again"] else "whatif_kept", ui))
        if d["reacted"]:
            symbols = cells.get(tr.cell).symbols
            st.markdown(t("whatif_gates", ui, rows=", ".join(t("whatif_gate_item", ui, sym=symbols[n], v=v)
                                                              for n, v in d["reacted"])))
    chart(diff_figure(d, (t("whatif_yours", ui), t("whatif_edited", ui)), ui, highlight=d["part"]), "whatif_chart")


page()
