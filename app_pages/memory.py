"""Main page: type a sentence, see its sentiment, watch the memory change word by word."""
import shlex

import streamlit as st

from app_pages import linked
from app_pages.common import (
    accuracy_text,
    chart,
    current_ui,
    get_bundle,
    get_trace,
    model_fragment,
    model_name,
    page_sentence,
    t,
)
from rnn_core import cells, lesson
from rnn_core.explain.readout import contributions, unit_order
from rnn_core.figures.lesson import contribution_heatmap, step_figure, unit_figure
from rnn_core.figures.memory import compare_curves, heatmap_rows, memory_animation, standalone_html, state_heatmap
from rnn_core.i18n import format_number, number_list
from rnn_core.model import CELL_NAMES, CELLS
from rnn_core.report import architecture_rows, markdown_table, steps
from rnn_core.safe_html import md_escape, token_chips

ui = current_ui()
st.title(t("page_memory", ui))
st.markdown(t("intro", ui))


def result(tr, b):
    positive = tr.label == "positive"
    word = t("positive" if positive else "negative", ui)
    color = "blue" if positive else "orange"  # the palette's sentiment colours
    p = format_number(tr.p, ".3f", ui)
    st.markdown(f"### {t('sentiment', ui)}: :{color}[{word}] · {t('probability', ui)} = {p}")
    st.progress(tr.p)
    st.caption(t("sidebar_model", ui, name=md_escape(b.name), acc=accuracy_text(b.metrics, ui)))


def page():
    picked = page_sentence(ui)  # controls, model, trace; says why when there is nothing to show
    if not picked:
        return
    sel, bundle, tr = picked
    text, lang, name = sel.text, sel.lang, sel.name
    result(tr, bundle)
    st.caption(t("tokens_caption", ui, n=len(tr.tokens)))
    # The words as typed; each chip's tooltip is what the model reads and looks up (lower case, ё→е, lemma).
    st.html(token_chips(tr.words, tr.unknown, unknown_title="⟨unk⟩",
                        titles=[t("token_reads", ui, token=tok, lookup=key) if key != tok else t("token_reads_as", ui,
                                token=tok) for tok, key in zip(tr.tokens, tr.keys)]))
    if all(tr.unknown):
        st.info(t("all_unknown", ui))

    order = unit_order(bundle.model)  # rows by readout weight: the top pushes P(+) up, the bottom down
    # Lazy tabs: only the open one runs. The Compare tab loads two more models and draws four charts; running it
    # for every visitor who never opens it made the first page ~1.4x slower than a bare torch + plotly app.
    tab_mem, tab_cmp, tab_how, tab_dl = st.tabs([t("tab_memory", ui), t("tab_compare", ui), t("tab_how", ui),
                                                 t("tab_download", ui)], key="memory_tab", on_change="rerun")
    with tab_mem:
        model_fragment(linked_views, bundle, name, tr, order)
    if tab_cmp.open:
        with tab_cmp:
            compare(text, lang)
    if tab_how.open:
        with tab_how:
            how_it_works(tr, bundle)
    if tab_dl.open:
        with tab_dl:
            downloads(tr, memory_animation(tr, ui, order=order), name, text)


MEMORY_CHARTS = ["memory_chart", "readout_chart", "unit_chart"]


