"""Counterfactual training texts: minimal edits of training sentences that flip their label (Kaushik et al., ICLR
2020, did them by hand; here rules do them, as in automatically generated counterfactuals, Wang & Culotta 2021).

Sentences of critics and tweets seldom say "not good", so a model trained on them alone never learns that "not"
turns the next word around. Two edits teach it, both made from *training* sentences only:

- negation: insert "not" / «не» before a sentiment word that agrees with the label, or remove a negation standing
  before one; the label flips ("the plot is clever" 1 -> "the plot is not clever" 0; "it is boring" 0 ->
  "it is not boring" 1).
- contrast: join two training sentences of opposite labels with "but" / «но» (or open with "although" / «хотя»); the
  label is the one of the clause that decides.

The sentiment words come from the training split itself: words with a clear log-odds ratio between positive and
negative training texts (smoothed, Monroe et al. 2008 style, without the z-score). Every edit is seeded.
"""
from __future__ import annotations

import math
import random
from collections import Counter

from .text import Vocab, tokenize

NEG = {"en": "not", "ru": "не"}
COPULA = {"is", "was", "are", "were", "it's", "that's", "be", "been", "seems", "feels", "looks", "remains"}
DEGREE = {"en": {"very", "so", "too", "really", "quite", "particularly", "especially", "terribly", "all", "that"},
          "ru": {"очень", "так", "слишком", "совсем", "особо", "особенно", "такой", "настолько", "самый"}}
CONTRAST = {"en": {"but", "although", "though", "yet", "despite", "however", "while", "whereas"},
            "ru": {"но", "хотя", "однако", "зато", "несмотря", "а"}}
EN_NEGATIONS = {"not", "never", "n't", "no"}
EN_CONTRACTIONS = {"isn't": "is", "wasn't": "was", "aren't": "are", "weren't": "were", "doesn't": "does",
                   "don't": "do", "didn't": "did"}


# Common evaluative words of each language, +1 / -1 (lemmas for Russian). The training split's own log-odds miss the
# commonest ones: critics write "good" in pans as often as in raves ("good actors, bad film"), so "good" never
# reaches a clear ratio, yet it is the word "not" most often turns around.
SEED = {
    "en": {**dict.fromkeys("good great fine nice funny clever smart brilliant excellent wonderful beautiful "
                           "enjoyable entertaining interesting charming moving touching gripping engaging fun "
                           "impressive memorable delightful lovely fresh original convincing powerful witty "
                           "satisfying compelling worth".split(), 1),
           **dict.fromkeys("bad boring dull awful terrible stupid silly weak tedious predictable lame bland "
                           "annoying pointless clumsy mediocre forgettable tiresome disappointing ugly poor "
                           "horrible dreadful messy painful shallow slow flat unfunny pretentious".split(), -1)},
    "ru": {**dict.fromkeys("хороший хорошо отличный отлично прекрасный прекрасно замечательный замечательно "
                           "интересный интересно смешной смешно красивый красиво умный добрый классный "
                           "крутой милый приятный удачный сильный трогательный весёлый веселый чудесный "
                           "великолепный нравиться понравиться радовать рад счастливый лучший".split(), 1),
           **dict.fromkeys("плохой плохо ужасный ужасно скучный скучно глупый глупо нудный тупой "
                           "слабый грустный грустно противный отвратительный мерзкий страшный больно "
                           "тяжело обидно жаль неприятный печальный злой худший".split(), -1)},
}


def lexicon(texts: list[str], labels: list[int], vocab: Vocab, min_count: int = 5, threshold: float = 0.8,
            lang: str | None = None) -> dict[str, int]:
    """key -> +1 / -1 for words whose smoothed log-odds of positive vs negative exceeds `threshold`, plus the seed
    words of `lang` (which win where the two disagree)."""
    pos, neg = Counter(), Counter()
    for text, y in zip(texts, labels):
        keys = {vocab.key(t) for t in tokenize(text)}
        (pos if y == 1 else neg).update(keys)
    n_pos, n_neg = max(sum(labels), 1), max(len(labels) - sum(labels), 1)
    out = {}
    for k in set(pos) | set(neg):
        if pos[k] + neg[k] < min_count or not any(ch.isalpha() for ch in k):
            continue
        lo = math.log((pos[k] + 1) / n_pos) - math.log((neg[k] + 1) / n_neg)
        if abs(lo) >= threshold:
            out[k] = 1 if lo > 0 else -1
    return {**out, **SEED.get(lang, {})}


# Russian edits only touch words that «не» can stand before: adjectives, adverbs, verbs, participles, predicatives.
RU_NEGATABLE = {"ADJF", "ADJS", "COMP", "ADVB", "VERB", "INFN", "PRTF", "PRTS", "PRED"}


