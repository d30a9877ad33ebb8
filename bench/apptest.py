"""One full rerun of the main page through Streamlit's AppTest: the server-side cost of a user's click, without
the network and the browser. Streamlit is imported inside the function, never when rnn_core loads."""
from __future__ import annotations

import sys

from rnn_core.bundle import load_model
from rnn_core.figures.memory import raw_matrix_bytes
from rnn_core.text import detect_lang
from rnn_core.trace import trace

from . import APP, REPO, SENTENCE_50, pct, time_ms


def model_name(lang: str, cell: str) -> str:
    return f"{lang}-{cell}"  # as app_pages.common.model_name; not imported from there, that module imports streamlit


def measure_rerun(text: str = SENTENCE_50, runs: int = 40, warmup: int = 3, timeout: float = 120) -> dict:
    """p50/p95 ms of at.run() on the main page for `text` (set through the URL, as a shared link would), plus the
    size of the heatmap animation as the page actually sends it."""
    from streamlit.testing.v1 import AppTest

    if str(REPO) not in sys.path:  # app.py imports app_pages from the repo root
        sys.path.insert(0, str(REPO))
    at = AppTest.from_file(str(APP), default_timeout=timeout)
    at.query_params["text"] = text
    at.switch_page("app_pages/memory.py")  # the main page ("/" is the lesson)
    at.run()  # the first run loads the models: not a rerun, not timed
    if at.exception:
        raise RuntimeError(f"the main page failed: {at.exception[0].message}")
    if not any("P(positive)" in m.value for m in at.markdown):
        raise RuntimeError("the main page showed no result line")
    ms = time_ms(at.run, runs, warmup)
    spec = at.get("plotly_chart")[0].proto.spec
    # The page uses the default cell (LSTM) of the text's language; the yardstick is that model's trace.
    b = load_model(model_name(detect_lang(text), "lstm"))
    raw = raw_matrix_bytes(trace(b.model, b.vocab, text, b.max_len))
    return {"rerun_ms_p50": pct(ms, 50), "rerun_ms_p95": pct(ms, 95), "rerun_ms": [round(x, 1) for x in ms],
            "figure_bytes_app": len(spec.encode()), "raw_matrix_bytes_app": raw,
            "figure_raw_ratio_app": len(spec.encode()) / raw, "app_model": b.name}
