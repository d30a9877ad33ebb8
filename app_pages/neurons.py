"""Neuron inspector: one hidden unit along the sentence, and the training contexts that drive it most."""
import numpy as np
import streamlit as st

from app_pages import linked
from app_pages.common import chart, current_ui, page_sentence, t
from rnn_core.explain.neurons import top_contexts, unit_activation
from rnn_core.figures.inside import neuron_activation_figure
from rnn_core.i18n import format_number

ui = current_ui()
st.title(t("page_neurons", ui))
st.markdown(t("neu_intro", ui))


def page():
    # A function, not module code: the unit box's callback keeps this page's globals for the session, and a
    # Bundle there would stay alive with them (app_pages/common.model_fragment says more).
    picked = page_sentence(ui)
    if not picked:
        return
    sel, bundle, tr = picked
    n_units = tr.h.shape[1]
    # The unit followed on the main or the gates page (linked views), else the one most active at the end.
    followed = linked.followed_unit(tr, sel.name)
    start = int(np.abs(tr.h[-1]).argmax()) if followed is None else followed
    if st.session_state.get("neuron_unit_for") != (sel.name, tuple(tr.tokens), followed):
        st.session_state["neuron_unit_for"] = (sel.name, tuple(tr.tokens), followed)
        st.session_state["neuron_unit"] = start
    unit = st.number_input(t("unit", ui), 0, n_units - 1, help=t("unit_help", ui), key="neuron_unit",
                           on_change=lambda: linked.follow_unit(tr, sel.name, st.session_state["neuron_unit"]))
    chart(neuron_activation_figure(unit_activation(tr, int(unit)), lang=ui), "neuron_chart")
    index = bundle.neuron_index
    if index is None:
        st.info(t("no_extras", ui, name=bundle.name))
    else:
        for col, sign, title in zip(st.columns(2), ("pos", "neg"), ("neu_top_pos", "neu_top_neg")):
            rows = [{t("col_context", ui): " ".join([*c["left"], f"[{c['word']}]", *c["right"]]),
                     t("col_value", ui): format_number(c["activation"], ".3f", ui)}
                    for c in top_contexts(index, int(unit), sign)]
            col.markdown(f"**{t(title, ui)}**")
            col.dataframe(rows, hide_index=True)


page()
