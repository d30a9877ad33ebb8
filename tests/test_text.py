import pytest

from rnn_core.text import MAX_LEN, Vocab, detect_lang, normalise, tokenize


def test_normalise_nfkc_lower_yo_and_invisible_characters():
    assert normalise("ＧＯＯＤ Ёлка") == "good елка"  # fullwidth Latin folds, ё → е
    assert normalise("go\u200bod\u200d \ufeffmovie") == "good movie"  # zero-width characters vanish
    assert normalise("bad\x00\x07movie\r\nok") == "bad  movie  ok"  # control characters become spaces


@pytest.mark.parametrize("text, tokens", [
    ("This movie isn't good!", ["this", "movie", "isn't", "good", "!"]),
    ("Это отличный фильм.", ["это", "отличный", "фильм", "."]),
    ("кто-то сказал: «ЕЩЁ»", ["кто-то", "сказал", ":", "«", "еще", "»"]),
    ("great 👍🏽", ["great", "👍", "🏽"]),
    ("<script>alert(1)</script>", ["<", "script", ">", "alert", "(", "1", ")", "<", "/", "script", ">"]),
    ("   \t\n ", []),
    ("", []),
])
def test_tokenize(text, tokens):
    assert tokenize(text) == tokens


def test_detect_lang():
    assert detect_lang("это отличный фильм") == "ru"
    assert detect_lang("a great film") == "en"
    assert detect_lang("фильм is great") == "en"  # more Latin letters than Cyrillic ones
    assert detect_lang("123 !!!") == "en"


def test_vocab_min_count_order_and_json_roundtrip(tmp_path):
    v = Vocab.build(["good good bad", "good fun bad", "rare"], min_count=2)
    assert v.itos == ["<pad>", "<unk>", "good", "bad"]
    v.save(tmp_path / "v.json")
    w = Vocab.load(tmp_path / "v.json")
    assert w.itos == v.itos and w.stoi["bad"] == 3


def test_encode_flags_unknown_and_reports_truncation():
    v = Vocab(["<pad>", "<unk>", "good", "movie"])
    e = v.encode("Good unseen MOVIE")
    assert e.ids == [2, 1, 3] and e.unknown == [False, True, False] and e.unknown_tokens == ["unseen"]
    assert not e.truncated and e.n_total == 3
    long = v.encode("good " * 120)
    assert len(long.ids) == MAX_LEN and long.truncated and long.n_total == 120


def test_vocab_rejects_bad_json():
    with pytest.raises(ValueError):
        Vocab.from_json('{"itos": ["a", "b"]}')
    with pytest.raises(ValueError):
        Vocab.from_json("[1, 2]")


def test_lemmatizing_vocab_pools_russian_forms():
    v = Vocab.build(["отличный фильм", "отличного фильма", "отличные фильмы"], min_count=2, lemmatize=True)
    assert "фильм" in v.stoi and "отличный" in v.stoi
    e = v.encode("Отличному фильму")
    assert e.tokens == ["отличному", "фильму"]  # the user's words are kept for display
    assert e.unknown == [False, False]  # while the lookup goes through the lemma


def test_the_app_shows_words_as_typed_while_the_model_reads_them_folded():
    from rnn_core.text import words_as_typed

    text = "Актёры ХОРОШИЕ,\u200b но сюжет скучный 😀"
    assert words_as_typed(text) == ["Актёры", "ХОРОШИЕ", ",", "но", "сюжет", "скучный", "😀"]
    assert [w.lower().replace("ё", "е") for w in words_as_typed(text)] == tokenize(text)
    assert len(words_as_typed("İstanbul is GREAT")) == len(tokenize("İstanbul is GREAT"))  # folding changes length
    e = Vocab(["<pad>", "<unk>", "фильм", "отличный"], lemmatize=True).encode("Отличному ФИЛЬМУ")
    assert e.words == ["Отличному", "ФИЛЬМУ"] and e.tokens == ["отличному", "фильму"]
    assert e.keys == ["отличный", "фильм"] and e.ids == [3, 2]
