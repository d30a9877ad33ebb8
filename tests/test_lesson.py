"""The lesson and the counterfactual: the numbers behind each step equal the trace they explain, the readout adds
up to the logit, the diff equals the difference of two traces, and every step renders in both UI languages."""
import numpy as np
import pytest
import torch

from rnn_core import examples, lesson, load_model
from rnn_core.explain.diff import align, trace_diff
from rnn_core.explain.readout import contributions, unit_order
from rnn_core.i18n import t
from rnn_core.model import CELLS, SentimentRNN
from rnn_core.text import Vocab
from rnn_core.trace import trace

VOCAB = Vocab(["<pad>", "<unk>", "the", "film", "is", "good", "but", "boring", "not", "bad"])
TOL = 1e-5


def model(cell, seed=0):
    torch.manual_seed(seed)
    return SentimentRNN(len(VOCAB), cell, emb_dim=6, hidden_dim=5).eval()


@pytest.mark.parametrize("cell", CELLS)
def test_readout_contributions_add_up_to_the_logit(cell):
    m = model(cell)
    tr = trace(m, VOCAB, "the film is good but boring")
    r = contributions(m, tr)
    logit = np.log(tr.prefix_p / (1 - tr.prefix_p))
    assert np.allclose(r["contrib"].sum(1) + r["bias"], logit, atol=1e-4)
    assert np.allclose(r["p"], tr.prefix_p, atol=TOL)
    w = m.fc.weight.detach().numpy()[0]
    assert list(w[unit_order(m)]) == sorted(w, reverse=True)
    out = lesson.readout(m, tr)
    assert abs(out["sum"] + out["bias"] - out["logit"]) < TOL and abs(out["p"] - tr.p) < TOL
    assert out["n_pos"] + out["n_neg"] <= 5


@pytest.mark.parametrize("cell", CELLS)
def test_diff_equals_the_difference_of_two_traces(cell):
    m = model(cell, 1)
    a, b = trace(m, VOCAB, "the film is good"), trace(m, VOCAB, "the film is not good")
    d = trace_diff(a, b)
    assert d["columns"] == [(0, 0), (1, 1), (2, 2), (None, 3), (3, 4)]
    held_a = [0, 1, 2, 2, 3]  # at the inserted "not" the first sentence has read nothing new
    for k, (i, j) in enumerate(d["columns"]):
        assert abs(d["h_dist"][k] - np.linalg.norm(a.h[held_a[k]] - b.h[k])) < TOL
        if a.c is not None:
            assert abs(d["c_dist"][k] - np.linalg.norm(a.c[held_a[k]] - b.c[k])) < TOL
        assert abs(d["p_a"][k] - a.prefix_p[held_a[k]]) < TOL and abs(d["p_b"][k] - b.prefix_p[k]) < TOL
        for name in a.gates:
            want = np.abs(a.gates[name][i] - b.gates[name][j]).mean() if i is not None else np.nan
            assert np.isnan(want) and np.isnan(d["gates"][name][k]) or abs(d["gates"][name][k] - want) < TOL
    assert d["part"] == 3 and d["h_dist"][:3].max() < TOL  # identical prefixes, identical memories
    assert abs(d["final"] - np.linalg.norm(a.h[-1] - b.h[-1])) < TOL
    assert [v for _, v in d["reacted"]] == sorted((v for _, v in d["reacted"]), reverse=True)
    same = trace_diff(a, a)
    assert same["part"] is None and same["peak"] == 0 and not same["met_again"]


def test_alignment_pairs_a_swap_and_keeps_deletions():
    assert align(("the", "film", "is", "good"), ("the", "film", "is", "bad")) == [(0, 0), (1, 1), (2, 2), (3, 3)]
    assert align(("not", "good"), ("good",)) == [(0, None), (1, 0)]


def test_edits_swap_or_negate_a_word_in_the_users_own_text():
    got = lesson.edits("The film is Good!", ("the", "film", "is", "good", "!"), "en")
    assert got == ["The film is bad!", "The film is not Good!"]
    assert lesson.edits("это хороший фильм", ("это", "хороший", "фильм"), "ru") == [
        "это плохой фильм", "это не хороший фильм"]
    assert lesson.edits("a film", ("a", "film"), "en") == []
    assert lesson.edits("goodness", ("good",), "en") == []  # whole words only


