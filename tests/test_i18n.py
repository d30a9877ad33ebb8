"""The locale files: same keys and placeholders in every language; CLDR plurals and number formats."""
import pytest

from rnn_core.i18n import LANGS, format_number, placeholders, plural_form, strings, t


def _forms(entry):
    return entry.values() if isinstance(entry, dict) else [entry]


def test_every_language_has_the_same_keys_and_placeholders():
    en = strings("en")
    for lang in LANGS:
        other = strings(lang)
        assert set(other) == set(en), f"{lang}: keys differ: {set(other) ^ set(en)}"
        for key, entry in en.items():
            want = set().union(*(placeholders(s) for s in _forms(entry)))
            got = set().union(*(placeholders(s) for s in _forms(other[key])))
            assert got == want, f"{lang}:{key}: placeholders {got} != {want}"


def test_counted_phrases_have_the_forms_the_language_needs():
    for lang, needed in (("en", {"one", "other"}), ("ru", {"one", "few", "many", "other"})):
        for key, entry in strings(lang).items():
            if isinstance(entry, dict):
                assert needed <= set(entry), f"{lang}:{key} lacks {needed - set(entry)}"


@pytest.mark.parametrize(("n", "form"), [(1, "one"), (3, "few"), (5, "many"), (11, "many"), (21, "one"),
                                         (22, "few"), (0, "many"), (1.5, "other")])
def test_russian_plural_categories(n, form):
    assert plural_form(n, "ru") == form


@pytest.mark.parametrize(("value", "spec", "en", "ru"), [
    (0.8512, ".3f", "0.851", "0,851"),
    (0.788, ".1%", "78.8%", "78,8\xa0%"),
    (603689, ",", "603,689", "603\xa0689"),
    (-0.5, ".2f", "-0.50", "-0,50"),
    (7, "", "7", "7"),
])
def test_numbers_follow_the_language(value, spec, en, ru):
    assert format_number(value, spec, "en") == en
    assert format_number(value, spec, "ru") == ru


def test_t_formats_numbers_for_the_language_and_falls_back_to_english():
    assert t("data_rows", "ru", n=5, pos=0.5).startswith("5 текстов,")
    assert t("data_rows", "ru", n=3, pos=0.5).startswith("3 текста,")
    assert t("data_rows", "ru", n=21, pos=0.5).startswith("21 текст,")
    assert t("data_rows", "en", n=1, pos=0.5).startswith("1 text,")
    assert "50\xa0%" in t("data_rows", "ru", n=5, pos=0.5)
    assert "50%" in t("data_rows", "en", n=5, pos=0.5)
    with pytest.raises(KeyError):
        t("no_such_key_anywhere", "ru")


@pytest.mark.parametrize(("n", "want"), [(1, "1 шаг,"), (3, "3 шага,"), (5, "5 шагов,"), (11, "11 шагов,"),
                                         (21, "21 шаг,"), (22, "22 шага,")])
def test_russian_counted_nouns_agree(n, want):
    assert want in t("how_step3", "ru", cell="LSTM", n=n, shape="(1, n, 128)")


def test_large_counts_are_grouped_and_english_counts_agree():
    assert t("data_rows", "ru", n=12752, pos=0.58) == "12\xa0752 текста, из них положительных 58\xa0%."
    assert t("data_rows", "en", n=12752, pos=0.58) == "12,752 texts, 58% positive."
    assert t("how_step1", "en", n=1).endswith("1 token → indices")


def test_plotly_separators_and_number_lists_follow_the_language():
    from rnn_core.i18n import number_list, plotly_separators

    assert plotly_separators("en") == ".," and plotly_separators("ru") == ",\xa0"
    assert number_list([0.1234, -0.5], ".3f", "en") == "[0.123, -0.500]"
    assert number_list([0.1234, -0.5], ".3f", "ru") == "[0,123; -0,500]"


def test_every_counted_phrase_is_called_with_n():
    """A plural table needs n=: the code passes it under that name (a grep would miss a renamed placeholder)."""
    for key, entry in strings("en").items():
        if isinstance(entry, dict):
            assert all("{n" in form for form in entry.values()), key
