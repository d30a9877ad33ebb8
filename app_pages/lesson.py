"""Start here: the lesson. Eight short steps, each one idea of the specification shown on the user's own sentence,
with Back/Next, a progress bar and the step in the URL (?step=3). Every number comes from rnn_core.lesson."""
import streamlit as st

from app_pages.common import (
    chart,
    current_ui,
    get_analysis,
    get_bundle,
    get_trace,
    lesson_step,
    model_fragment,
    model_name,
    page_sentence,
    set_lesson_step,
    t,
)
from app_pages.linked import step_table
from rnn_core import cells, lesson
from rnn_core.explain.gradients import step_gradient_norms
from rnn_core.explain.readout import contributions, unit_order
from rnn_core.figures import lesson as figs
from rnn_core.figures.memory import memory_animation
from rnn_core.model import CELL_NAMES, CELLS
from rnn_core.report import markdown_table
from rnn_core.safe_html import md_escape, token_chips

ui = current_ui()
STEPS = lesson.STEPS
DEEPER = {"words": "memory", "ids": "memory", "embedding": "path", "step": "gates", "memory": "memory",
          "readout": "neurons", "gates": "gates", "gradients": "gradients"}  # the page that goes further


def q(token: str) -> str:
    """A token inside Markdown text: escaped, so a typed *word* or [link](x) stays text."""
    return md_escape(token)


def chosen_word(tr, default: int) -> int:
    """The word the student picked (chips under the step text), shared by every step that has words on an axis: it
    is framed in that step's chart and opened up in the one-step arithmetic. Reset when the sentence changes."""
    key = "lesson_word"
    if st.session_state.get("lesson_word_for") != tr.tokens:
        st.session_state["lesson_word_for"] = tr.tokens
        st.session_state[key] = default
    k = st.pills(t("lesson_word", ui), list(range(len(tr.tokens))), format_func=lambda i: tr.tokens[i], key=key)
    return default if k is None else int(k)


def words(b, sel, tr):
    st.markdown(t("lesson_words", ui, n=len(tr.tokens), first=q(tr.words[0]), last=q(tr.words[-1])))
    st.html(token_chips(tr.words, tr.unknown, unknown_title="⟨unk⟩", titles=tr.keys))
    if any(tr.unknown):
        st.markdown(t("lesson_words_unk", ui, n=sum(tr.unknown)))


def ids(b, sel, tr):
    st.markdown(t("lesson_ids", ui, v=len(b.vocab), unk=b.vocab.unk_id))
    rows = lesson.words(tr)
    lemma = lesson.first_lemma(tr)
    if lemma is not None:
        st.markdown(t("lesson_ids_lemma", ui, token=q(tr.words[lemma]), lemma=q(tr.keys[lemma])))
    cols = [t("lesson_col_token", ui), t("lesson_col_key", ui), t("lesson_col_id", ui)]
    table = [{cols[0]: q(r["token"]), cols[1]: q(r["key"]), cols[2]: r["id"]} for r in rows]
    st.markdown(markdown_table(table))


def embedding(b, sel, tr):
    e = lesson.embedding(tr)
    st.markdown(t("lesson_embedding", ui, e=e["dim"]))
    if e["repeat"]:
        token, a, c = e["repeat"]
        st.markdown(t("lesson_embedding_repeat", ui, token=q(token), a=a + 1, b=c + 1))
    k = chosen_word(tr, e["repeat"][1] if e["repeat"] else 0)
    chart(figs.embedding_figure(tr, ui, highlight=k), "lesson_embedding")


def step(b, sel, tr):
    t0, u0 = lesson.focus(b.model, tr)
    t_ = chosen_word(tr, t0)
    unit = st.number_input(t("lesson_unit", ui), 0, tr.h.shape[1] - 1, value=lesson.focus_unit(b.model, tr, t_),
                           key=f"lesson_unit_{t_}")
    s = lesson.step(b.model, tr, t_, int(unit))
    st.markdown(t("lesson_step", ui, t=t_ + 1, token=q(tr.tokens[t_]), unit=int(unit)))
    st.markdown(step_table(lesson.step_rows(s), ui))
    chart(figs.step_figure(s, ui), "lesson_step")
    st.markdown(t(f"lesson_step_{tr.cell}" if tr.cell in CELLS else "lesson_step_rnn", ui, h=s["h"]))
    if len(s["terms"]) > 1:
        st.caption(t("lesson_terms", ui) + ": " + " · ".join(f"{k} = {v:+.3f}" for k, v in s["terms"]))


