"""RNN Lens: navigation and the shared sidebar. Each page lives in app_pages/ and only lays out what rnn_core
computes."""
import streamlit as st

from app_pages import common

st.set_page_config(page_title="RNN Lens", page_icon="🔎", layout="wide")
ui = common.ui_language()
pages = [
    st.Page("app_pages/memory.py", title=common.t("page_memory", ui), icon="🧠", url_path="memory", default=True),
]
page = st.navigation(pages)
common.sidebar_about(ui)
page.run()
