"""Gates: the LSTM's input/forget/output gates and the GRU's reset/update gates, animated word by word."""
import streamlit as st

from app_pages.common import CELLS, chart, current_ui, get_bundle, model_name, page_sentence, t
from rnn_core import cells, lesson
from rnn_core.explain.readout import unit_order
from rnn_core.figures.lesson import gate_lines_figure
from rnn_core.figures.memory import gates_animation
from rnn_core.report import cell_param_rows, markdown_table

ui = current_ui()
st.title(t("page_gates", ui))
st.markdown(t("gates_intro", ui))
picked = page_sentence(ui)
if picked:
    sel, bundle, tr = picked
    if not cells.get(tr.cell).gates:  # the plain RNN has none
        st.info(t("gates_rnn", ui))
    else:
        chart(gates_animation(tr, ui, order=unit_order(bundle.model)), "gates_chart")
        st.markdown(t("gates_lines_title", ui))
        chart(gate_lines_figure(tr, lesson.gate_summary(tr), ui), "gates_lines")
        st.markdown(t(f"gates_{tr.cell}_eq", ui))
    st.subheader(t("gates_params_title", ui))
    loaded = {c: b for c in CELLS if (b := get_bundle(model_name(sel.lang, c))[0]) is not None}
    if loaded:
        st.markdown(markdown_table(cell_param_rows(loaded, ui), ui))
    st.caption(t("gates_params_note", ui))
