"""The app through Streamlit's AppTest, on tiny random bundles (the page logic, not the models' quality)."""
import json

import pytest

from rnn_core.i18n import t


def memory_spec(at):
    charts = at.get("plotly_chart")
    assert charts, "no chart on the page"
    return json.loads(charts[0].proto.spec)


def chips_html(at):
    return "".join(e.proto.body for e in at.get("html"))


def open_tab(at, key: str):
    """Select a tab of the main page (its tabs are lazy: only the open one runs) and rerun."""
    at.session_state["memory_tab"] = t(key, "en")
    return at.run()


def test_default_page_shows_label_and_animation(app):
    at = app()
    assert not at.exception
    assert any("Sentiment" in m.value and "P(positive)" in m.value for m in at.markdown)
    spec = memory_spec(at)
    tokens = "the cast is good , but the film is boring and not funny".split()
    assert spec["layout"]["xaxis"]["ticktext"] == tokens
    assert len(spec["frames"]) == len(tokens)
    assert [s["label"] for s in spec["layout"]["sliders"][0]["steps"]] == tokens


def test_typed_sentence_updates_everything(app):
    at = app()
    at.text_area(key="text").input("good movie").run()
    spec = memory_spec(at)
    assert spec["layout"]["xaxis"]["ticktext"] == ["good", "movie"] and len(spec["frames"]) == 2
    assert "yaxis3" in spec["layout"]  # the default cell is LSTM: h and c panels
    # memory, readout, the followed unit, the opened step; lazy tabs: Compare has not run
    assert len(at.get("plotly_chart")) == 4 and not at.metric
    open_tab(at, "tab_compare")
    assert len(at.get("plotly_chart")) == 8  # the four above, compare curves, three compare heatmaps
    assert len(at.metric) == 3


def test_query_params_reproduce_the_view(app):
    at = app(text="это отличный фильм", cell="GRU", ui="RU")
    assert at.text_area(key="text").value == "это отличный фильм"
    assert at.title[0].value == t("page_memory", "ru")
    spec = memory_spec(at)
    assert spec["layout"]["xaxis"]["ticktext"] == ["это", "отличный", "фильм"]
    assert "yaxis3" not in spec["layout"]  # GRU: no cell state panel
    assert any("ru-gru" in c.value for c in at.caption)  # Cyrillic text → the Russian model


def test_language_override_and_detection(app):
    at = app(text="это отличный фильм", lang="EN")
    assert any("en-lstm" in c.value for c in at.caption)
    at = app(text="a great film")
    assert any("en-lstm" in c.value for c in at.caption)


def test_ui_switch_changes_strings(app):
    at = app()
    assert at.title[0].value == "Sentiment & memory"
    at.segmented_control(key="ui").set_value("RU").run()
    assert at.title[0].value == "Тональность и память"
    assert at.text_area(key="text").label == "Ваше предложение"
    assert at.tabs[0].label == "Память"


def test_example_pill_sets_the_text(app):
    at = app()
    at.button_group(key="example").set_value("not good").run()
    assert at.text_area(key="text").value == "not good"
    assert memory_spec(at)["layout"]["xaxis"]["ticktext"] == ["not", "good"]


@pytest.mark.parametrize("text", ["", "   \n\t  ", "\u200b\u200d\ufeff"])
def test_empty_text_gives_a_friendly_prompt(app, text):
    at = app()
    at.text_area(key="text").input(text).run()
    assert not at.exception
    assert any(i.value == t("empty_text", "en") for i in at.info)
    assert not at.get("plotly_chart")


def test_long_text_is_truncated_and_says_so(app):
    at = app()
    at.text_area(key="text").input("good movie " * 50_000).run()  # 550,000 characters
    assert not at.exception
    assert any("100000 tokens" in w.value and "first 50" in w.value for w in at.warning)
    assert len(memory_spec(at)["frames"]) == 50


@pytest.mark.parametrize("text, shown", [
    ("<script>alert(1)</script> good", "&lt;"),
    ("<img src=x onerror=alert(1)>", "&lt;"),
    ("good 😀🎬 movie", "😀"),
    ("go\u200bod\x07 mo\u0000vie", "good"),
    ("\u202eevil\u202c good", "evil"),  # bidi override characters are dropped
])
def test_odd_input_is_text_not_html(app, text, shown):
    at = app()
    at.text_area(key="text").input(text).run()
    assert not at.exception
    body = chips_html(at)
    assert shown in body
    assert "<script" not in body and "<img" not in body and "\u202e" not in body
    assert any("P(positive)" in m.value for m in at.markdown)


def test_only_unknown_words(app):
    at = app()
    at.text_area(key="text").input("zxqv blorf").run()
    assert any(i.value == t("all_unknown", "en") for i in at.info)
    assert len(memory_spec(at)["frames"]) == 2


def test_broken_model_gives_a_message_and_the_rest_works(app, models_root, tmp_path, monkeypatch):
    import shutil

    root = tmp_path / "models"
    shutil.copytree(models_root, root)
    weights = root / "en-lstm" / "weights.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    monkeypatch.setenv("RNN_LENS_MODELS", str(root))
    at = app(text="good movie")
    assert not at.exception
    assert any("en-lstm" in e.value and "weights.safetensors" in e.value for e in at.error)
    at.segmented_control(key="cell").set_value("GRU").run()
    assert not at.error and memory_spec(at)["layout"]["xaxis"]["ticktext"] == ["good", "movie"]
    open_tab(at, "tab_compare")
    assert any(w.value.startswith("en-lstm") for w in at.warning)  # the compare tab names the missing one


def test_downloads_and_how_it_works(app):
    at = app(text="good movie")
    assert not at.get("download_button")
    open_tab(at, "tab_download")
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == [t("dl_csv", "en"), t("dl_json", "en"), t("dl_html", "en")]
    open_tab(at, "tab_how")
    table = next(m.value for m in at.markdown if m.value.startswith("| Stage"))
    assert "| Embedding | each index → a dense vector | 14 → 8 | 112 |" in table  # the tiny bundle's real numbers
    assert any("linear layer (16→1)" in m.value for m in at.markdown)
    ids = next(c.value for c in at.code if "→" in c.value and "'good'" in c.value)
    assert "'good' → 2" in ids and "'movie' → 8" in ids


def test_models_load_once_per_process(app, monkeypatch):
    import app_pages.common as common

    calls = []  # the cache starts empty (conftest.fresh_streamlit_caches)
    real = common.load_model
    monkeypatch.setattr(common, "load_model", lambda name: calls.append(name) or real(name))
    at = app(text="good movie")
    open_tab(at, "tab_compare")
    at.text_area(key="text").input("not good").run()
    at.run()
    app(text="bad movie")  # a second visitor
    assert sorted(calls) == ["en-gru", "en-lstm", "en-rnn"]  # each once, for the page and its Compare tab
