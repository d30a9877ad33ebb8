"""Memory path: the hidden state after each word, projected to 2-D by a PCA fitted on training sentences."""
import streamlit as st

from app_pages.common import chart, current_ui, get_trace, page_sentence, t
from rnn_core import InputError, examples
from rnn_core.explain.memory_path import memory_path
from rnn_core.figures.inside import memory_path_figure

ui = current_ui()
st.title(t("page_path", ui))
st.markdown(t("path_intro", ui))
picked = page_sentence(ui)
if picked:
    sel, bundle, tr = picked
    # The pair is in the text's language: it runs through the same model as the sentence (an English pair on the
    # Russian model would be all ⟨unk⟩). One key per language, so a switch brings that language's pair.
    more = st.text_area(t("path_more", ui), value="\n".join(examples.PATH_PAIR.get(sel.lang, examples.PATH_PAIR["en"])),
                        key=f"path_more_{sel.lang}", height=80)
    pca = bundle.pca  # validated at load: arrays, and fitted_on holds numbers only
    if pca is None:
        st.info(t("no_extras", ui, name=bundle.name))
    else:
        traces = [tr]
        for line in [x for x in more.splitlines() if x.strip()][:5]:
            try:
                traces.append(get_trace(sel.name, line))
            except InputError:
                pass
        paths = [memory_path(x, pca) for x in traces]
        chart(memory_path_figure(paths, pca, names=[" ".join(x.tokens)[:40] for x in traces], lang=ui), "path_chart")
        fit = pca.get("fitted_on", {})
        if "n_states" in fit and "n_texts" in fit:
            st.caption(t("path_fitted", ui, states=t("count_states", ui, n=fit["n_states"]),
                         texts=t("count_train_texts", ui, n=fit["n_texts"]),
                         var=float(sum(pca["explained_variance_ratio"]))))
