"""Vanishing and exploding gradients: on the user's sentence, a live long-range memory experiment, and clipping."""
import streamlit as st

from app_pages.common import CELLS, chart, current_ui, get_analysis, get_bundle, model_name, page_sentence, t
from app_pages.jobs import QUEUE, QueueFull, run_here
from rnn_core.explain.gradients import exploding_experiment, long_range_sweep, step_gradient_norms
from rnn_core.figures.inside import (
    exploding_figure,
    gradient_norms_figure,
    long_range_accuracy_figure,
    long_range_gradient_figure,
)
from rnn_core.safe_html import md_escape

ui = current_ui()


def waiting(bar):
    """While the server-wide queue holds an experiment back: the user's place in it."""
    return lambda n: bar.progress(0.0, text=t("queue_waiting", ui, n=n, running=QUEUE.counts()["running"]))


st.title(t("page_gradients", ui))
st.markdown(t("grad_intro", ui))

st.subheader(t("grad_sentence_title", ui))
picked = page_sentence(ui)
if picked:
    sel, _, tr = picked
    results = {}
    for c in CELLS:
        if get_bundle(model_name(sel.lang, c))[0] is not None:
            results[c] = get_analysis("grad_norms", lambda b, x: step_gradient_norms(b.model, x.ids),
                                      model_name(sel.lang, c), sel.text)
    if results:
        chart(gradient_norms_figure(results, which="h", lang=ui), "grad_sentence")
        st.caption(t("grad_sentence_note", ui))

st.subheader(t("grad_long_title", ui))
st.markdown(t("grad_long_intro", ui))
with st.form("long_range_form"):
    c1, c2 = st.columns([3, 2])
    lengths = c1.multiselect(t("lengths", ui), [5, 10, 20, 40, 80, 100], default=[5, 10, 20, 40, 80])
    budget = c2.slider(t("budget", ui), 2, 20, 10)
    bias = st.toggle(t("gate_bias", ui), value=True, help=t("gate_bias_help", ui))
    go = st.form_submit_button(t("run_experiment", ui), type="primary")
if go and lengths:
    bar = st.progress(0.0)

    def progress(ev):
        if ev.get("kind") == "run":
            bar.progress(ev["index"] / ev["n_runs"], text=t("running_run", ui, i=ev["index"] + 1, n=ev["n_runs"],
                                                            cell=ev["cell"].upper(), length=ev["length"]))

    try:  # the sweep is heavy work: it waits its turn in the queue trainings use (app_pages/jobs.py)
        st.session_state["long_range"] = run_here(
            lambda _progress, _stop: long_range_sweep(CELLS, sorted(lengths), seeds=(0,), progress=progress,
                                                      time_budget_s=budget, gate_bias=4.0 if bias else None),
            "long-range", on_wait=waiting(bar))
    except QueueFull as e:
        st.error(md_escape(e.message(ui)))
    bar.empty()
sweep = st.session_state.get("long_range")
if sweep:
    left, right = st.columns(2)
    with left:
        chart(long_range_accuracy_figure(sweep, lang=ui), "long_acc")
    with right:
        chart(long_range_gradient_figure(sweep, length=max(sweep["lengths"]), lang=ui), "long_grad")
    st.caption(t("long_done", ui, n=len(sweep["runs"]), seconds=sum(sum(v) for v in sweep["seconds"].values()),
                 seed=0))

st.subheader(t("grad_explode_title", ui))
st.markdown(t("grad_explode_intro", ui))
with st.form("exploding_form"):
    c1, c2 = st.columns(2)
    scale = c1.slider(t("init_scale", ui), 0.5, 8.0, 5.0, 0.5)
    clip = c2.select_slider(t("clip_value", ui), [0.1, 0.25, 0.5, 1.0, 2.0], value=0.25)
    go = st.form_submit_button(t("run_explode", ui))
if go:
    bar = st.progress(0.0)
    try:
        with st.spinner():
            st.session_state["exploding"] = run_here(
                lambda _progress, _stop: [exploding_experiment("rnn", scale, None, seed=0),
                                          exploding_experiment("rnn", scale, clip, seed=0)],
                "exploding", on_wait=waiting(bar))
    except QueueFull as e:
        st.error(md_escape(e.message(ui)))
    bar.empty()
runs = st.session_state.get("exploding")
if runs:
    chart(exploding_figure(runs, lang=ui), "exploding")
    st.caption(t("explode_result", ui, a=runs[0]["max_grad_norm"], b=runs[1]["max_grad_norm"],
                 la=runs[0]["loss"][-1], lb=runs[1]["loss"][-1]))