def test_memory_focus_and_steps_are_read_from_the_trace():
    m = model("lstm", 2)
    tr = trace(m, VOCAB, "the film is good but boring")
    mem = lesson.memory(m, tr)
    p = np.concatenate([[mem["p0"]], tr.prefix_p])
    assert abs(mem["p0"] - 1 / (1 + np.exp(-float(m.fc.bias.detach()[0])))) < TOL
    assert mem["jump"] == int(np.argmax(np.abs(np.diff(p))))
    assert all((p[f] >= 0.5) != (p[f + 1] >= 0.5) for f in mem["flips"])
    t_, unit = lesson.focus(m, tr)
    assert t_ == mem["jump"] and 0 <= unit < 5
    s = lesson.step(m, tr, t_, unit)
    assert abs(s["h"] - tr.h[t_, unit]) < TOL
    for row, block in zip(lesson.step_rows(s), s["blocks"]):
        assert abs(row["input"] + row["input_bias"] + row["memory"] - row["sum"]) < TOL
        assert abs(row["value"] - tr.gates[block["name"]][t_, unit]) < TOL
    g = lesson.gate_summary(tr)
    assert np.allclose(g["means"]["forget"], tr.gates["forget"].mean(1), atol=TOL)
    assert np.allclose(g["keep"], (tr.gates["forget"] > 0.5).mean(1))
    assert g["lowest"] == int(np.argmin(tr.gates["forget"].mean(1)))
    assert lesson.gate_summary(trace(model("rnn"), VOCAB, "good"))["memory_gate"] is None
    e = lesson.embedding(tr)
    assert e["repeat"] is None
    e = lesson.embedding(trace(m, VOCAB, "the film the"))
    assert e["repeat"] == ("the", 0, 2) and e["same"]


def test_gradient_reach_and_which_cell_fades_most():
    assert lesson.gradient_reach({"h_grad_norm": np.array([0.1, 0.5, 1.0])}) == pytest.approx(0.1)
    assert lesson.rnn_fades_most({"rnn": 0.1, "lstm": 0.2, "gru": 0.3}) is True
    assert lesson.rnn_fades_most({"rnn": 1.1, "lstm": 0.2}) is False
    assert lesson.rnn_fades_most({"lstm": 0.2}) is None


# --- the shipped models: every claim the lesson makes about them -------------------------------------------------

@pytest.mark.parametrize("lang", ["en", "ru"])
@pytest.mark.parametrize("cell", CELLS)
def test_lesson_claims_hold_for_the_shipped_models(lang, cell):
    b = load_model(f"{lang}-{cell}")
    tr = trace(b.model, b.vocab, examples.default_text(lang), b.max_len)
    w = b.model.fc.weight.detach().numpy()[0]
    # "blue at the top and orange at the bottom both push towards positive": the top of the order has w > 0, the
    # bottom w < 0.
    order = unit_order(b.model)
    assert w[order[0]] > 0 > w[order[-1]]
    r = lesson.readout(b.model, tr)
    assert abs(1 / (1 + np.exp(-r["logit"])) - tr.p) < 1e-5
    # "what if" chips swap only words the vocabulary knows, so an edit never becomes ⟨unk⟩
    for word, other in examples.lesson_swaps(lang).items():
        assert b.vocab.key(word) in b.vocab.stoi and b.vocab.key(other) in b.vocab.stoi, (word, other)
    if lang == "ru":  # "this model looks Russian words up by their lemma"
        assert b.vocab.lemmatize


def test_default_sentences_offer_edits():
    for lang in ("en", "ru"):
        b = load_model(f"{lang}-lstm")
        tr = trace(b.model, b.vocab, examples.default_text(lang), b.max_len)
        assert lesson.edits(examples.default_text(lang), tr.tokens, lang)


# --- the page -----------------------------------------------------------------------------------------------------

