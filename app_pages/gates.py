"""Gates: the LSTM's input/forget/output gates and the GRU's reset/update gates, animated word by word."""
import streamlit as st

from app_pages import linked
from app_pages.common import CELLS, chart, current_ui, get_bundle, model_fragment, model_name, page_sentence, t
from rnn_core import cells, lesson
from rnn_core.explain.readout import unit_order
from rnn_core.figures.lesson import gate_lines_figure, unit_figure
from rnn_core.figures.memory import gates_animation, heatmap_rows
from rnn_core.report import cell_param_rows, markdown_table

ui = current_ui()
GATE_CHARTS = ["gates_chart", "gates_lines", "gates_unit"]


def linked_gates(bundle, tr):
    """The gates, their means per word and one unit's gates, showing the word and unit chosen here or on the main
    page (app_pages/linked.py)."""
    order = unit_order(bundle.model)
    summary = lesson.gate_summary(tr)
    f = linked.focus(tr, bundle.name, GATE_CHARTS, "gates_clicks", heatmap_rows(tr.h.shape[1], order),
                     summary["lowest"], lambda w: lesson.focus_unit(bundle.model, tr, w))
    st.caption(t("linked_hint", ui))
    linked.step_buttons(tr, bundle.name, f.word, ui, "gates")
    chart(gates_animation(tr, ui, order=order, highlight=f.word, unit=f.unit, current=f.word if f.chosen else None),
          "gates_chart")
    st.markdown(t("gates_lines_title", ui))
    chart(gate_lines_figure(tr, summary, ui, highlight=f.word), "gates_lines")
    st.markdown(t("unit_follow_title", ui, unit=f.unit))
    chart(unit_figure(tr, f.unit, ui, highlight=f.word), "gates_unit")


def page():
    # A function, not module code: a fragment keeps the globals of its page, and a Bundle there would stay alive
    # for the session (app_pages/common.model_fragment).
    st.title(t("page_gates", ui))
    st.markdown(t("gates_intro", ui))
    picked = page_sentence(ui)
    if picked:
        sel, bundle, tr = picked
        if not cells.get(tr.cell).gates:  # the plain RNN has none
            st.info(t("gates_rnn", ui))
        else:
            model_fragment(linked_gates, bundle, sel.name, tr)
            st.markdown(t(f"gates_{tr.cell}_eq", ui))
        st.subheader(t("gates_params_title", ui))
        loaded = {c: b for c in CELLS if (b := get_bundle(model_name(sel.lang, c))[0]) is not None}
        if loaded:
            st.markdown(markdown_table(cell_param_rows(loaded, ui), ui))
        st.caption(t("gates_params_note", ui))


page()
