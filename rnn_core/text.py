"""Text -> tokens -> ids: the one home of normalisation, tokenising and the vocabulary.

The same functions serve training, the CLI and the app, so a word means the same thing everywhere.
"""
from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

PAD, UNK = "<pad>", "<unk>"
MAX_LEN = 50  # the seed: "Максимальная длина: 50"

# Words keep inner apostrophes and hyphens ("don't", "кто-то"); every other non-space character is a token of
# its own, so punctuation and emoji survive as tokens instead of being glued to words.
_TOKEN = re.compile(r"\w+(?:['’\-]\w+)*|[^\w\s]")
_CYRILLIC = re.compile(r"[\u0400-\u04FF]")
_LATIN = re.compile(r"[A-Za-z]")


def normalise(text: str) -> str:
    """NFKC, lower case, ё→е; control characters become spaces and invisible format characters vanish.

    Zero-width spaces, joiners, BOMs, bidi marks (Unicode category Cf) and emoji variation selectors carry no word
    meaning but would split or hide words, so they are removed before tokenising.
    """
    return fold(clean(text))


def clean(text: str) -> str:
    """normalise() without the case and ё folding: what the user typed, as the app shows it."""
    text = unicodedata.normalize("NFKC", text)
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat == "Cf" or "\ufe00" <= ch <= "\ufe0f":
            continue
        out.append(" " if cat in ("Cc", "Zl", "Zp") else ch)
    return "".join(out)


def fold(text: str) -> str:
    """Lower case and ё→е: the model reads «Актёры» as «актеры»."""
    return text.lower().replace("ё", "е")


def words_as_typed(text: str) -> list[str]:
    """The tokens of `text` in the form the user typed them (case and ё kept), one per token of tokenize(text).

    The tokens are found on the folded text, as the model reads it, and cut from the cleaned text at the same
    places; where folding changes the length of the text (a handful of characters, e.g. «İ»), the folded tokens
    are returned instead."""
    typed = clean(text)
    folded = fold(typed)
    if len(folded) != len(typed):
        return _TOKEN.findall(folded)
    return [typed[m.start():m.end()] for m in _TOKEN.finditer(folded)]


def tokenize(text: str) -> list[str]:
    """Normalised word and punctuation tokens of `text` (any language; never raises on a str)."""
    return _TOKEN.findall(normalise(text))


def detect_lang(text: str) -> str:
    """'ru' when Cyrillic letters outnumber Latin ones, else 'en' (the script decides, not a model)."""
    return "ru" if len(_CYRILLIC.findall(text)) > len(_LATIN.findall(text)) else "en"


@dataclass
class Encoded:
    """One text as the model sees it: at most `max_len` tokens, with what was lost on the way."""

    tokens: list[str]  # normalised tokens: what the model reads (lower case, ё→е)
    ids: list[int]
    unknown: list[bool]  # True where the token is not in the vocabulary (id == <unk>)
    n_total: int  # tokens before truncation
    truncated: bool
    words: list[str] = field(default_factory=list)  # the same tokens as typed (case and ё kept), for display
    keys: list[str] = field(default_factory=list)  # what each token is looked up by: itself, or its lemma

    @property
    def unknown_tokens(self) -> list[str]:
        return [t for t, u in zip(self.tokens, self.unknown) if u]


@dataclass
class Vocab:
    """Token <-> id. Id 0 is <pad>, id 1 is <unk>. `lemmatize` says whether lookups go through lemmas (Russian)."""

    itos: list[str] = field(default_factory=lambda: [PAD, UNK])
    lemmatize: bool = False

    def __post_init__(self):
        if self.itos[:2] != [PAD, UNK]:
            raise ValueError("a vocabulary must start with <pad>, <unk>")
        self.stoi = {t: i for i, t in enumerate(self.itos)}
        if len(self.stoi) != len(self.itos):
            raise ValueError("a vocabulary must not repeat a token")

    pad_id, unk_id = 0, 1

    def __len__(self) -> int:
        return len(self.itos)

    def key(self, token: str) -> str:
        """The string a token is looked up by: itself, or its lemma for a lemmatising vocabulary."""
        return lemma(token) if self.lemmatize else token

    @classmethod
    def build(cls, texts, min_count: int = 2, max_size: int | None = None, lemmatize: bool = False) -> Vocab:
        """Tokens seen at least `min_count` times, most frequent first (ties alphabetical, so builds are stable)."""
        counts: Counter[str] = Counter()
        for text in texts:
            toks = tokenize(text)
            counts.update(lemma(t) for t in toks) if lemmatize else counts.update(toks)
        kept = sorted((t for t, c in counts.items() if c >= min_count), key=lambda t: (-counts[t], t))
        return cls([PAD, UNK] + kept[: max_size], lemmatize=lemmatize)

    def encode(self, text: str, max_len: int = MAX_LEN) -> Encoded:
        tokens = tokenize(text)
        kept = tokens[:max_len]
        keys = [self.key(t) for t in kept]
        ids = [self.stoi.get(k, self.unk_id) for k in keys]
        return Encoded(kept, ids, [i == self.unk_id for i in ids], len(tokens), len(tokens) > max_len,
                       words_as_typed(text)[:max_len], keys)

    def to_json(self) -> str:
        return json.dumps({"itos": self.itos, "lemmatize": self.lemmatize}, ensure_ascii=False)

    @classmethod
    def from_json(cls, s: str) -> Vocab:
        d = json.loads(s)
        if not isinstance(d, dict) or not isinstance(d.get("itos"), list):
            raise ValueError("vocab JSON must be an object with an 'itos' list")
        if not all(isinstance(t, str) for t in d["itos"]):
            raise ValueError("vocab tokens must be strings")
        return cls(d["itos"], lemmatize=bool(d.get("lemmatize", False)))

    def save(self, path: Path) -> None:
        Path(path).write_text(self.to_json(), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Vocab:
        return cls.from_json(Path(path).read_text(encoding="utf-8"))


_morph = None


@lru_cache(maxsize=200_000)
def lemma(token: str) -> str:
    """Dictionary form of a Cyrillic word (pymorphy3); other tokens are returned unchanged.

    Russian inflects every noun and adjective into up to a dozen forms, so a word-level vocabulary built on a few
    thousand tweets sees most forms too rarely; looking words up by lemma pools their evidence.
    """
    global _morph
    if not _CYRILLIC.search(token):
        return token
    if _morph is None:
        import pymorphy3  # imported lazily: only lemmatising (Russian) vocabularies need it

        _morph = pymorphy3.MorphAnalyzer()
    return _morph.parse(token)[0].normal_form.replace("ё", "е")