def linked_views(bundle, tr, order):
    """The memory, what the readout sees, one unit and one step, all showing the same word and unit. A click or
    ◀ ▶ reruns only this fragment (app_pages/linked.py)."""
    model = bundle.model
    rows = heatmap_rows(tr.h.shape[1], order)
    jump = lesson.memory(model, tr)["jump"]  # by default: the word that moved P(+) most
    f = linked.focus(tr, bundle.name, MEMORY_CHARTS, "memory_clicks", rows, jump,
                     lambda w: lesson.focus_unit(model, tr, w))
    st.caption(t("linked_hint", ui))
    linked.step_buttons(tr, bundle.name, f.word, ui, "memory")
    chart(memory_animation(tr, ui, order=order, highlight=f.word, unit=f.unit, current=f.word if f.chosen else None),
          "memory_chart")
    st.caption(t("memory_legend", ui, n=tr.h.shape[1]))
    if tr.c is not None:
        st.caption(t("cell_state_note", ui))
    st.markdown(t("readout_heat_title", ui))
    chart(contribution_heatmap(tr, contributions(model, tr)["contrib"], order, ui, highlight=f.word, unit=f.unit),
          "readout_chart")
    st.caption(t("readout_heat_note", ui))
    st.markdown(t("unit_follow_title", ui, unit=f.unit))
    chart(unit_figure(tr, f.unit, ui, highlight=f.word), "unit_chart")
    with st.expander(t("step_open_title", ui, t=f.word + 1, token=md_escape(tr.tokens[f.word]), unit=f.unit)):
        s = lesson.step(model, tr, f.word, f.unit)
        st.markdown(linked.step_table(lesson.step_rows(s), ui))
        chart(step_figure(s, ui), "step_chart")
        st.markdown(t(f"lesson_step_{tr.cell}" if tr.cell in CELLS else "lesson_step_rnn", ui, h=s["h"]))
    left, right = st.columns(2)
    if cells.get(tr.cell).gates:
        left.page_link("app_pages/gates.py", label=t("linked_to_gates", ui, unit=f.unit), icon=":material/tune:")
    right.page_link("app_pages/neurons.py", label=t("linked_to_neuron", ui, unit=f.unit),
                    icon=":material/arrow_forward:")


def compare(text, lang):
    st.caption(t("compare_intro", ui))
    traces = {}
    for col, c in zip(st.columns(len(CELLS)), CELLS):
        _, err = get_bundle(model_name(lang, c))
        with col:
            if err:
                st.warning(t("compare_missing", ui, name=model_name(lang, c)))
                continue
            traces[c] = get_trace(model_name(lang, c), text)
            p = format_number(traces[c].p, ".3f", ui)
            st.metric(CELL_NAMES[c], t(traces[c].label, ui), f"P(+) = {p}", delta_arrow="off",
                      delta_color="blue" if traces[c].label == "positive" else "orange")
    if traces:
        chart(compare_curves(traces, ui), "compare_curves")
        for col, (c, tr_c) in zip(st.columns(len(traces)), traces.items()):
            with col:
                chart(state_heatmap(tr_c, ui, CELL_NAMES[c]), f"heat_{c}")


def how_it_works(tr, bundle):
    st.caption(t("how_intro", ui))
    st.markdown(markdown_table(architecture_rows(bundle, ui), ui))
    s = steps(tr, bundle)
    st.subheader(t("how_steps_title", ui))
    st.markdown(t("how_step1", ui, n=s["n"]))
    st.code("\n".join(f"{tok!r:>20} → {i}{'  ⟨unk⟩' if u else ''}" for tok, i, u in s["ids"]), language=None,
            height=min(26 * s["n"] + 30, 260))
    st.markdown(t("how_step2", ui, n=s["e"], shape=s["emb_shape"]))
    st.code(number_list(s["emb_first"], ".3f", ui)[:-1] + " …]", language=None)
    st.markdown(t("how_step3", ui, cell=s["cell"], n=s["n"], shape=s["rnn_shape"]))
    st.markdown(t("how_step4", ui, t=s["n"], h=s["h"]))
    st.code(number_list(s["h_last"], ".3f", ui)[:-1] + " …]", language=None)
    st.markdown(t("how_step5", ui, h=s["h"], logit=s["logit"], p=s["p"], label=t(s["label"], ui)))


def downloads(tr, fig, name, text):
    st.caption(t("dl_intro", ui))
    c1, c2, c3 = st.columns(3)
    c1.download_button(t("dl_csv", ui), data=tr.to_csv, file_name=f"trace-{name}.csv", mime="text/csv",
                       on_click="ignore")
    c2.download_button(t("dl_json", ui), data=lambda: tr.to_json(model=name), file_name=f"trace-{name}.json",
                       mime="application/json", on_click="ignore")
    c3.download_button(t("dl_html", ui), data=lambda: standalone_html(fig), file_name=f"memory-{name}.html",
                       mime="text/html", on_click="ignore")
    st.caption(t("dl_cli", ui))
    st.code(f"python -m rnn_core trace --model {name} --json {shlex.quote(text.strip()[:500])}", language="bash")


page()
