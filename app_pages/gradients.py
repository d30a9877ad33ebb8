"""Vanishing and exploding gradients: the Jacobian product on the user's sentence, the long-range memory experiment
and clipping. Every number here is printed by `python -m rnn_core explain {gradients,longrange,exploding}`."""
import streamlit as st

from app_pages.common import CELLS, chart, current_ui, get_analysis, get_bundle, model_name, page_sentence, t
from app_pages.jobs import QUEUE, QueueFull, run_here
from rnn_core.explain import captions
from rnn_core.explain import experiments as lab
from rnn_core.explain.commands import exploding_runs, exploding_text, sentence_report
from rnn_core.figures.inside import (
    exploding_figure,
    jacobian_figure,
    long_range_accuracy_figure,
    long_range_gradient_figure,
    step_factor_figure,
)
from rnn_core.i18n import format_number
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
    report = lambda name: get_analysis("jacobians", lambda b, x: sentence_report(b, x), name, sel.text)  # noqa: E731
    reports = {c: report(model_name(sel.lang, c)) for c in CELLS if get_bundle(model_name(sel.lang, c))[0]}
    if reports:
        left, right = st.columns(2)
        with left:
            chart(jacobian_figure(reports, "short", lang=ui), "jac_short")
        with right:
            chart(jacobian_figure(reports, "long", lang=ui), "jac_long")
        st.caption(t("grad_sentence_note", ui))
        st.table(captions.jacobian_table(reports, ui))
        st.markdown(captions.jacobian_caption(reports, ui))
    mine = report(sel.name)  # the cell (or own model) chosen above: its one-step factors
    if len(mine["trained"]["factors"]):
        chart(step_factor_figure(mine, tr.words[1:], lang=ui), "jac_factors")  # as typed
    st.caption(captions.factors_caption(mine, ui))

st.subheader(t("grad_long_title", ui))
st.markdown(t("grad_long_intro", ui, hidden=lab.LONG_RANGE["hidden_dim"]))
BIAS = ["none", 1.0, 2.0, 3.0, 4.0]
with st.form("long_range_form"):
    c1, c2 = st.columns([3, 2])
    lengths = c1.multiselect(t("lengths", ui), [5, 10, 20, 40, 80, 100], default=list(lab.LONG_LENGTHS))
    seeds = c2.multiselect(t("lab_seeds", ui), [0, 1, 2, 3, 4], default=list(lab.LONG_SEEDS))
    c3, c4 = st.columns(2)
    steps = c3.select_slider(t("budget", ui), [250, 500, 1000, 2000], value=lab.LONG_RANGE["steps"])
    bias = c4.select_slider(t("gate_bias", ui), BIAS, value=lab.LONG_RANGE["gate_bias"], help=t("gate_bias_help", ui),
                            format_func=lambda b: t("lab_bias_pytorch", ui) if b == "none" else f"{b:g}")
    go = st.form_submit_button(t("run_experiment", ui), type="primary")
settings = {"steps": steps, "gate_bias": None if bias == "none" else bias}
too_much = lab.sweep_work(CELLS, lengths, seeds, steps) > lab.LIVE_MAX_WORK
if go and too_much:
    st.warning(t("lab_too_much", ui))
elif go and lengths and seeds and not lab.is_default(lengths, sorted(seeds), **settings):
    bar, where = st.progress(0.0), {"run": 0, "n": 1}

    def progress(ev):
        if ev["kind"] == "run":
            where.update(run=ev["index"], n=ev["n_runs"])
            bar.progress(ev["index"] / ev["n_runs"], text=t("running_run", ui, i=ev["index"] + 1, n=ev["n_runs"],
                                                            cell=ev["cell"].upper(), length=ev["length"],
                                                            seed=ev["seed"]))
        elif ev["kind"] == "step":
            bar.progress(min(1.0, (where["run"] + ev["step"] / ev["n_steps"]) / where["n"]))

    try:  # the sweep is heavy work: it waits its turn in the queue trainings use (app_pages/jobs.py)
        sweep = run_here(lambda _progress, stop: lab.long_range_sweep(CELLS, lengths, sorted(seeds), progress=progress,
                                                                      should_stop=stop, **settings),
                         "long-range", on_wait=waiting(bar))
        if sweep is not None and sweep["complete"]:
            st.session_state["long_range"] = sweep
    except QueueFull as e:
        st.error(md_escape(e.message(ui)))
    bar.empty()
elif go:
    st.session_state.pop("long_range", None)  # back to the default settings: their shipped results
sweep = st.session_state.get("long_range")
shipped = sweep is None
if shipped:
    sweep = lab.default_sweep()
if sweep and sweep["runs"]:
    left, right = st.columns(2)
    with left:
        chart(long_range_accuracy_figure(sweep, lang=ui), "long_acc")
    with right:
        chart(long_range_gradient_figure(sweep, length=max(r["length"] for r in sweep["runs"]), lang=ui),
              "long_grad")
    st.table(captions.long_range_table(sweep, ui))
    st.markdown(captions.long_range_caption(sweep, ui))
    st.caption(t("lab_long_shipped", ui, seeds=", ".join(map(str, sweep["seeds"])), command=lab.DEFAULT_COMMAND,
                 seconds=sweep["seconds"]) if shipped else t("long_done", ui, n=len(sweep["runs"]),
                                                             seconds=sweep["seconds"]))

st.subheader(t("grad_explode_title", ui))
st.markdown(t("grad_explode_intro", ui, hidden=lab.EXPLODING["hidden_dim"], length=lab.EXPLODING["length"],
                 lr=lab.EXPLODING["lr"]))
with st.form("exploding_form"):
    c1, c2 = st.columns(2)
    scale = c1.select_slider(t("init_scale", ui), [k / 2 for k in range(1, 17)], value=lab.EXPLODING["init_scale"],
                             format_func=lambda v: format_number(v, "", ui))
    clip = c2.select_slider(t("clip_value", ui), [0.1, 0.25, 0.5, 1.0, 2.0], value=lab.EXPLODING["clip"],
                            format_func=lambda v: format_number(v, "", ui))
    go = st.form_submit_button(t("run_explode", ui))
if go:
    bar = st.progress(0.0)
    try:
        with st.spinner():
            res = run_here(lambda _progress, stop: exploding_runs(scale, clip, should_stop=stop), "exploding",
                           on_wait=waiting(bar))
        if res is not None:
            st.session_state["exploding"] = res
    except QueueFull as e:
        st.error(md_escape(e.message(ui)))
    bar.empty()
res = st.session_state.get("exploding")
if res:
    radius, result = exploding_text(res, ui)
    st.markdown(radius)
    chart(exploding_figure(res["runs"], lang=ui), "exploding")
    st.markdown(result)
