"""The defaults follow the UI language: the sentence, the example chips and the memory-path pair are Russian in the
Russian UI and run through the Russian models; a typed sentence and a shared link are kept as they are."""
import json

from rnn_core import examples
from rnn_core.i18n import t


def ticks(at):
    return json.loads(at.get("plotly_chart")[0].proto.spec)["layout"]["xaxis"]["ticktext"]


def test_russian_ui_starts_with_the_russian_sentence_on_the_russian_model(app):
    at = app(ui="RU")
    assert at.text_area(key="text").value == examples.default_text("ru")
    assert any("ru-lstm" in c.value for c in at.caption)  # the sidebar card of the model in use
    assert at.button_group(key="example").options == examples.examples("ru")  # chips: Russian only
    assert "text" not in at.query_params  # the default stays out of the link


def test_default_sentence_follows_a_ui_switch_but_typed_text_stays(app):
    at = app()
    assert at.text_area(key="text").value == examples.default_text("en")
    at.button_group(key="ui").set_value("RU").run()
    assert at.text_area(key="text").value == examples.default_text("ru")
    assert any("ru-lstm" in c.value for c in at.caption)
    at.text_area(key="text").input("good movie").run()
    at.button_group(key="ui").set_value("EN").run()
    assert at.text_area(key="text").value == "good movie" and ticks(at) == ["good", "movie"]
    assert at.query_params["text"] in ("good movie", ["good movie"])


def test_a_shared_link_reproduces_its_text_in_either_ui(app):
    for ui in ("EN", "RU"):
        at = app(ui=ui, text="not good")
        assert at.text_area(key="text").value == "not good" and ticks(at) == ["not", "good"]


def test_memory_path_pair_is_in_the_language_of_the_text(app):
    at = app(ui="RU")
    at.switch_page("app_pages/path.py").run()
    assert not at.exception
    assert at.text_area(key="path_more_ru").value == "\n".join(examples.PATH_PAIR["ru"])
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    names = [d["name"] for d in spec["data"] if d.get("mode", "").startswith("lines")]
    assert names[1:] == examples.PATH_PAIR["ru"]
    at = app(ui="RU", text="good movie")  # English text: the English model and the English pair
    at.switch_page("app_pages/path.py").run()
    assert at.text_area(key="path_more_en").value == "\n".join(examples.PATH_PAIR["en"])


def test_counted_nouns_agree_on_the_page(app):
    at = app(ui="RU", text="хорошо хорошо хорошо")
    assert any(c.value.startswith("Ваши слова, как вы их написали: 3 токена.") for c in at.caption)
    at = app(ui="RU", text="хорошо " * 5)
    assert any(c.value.startswith("Ваши слова, как вы их написали: 5 токенов.") for c in at.caption)
    at = app(ui="RU", text="хорошо")
    assert any(c.value.startswith("Ваши слова, как вы их написали: 1 токен.") for c in at.caption)
    at = app(ui="EN", text="good")
    assert any(c.value.startswith("Your words as typed: 1 token.") for c in at.caption)


def test_the_language_switch_shows_auto_in_the_ui_language(app):
    at = app(ui="RU")
    options = [o.content for o in at.button_group(key="lang").proto.options]
    assert options == [t("lang_auto_option", "ru"), "EN", "RU"]


def test_figures_write_numbers_for_the_ui_language(app):
    """Plotly formats ticks and hover numbers in the browser: layout.separators makes them «0,5» in Russian."""
    at = app(ui="RU")
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert spec["layout"]["separators"] == ",\xa0"
    at = app(ui="EN")
    assert json.loads(at.get("plotly_chart")[0].proto.spec)["layout"]["separators"] == ".,"