def _pos_ru(token: str) -> str | None:
    from . import text

    text.lemma("а")  # loads the analyser
    return text._morph.parse(token)[0].tag.POS


def _negatable_ru(token: str) -> bool:
    return _pos_ru(token) in RU_NEGATABLE


def _edit_at(tokens: list[str], keys: list[str], i: int, lang: str) -> tuple[int, int, list[str]] | None:
    """How to (un)negate the sentiment word at i: replace tokens[a:b] by the returned tokens; None if no safe edit."""
    j = i
    while j > 0 and keys[j - 1] in DEGREE[lang]:
        j -= 1  # negate "very good" as a whole: "not very good"
    before = tokens[j - 1] if j > 0 else ""
    if lang == "en":
        if before in EN_NEGATIONS:
            return j - 1, j, []
        if before in EN_CONTRACTIONS:
            return j - 1, j, [EN_CONTRACTIONS[before]]
        if before in COPULA:
            return j, j, ["not"]
        if before in ("a", "an") and j > 1 and tokens[j - 2] in COPULA:  # "is a dull film" -> "is not a dull film"
            return j - 1, j - 1, ["not"]
        return None
    if before == "не":
        return j - 1, j, []
    if before == "ни" or keys[i] == "не" or not _negatable_ru(tokens[i]):
        return None
    return j, j, ["не"]


def _flip_negation(tokens: list[str], keys: list[str], y: int, lex: dict[str, int], lang: str) -> list[str] | None:
    """The sentence with each of its sentiment words negated (or un-negated), or None if no safe edit exists:
    mixed sentiment, a contrast word, or a word that cannot take a negation where it stands."""
    if any(k in CONTRAST[lang] for k in keys):
        return None
    want = 1 if y == 1 else -1
    hits = [i for i, k in enumerate(keys) if k in lex]
    if not hits or len(hits) > 3:
        return None
    edits = [_edit_at(tokens, keys, i, lang) for i in hits]
    if any(e is None for e in edits) or len({e[0] for e in edits}) < len(edits):
        return None
    # A word already negated ("isn't funny") counts with the opposite polarity; all must agree with the label.
    if any(lex[keys[i]] * (-1 if e[1] > e[0] else 1) != want for i, e in zip(hits, edits)):
        return None
    out = list(tokens)
    for a, b, new in sorted(edits, reverse=True):
        out[a:b] = new
    return out


STOP = {"en": {",", ".", ";", ":", "!", "?", "(", ")", "and", "but", "or", "that", "which", "who", "if", "when",
               "because", "-", "--", '"', "though", "although", "while", "is", "was"},
        "ru": {",", ".", ";", ":", "!", "?", "(", ")", "и", "но", "а", "или", "что", "который", "если", "когда",
               "потому", "-", '"'}}


def clause_pairs(texts: list[str], vocab: Vocab, lex: dict[str, int], lang: str) -> tuple[list[str], list[int]]:
    """Minimal pairs cut out of training sentences: the short clause around each sentiment word ("the plot is
    clever", «сюжет скучный»), labelled by the word's polarity, and the same clause with the word negated ("the
    plot is not clever", «сюжет не скучный»), labelled the other way. A phrase-level signal of the kind the Stanford
    Sentiment Treebank gives by hand (and Qian et al. 2017 turn into a regulariser), here from rules."""
    lex = {k: v for k, v in lex.items() if k in SEED[lang]}  # the clean hand list only: clauses are short
    pairs: dict[int, list[tuple[str, str]]] = {1: [], 0: []}
    seen = set()
    for text in texts:
        tokens = tokenize(text)
        keys = [vocab.key(t) for t in tokens]
        for i, k in enumerate(keys):
            if k not in lex:
                continue
            j = i
            while j > 0 and keys[j - 1] in DEGREE[lang]:
                j -= 1
            if lang == "en":
                if j > 0 and tokens[j - 1] in ("a", "an") and i + 1 < len(tokens) and tokens[i + 1].isalpha() \
                        and tokens[i + 1] not in lex:  # "a dull film" -> "not a dull film"
                    head, tail = [], tokens[j - 1:i + 2]
                    plain, negated = " ".join(tail), " ".join(["not"] + tail)
                    if plain not in seen:
                        seen.add(plain)
                        pairs[int(lex[k] > 0)].append((plain, negated))
                    continue
                if j == 0 or tokens[j - 1] not in COPULA:
                    continue
                start = j - 1
            else:
                if keys[j - 1: j] == ["не"] or not _negatable_ru(tokens[i]):
                    continue
                start = j
            a = start
            while a > 0 and start - a < 3 and keys[a - 1] not in STOP[lang] and keys[a - 1] not in lex \
                    and tokens[a - 1].replace("'", "").isalpha():
                a -= 1  # up to three words of subject before the copula (or before the Russian word)
            if lang == "ru" and a == start:
                continue  # a bare word: no clause
            end = i + 1
            if lang == "ru" and end < len(tokens) and _pos_ru(tokens[end]) == "NOUN":
                end += 1  # the noun an adjective qualifies: «скучный фильм» -> «не скучный фильм»
            head, tail = tokens[a:j], tokens[j:end]
            plain, negated = " ".join(head + tail), " ".join(head + [NEG[lang]] + tail)
            if plain in seen:
                continue
            seen.add(plain)
            pairs[int(lex[k] > 0)].append((plain, negated))
    # Critics and tweets praise with "not" less often than they complain with it; without balancing, the pairs
    # would again teach that "not" is a negative word. The rarer polarity's pairs are repeated to match.
    n = max(len(pairs[0]), len(pairs[1]))
    out_t, out_y = [], []
    for y, group in pairs.items():
        for m in range(n if group else 0):
            plain, negated = group[m % len(group)]
            out_t += [plain, negated]
            out_y += [y, 1 - y]
    return out_t, out_y