def memory(b, sel, tr):
    m = lesson.memory(b.model, tr)
    st.markdown(t("lesson_memory", ui, h=tr.h.shape[1], token=q(tr.tokens[m["jump"]]), a=m["before"], b=m["after"]))
    if m["flips"]:
        st.markdown(t("lesson_memory_flip", ui, token=q(tr.tokens[m["flips"][-1]])))
    else:
        st.markdown(t("lesson_memory_noflip", ui))
    k = chosen_word(tr, m["jump"])
    chart(memory_animation(tr, ui, order=unit_order(b.model), highlight=k), "lesson_memory")


def readout(b, sel, tr):
    r = lesson.readout(b.model, tr)
    st.markdown(t("lesson_readout", ui, n_pos=r["n_pos"], n_neg=r["n_neg"], s=r["sum"], b=r["bias"],
                  logit=r["logit"], p=r["p"]))
    if r["pos"] and r["neg"]:
        st.markdown(t("lesson_readout_top", ui, up=r["pos"][0][0], v=r["pos"][0][1], down=r["neg"][0][0],
                      w=r["neg"][0][1]))
    chart(figs.readout_figure(contributions(b.model, tr)["contrib"][-1], unit_order(b.model), ui), "lesson_readout")


def gates(b, sel, tr):
    shown, name = tr, sel.name
    if not cells.get(tr.cell).gates:  # a plain RNN: show the LSTM of the same language beside it
        name = model_name(sel.lang, "lstm")
        if get_bundle(name)[0] is None:
            st.markdown(t("lesson_gates_rnn", ui, cell="LSTM"))
            return
        shown = get_trace(name, sel.text)
        st.markdown(t("lesson_gates_rnn", ui, cell="LSTM"))
    g = lesson.gate_summary(shown)
    sym = cells.get(shown.cell).symbols[g["memory_gate"]]
    st.markdown(t("lesson_gates", ui, gate=t(f"lesson_gate_{g['memory_gate']}", ui), sym=sym,
                  token=q(shown.tokens[g["lowest"]]), v=float(g["means"][g["memory_gate"]][g["lowest"]]),
                  cell=CELL_NAMES[shown.cell]))
    st.markdown(t(f"lesson_gates_{shown.cell}", ui))
    k = chosen_word(shown, g["lowest"])
    chart(figs.gate_lines_figure(shown, g, ui, highlight=k), "lesson_gates")


def _logit_norms(bundle, tr):
    return step_gradient_norms(bundle.model, tr.ids, objective="logit")


def gradients(b, sel, tr):
    if len(tr.tokens) < 2:
        st.markdown(t("lesson_grad_one", ui))
        return
    results = {}
    for c in CELLS:
        if get_bundle(model_name(sel.lang, c))[0] is not None:
            results[c] = get_analysis("grad_logit", _logit_norms, model_name(sel.lang, c), sel.text)
    reach = {c: lesson.gradient_reach(r) for c, r in results.items()}
    rows = " · ".join(t("lesson_grad_item", ui, cell=CELL_NAMES[c], r=r) for c, r in reach.items())
    fades = lesson.rnn_fades_most(reach)
    st.markdown(t("lesson_gradients", ui, rows=rows)
                + ("" if fades is None else " " + t("lesson_grad_fades" if fades else "lesson_grad_not_yet", ui)))
    if results:
        chart(figs.gradient_figure(results, tr.tokens, ui), "lesson_gradients")


SHOW = {"words": words, "ids": ids, "embedding": embedding, "step": step, "memory": memory, "readout": readout,
        "gates": gates, "gradients": gradients}


def nav(k: int, where: str):
    back, mid, nxt = st.columns([1, 3, 1])
    back.button(t("lesson_back", ui), key=f"back_{where}", disabled=k == 0, on_click=set_lesson_step, args=(k - 1,),
                width="stretch")
    nxt.button(t("lesson_next", ui), key=f"next_{where}", disabled=k == len(STEPS) - 1, type="primary",
               on_click=set_lesson_step, args=(k + 1,), width="stretch")
    return mid


def page():
    st.title(t("page_lesson", ui))
    k = lesson_step()
    name = STEPS[k]
    st.progress((k + 1) / len(STEPS), text=t("lesson_progress", ui, step=k + 1, total=len(STEPS),
                                             title=t(f"lesson_title_{name}", ui)))
    with st.expander(t("lesson_sentence", ui), expanded=k == 0):
        st.caption(t("lesson_intro", ui))
        picked = page_sentence(ui)
    st.subheader(t(f"lesson_title_{name}", ui))
    if picked:
        # A fragment: a chip click reruns this step only, not the sentence box and the model load above it.
        sel, bundle, tr = picked
        model_fragment(SHOW[name], bundle, sel.name, sel, tr)
    deeper = DEEPER[name]
    st.page_link(f"app_pages/{deeper}.py", label=t("lesson_deeper", ui, page=t(f"page_{deeper}", ui)),
                 icon=":material/arrow_forward:")
    nav(k, "bottom")


page()
