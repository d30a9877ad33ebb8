"""RNN Lens: navigation and the shared sidebar. Each page lives in app_pages/ and only lays out what rnn_core
computes."""
import streamlit as st

from app_pages import common, sessions

sessions.limit_arenas()  # before the sessions' threads allocate (see sessions.limit_arenas)
st.set_page_config(page_title="RNN Lens", page_icon="🔎", layout="wide")
common.restore_from_url()
ui = common.ui_language()


def page_(path: str, key: str, icon: str, **kw) -> st.Page:
    return st.Page(f"app_pages/{path}.py", title=common.t(key, ui), icon=f":material/{icon}:", url_path=path, **kw)



pages = {
    common.t("nav_start", ui): [page_("lesson", "page_lesson", "school", default=True)],
    common.t("nav_explore", ui): [
        page_("memory", "page_memory", "neurology"),
        page_("whatif", "page_whatif", "compare_arrows"),
        page_("gates", "page_gates", "door_open"),
        page_("importance", "page_importance", "highlight"),
        page_("path", "page_path", "timeline"),
        page_("neurons", "page_neurons", "biotech"),
    ],
    common.t("nav_learn", ui): [page_("gradients", "nav_gradients", "trending_down")],
    common.t("nav_build", ui): [page_("train", "page_train", "model_training")],
}
page = st.navigation(pages)
common.sidebar_about(ui)
page.run()
common.write_url()