def step_words(at) -> int:
    """Words of the step's own prose (tables and the sentence controls' captions left out)."""
    texts = [m.value for m in at.main.markdown if not m.value.startswith("|")]
    return sum(len(x.split()) for x in texts)


@pytest.mark.parametrize("ui", ["EN", "RU"])
@pytest.mark.parametrize("step", range(1, len(lesson.STEPS) + 1))
def test_each_lesson_step_renders(app, ui, step):
    at = app(None, step=str(step), ui=ui, cell="GRU" if step == 4 else "LSTM")
    lang, name = ui.lower(), lesson.STEPS[step - 1]
    assert not at.exception
    assert at.title[0].value == t("page_lesson", lang)
    assert at.subheader[0].value == t(f"lesson_title_{name}", lang)
    assert step_words(at) <= 80 + 20  # ≤ ~80 words of prose, plus the numbers and formulas they quote
    charts = at.get("plotly_chart")
    assert len(charts) == (0 if name in ("words", "ids") else 1 if name != "step" else 1)
    links = at.get("page_link")
    assert links and t("lesson_deeper", lang, page="").split(":")[0] in links[0].proto.label


def test_next_and_back_walk_the_lesson_and_the_url_keeps_the_step(app):
    at = app(None)  # the app's default page is the lesson
    assert at.subheader[0].value == t("lesson_title_words", "en")
    for k in range(1, len(lesson.STEPS)):
        at.button(key="next_bottom").click().run()
        assert not at.exception
        assert at.subheader[0].value == t(f"lesson_title_{lesson.STEPS[k]}", "en")
        assert at.query_params["step"] in (str(k + 1), [str(k + 1)])
    assert at.button(key="next_bottom").disabled
    at.button(key="back_bottom").click().run()
    assert at.subheader[0].value == t(f"lesson_title_{lesson.STEPS[-2]}", "en")


def test_a_plain_rnn_is_shown_the_gates_of_an_lstm(app):
    at = app("lesson", step=str(lesson.STEPS.index("gates") + 1), cell="RNN")
    assert not at.exception
    assert any("LSTM" in m.value for m in at.main.markdown)
    assert len(at.get("plotly_chart")) == 1


def test_typed_markdown_stays_text_in_the_lesson(app):
    at = app("lesson", text="**bold** [x](http://e.com) good", step="1")
    assert not at.exception
    prose = " ".join(m.value for m in at.main.markdown)
    assert "[x](" not in prose and "**bold**" not in prose


def test_whatif_page_offers_edits_and_draws_both_runs(app):
    at = app("whatif", text="the movie is good")
    assert not at.exception
    assert at.text_input(key="whatif_text").value == "the movie is bad"
    chart = at.get("plotly_chart")[0]
    import json

    spec = json.loads(chart.proto.spec)
    assert len(spec["layout"]["xaxis"]["ticktext"]) == 4
    at.button_group(key="whatif_chip").set_value("the movie is not good").run()
    assert at.text_input(key="whatif_text").value == "the movie is not good"
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert len(spec["layout"]["xaxis"]["ticktext"]) == 5


def test_choosing_a_word_frames_it_and_opens_its_step(app):
    import json

    at = app("lesson", step=str(lesson.STEPS.index("memory") + 1), text="the film is good but boring")
    at.button_group(key="lesson_word").set_value(2).run()
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert [s["x0"] for s in spec["layout"]["shapes"] if s["type"] == "rect"] == [1.5]
    at.button(key="back_bottom").click().run()  # one step back: the arithmetic opens at the same word
    assert at.subheader[0].value == t("lesson_title_step", "en")
    assert "“is”" in at.main.markdown[0].value


def test_the_lemma_sentence_names_a_real_lemma():
    b = load_model("ru-lstm")
    tr = trace(b.model, b.vocab, "Актёры хорошие", b.max_len)
    k = lesson.first_lemma(tr)
    assert k == 0 and tr.keys[k] == "актер" and tr.words[k] == "Актёры"  # "актеры" → its lemma
    en = load_model("en-lstm")
    assert lesson.first_lemma(trace(en.model, en.vocab, "Good FILM", en.max_len)) is None  # case folding is no lemma
