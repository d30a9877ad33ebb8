"""Word importance: Captum's integrated gradients on the embedding layer, cross-checked by occlusion."""
import streamlit as st

from app_pages.common import chart, current_ui, get_analysis, page_sentence, t
from rnn_core.explain.attribution import occlusion, word_importance
from rnn_core.figures.inside import word_chips, word_importance_figure
from rnn_core.safe_html import weighted_chips

ui = current_ui()
st.title(t("page_importance", ui))
st.markdown(t("imp_intro", ui))
picked = page_sentence(ui)
if picked:
    sel, bundle, tr = picked
    ig = get_analysis("ig", lambda b, x: word_importance(b.model, x.ids, x.tokens), sel.name, sel.text)
    occ = get_analysis("occlusion", lambda b, x: occlusion(b.model, x.ids, x.tokens), sel.name, sel.text)
    st.html(weighted_chips(*zip(*word_chips(ig))))
    total = float(ig["attributions"].sum())
    st.caption(t("imp_complete", ui, total=total, diff=ig["f_x"] - ig["f_baseline"], delta=abs(ig["delta"]),
                 n=ig["n_steps"]))
    if not ig["converged"]:
        st.warning(t("imp_approx", ui))
    left, right = st.columns(2)
    with left:
        chart(word_importance_figure(ig, title=t("imp_ig", ui), lang=ui), "ig_chart")
    with right:
        chart(word_importance_figure(occ, title=t("imp_occ", ui), lang=ui), "occ_chart")
