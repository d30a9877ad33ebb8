"""RNN Lens: navigation and the shared sidebar. Each page lives in app_pages/ and only lays out what rnn_core
computes."""
import streamlit as st

from app_pages import common

st.set_page_config(page_title="RNN Lens", page_icon="🔎", layout="wide")
common.restore_from_url()
ui = common.ui_language()
pages = {
    common.t("nav_explore", ui): [
        st.Page("app_pages/memory.py", title=common.t("page_memory", ui), icon="🧠", url_path="memory", default=True),
        st.Page("app_pages/gates.py", title=common.t("page_gates", ui), icon="🚪", url_path="gates"),
        st.Page("app_pages/importance.py", title=common.t("page_importance", ui), icon="🔦", url_path="importance"),
        st.Page("app_pages/path.py", title=common.t("page_path", ui), icon="🧭", url_path="path"),
        st.Page("app_pages/neurons.py", title=common.t("page_neurons", ui), icon="🔬", url_path="neurons"),
    ],
    common.t("nav_learn", ui): [
        st.Page("app_pages/gradients.py", title=common.t("page_gradients", ui), icon="📉", url_path="gradients"),
    ],
    common.t("nav_build", ui): [
        st.Page("app_pages/train.py", title=common.t("page_train", ui), icon="🏋️", url_path="train"),
    ],
}
page = st.navigation(pages)
common.sidebar_about(ui)
page.run()
common.write_url()
