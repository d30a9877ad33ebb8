"""Every "look inside" page renders for an English and a Russian sentence, with the charts it promises."""
import json

import pytest

PAGES = {  # page → charts expected with the default cell (LSTM) on tiny bundles that have a PCA and neuron index
    "gates": 3, "importance": 2, "path": 1, "neurons": 1, "gradients": 5,
}


@pytest.mark.parametrize("text", ["not good at all", "это отличный фильм"])
@pytest.mark.parametrize("page", list(PAGES))
def test_page_renders(app, page, text):
    at = app(text=text)
    at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception, [e.message for e in at.exception]
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert len(charts) == PAGES[page]
    assert not at.error and not at.info


def test_gates_chart_has_the_lstm_gates(app):
    at = app(text="good movie")
    at.switch_page("app_pages/gates.py").run()
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert sum(d["type"] == "heatmap" for d in spec["data"]) == 4 and len(spec["frames"]) == 2
    table = next(m.value for m in at.markdown if m.value.startswith("| Cell"))
    assert "| LSTM | 4 |" in table and "| GRU | 3 |" in table


def test_gates_page_explains_that_rnn_has_none(app):
    at = app(text="good movie", cell="RNN")
    at.switch_page("app_pages/gates.py").run()
    assert any("no gates" in i.value for i in at.info) and not at.get("plotly_chart")


def test_importance_is_complete_and_chips_are_escaped(app):
    at = app(text="<b>good</b> movie")
    at.switch_page("app_pages/importance.py").run()
    body = "".join(e.proto.body for e in at.get("html"))
    assert "&lt;" in body and "<b>" not in body
    check = next(c.value for c in at.caption if "add up to" in c.value)
    total, diff = (float(x) for x in __import__("re").findall(r"(-?\d+\.\d+)", check)[:2])
    assert abs(total - diff) < 1e-2 * max(1, abs(diff))


def test_memory_path_overlays_sentences(app):
    at = app(text="good movie")
    at.switch_page("app_pages/path.py").run()
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    lines = [d for d in spec["data"] if d.get("mode", "").startswith("lines")]
    assert len(lines) == 3  # the sentence plus the two default overlays ("good", "not good")


def test_neuron_inspector_shows_top_contexts(app):
    at = app(text="good movie")
    at.switch_page("app_pages/neurons.py").run()
    at.number_input[0].set_value(3).run()
    assert len(at.dataframe) == 2
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert "Unit 3" in json.dumps(spec["layout"]["title"])


def test_long_range_and_exploding_experiments_run_from_the_page(app):
    at = app(text="good movie")
    at.switch_page("app_pages/gradients.py").run()
    # sentence: short and long Jacobians, the chosen cell's factors; long range: the shipped sweep's two charts
    assert len(at.get("plotly_chart")) == 5
    at.multiselect[0].set_value([5, 10])
    at.multiselect[1].set_value([0])
    at.select_slider[0].set_value(250)
    at.button[0].click().run()
    assert not at.exception and len(at.get("plotly_chart")) == 5
    at.button[1].click().run()
    assert not at.exception and len(at.get("plotly_chart")) == 6
    assert any("With clipping at 0.25" in m.value for m in at.markdown)


def test_analyses_are_not_redone_on_a_rerun_with_the_same_sentence(app, monkeypatch):
    """Integrated gradients and the gradient norms are memoised per (model, sentence): switching the UI language
    reruns the page but must not recompute them; a new sentence must."""
    import rnn_core.explain.attribution as attribution
    import rnn_core.explain.gradients as gradients  # sentence_jacobians lives here

    calls = []
    for module, fn in ((attribution, "word_importance"), (gradients, "sentence_jacobians")):
        real = getattr(module, fn)
        monkeypatch.setattr(module, fn, lambda *a, _real=real, _fn=fn, **k: calls.append(_fn) or _real(*a, **k))
    text = "memo check : good , not boring"  # caches start empty in every test (conftest.fresh_streamlit_caches)
    for page, fn, per_run in (("importance", "word_importance", 1), ("gradients", "sentence_jacobians", 3)):
        at = app(text=text)
        at.switch_page(f"app_pages/{page}.py").run()
        at.segmented_control(key="ui").set_value("RU").run()
        assert not at.exception and calls.count(fn) == per_run  # once per model, not once per run
        at.text_area(key="text").input(text + " !").run()
        assert calls.count(fn) == 2 * per_run