def counterfactuals(texts: list[str], labels: list[int], vocab: Vocab, lang: str, n_contrast: int = 0,
                    seed: int = 0, max_tokens: int = 25, clauses: bool = True) -> tuple[list[str], list[int]]:
    """Edited copies of the training texts with flipped labels, clause pairs (clause_pairs), and `n_contrast`
    joined pairs. Any text that is also a behaviour-suite sentence is dropped (the suite must stay unseen)."""
    # Tweets are too noisy for a data-driven Russian lexicon to place «не» safely: the hand list alone there.
    lex = lexicon(texts, labels, vocab, lang=lang) if lang == "en" else dict(SEED[lang])
    out_t, out_y = [], []
    short = []
    for text, y in zip(texts, labels):
        tokens = tokenize(text)
        if not tokens or len(tokens) > max_tokens:
            continue
        keys = [vocab.key(t) for t in tokens]
        short.append((tokens, y))
        edited = _flip_negation(tokens, keys, y, lex, lang)
        if edited:
            out_t.append(" ".join(edited))
            out_y.append(1 - y)
    if clauses:
        ct, cy = clause_pairs(texts, vocab, lex, lang)
        out_t, out_y = out_t + ct, out_y + cy
    rng = random.Random(seed)
    pos = [t for t, y in short if y == 1 and len(t) <= 15]
    neg = [t for t, y in short if y == 0 and len(t) <= 15]
    but, although = ("but", "although") if lang == "en" else ("но", "хотя")
    for k in range(n_contrast if pos and neg else 0):
        y = k % 2  # half end positive, half negative
        first, last = (rng.choice(neg), rng.choice(pos)) if y == 1 else (rng.choice(pos), rng.choice(neg))
        first, last = [t for t in first if t not in ".!?"], [t for t in last if t not in ".!?"]
        if rng.random() < 0.75:
            out_t.append(" ".join(first + [",", but] + last))
        else:
            out_t.append(" ".join([although] + first + [","] + last))
        out_y.append(y)
    from .behaviour import load_suite

    suite = {" ".join(tokenize(t)) for t, _, _ in load_suite(lang)} if lang in ("en", "ru") else set()
    keep = [i for i, t in enumerate(out_t) if t not in suite]
    return [out_t[i] for i in keep], [out_y[i] for i in keep]


def neutral_tails(texts: list[str], labels: list[int], neutral: list[str], n: int, seed: int = 0,
                  lang: str = "ru") -> tuple[list[str], list[int]]:
    """`n` short labelled training texts with a piece of a neutral text after them, label unchanged: what follows
    the sentiment ("... о войне", "... about a prison") does not undo it. A model that reads the last hidden state
    otherwise learns from tweets that the last words decide, whatever they are (CheckList's invariance tests,
    turned into training data). The pieces are 3-6 consecutive words of neutral tweets, joined with «о» / «про»
    half of the time."""
    rng = random.Random(seed)
    short = [(tokenize(t), y) for t, y in zip(texts, labels) if 0 < len(tokenize(t)) <= 12]
    pieces = []
    for t in neutral:
        words = [w for w in tokenize(t) if w.isalpha()]
        if len(words) >= 3:
            pieces.append(words)
    if not short or not pieces:
        return [], []
    joiners = {"ru": ["о", "про", ","], "en": ["about", ","]}[lang]
    out_t, out_y = [], []
    for _ in range(n):
        tokens, y = rng.choice(short)
        piece = rng.choice(pieces)
        a = rng.randrange(0, max(len(piece) - 2, 1))
        chunk = piece[a:a + rng.randint(2, 5)]
        out_t.append(" ".join([w for w in tokens if w not in ".!?"] + [rng.choice(joiners)] + chunk))
        out_y.append(y)
    return out_t, out_y
