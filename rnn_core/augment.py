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


def lexicon(texts: list[str], labels: list[int], vocab: Vocab, min_count: int = 5, threshold: float = 0.8
            ) -> dict[str, int]:
    """key -> +1 / -1 for words whose smoothed log-odds of positive vs negative exceeds `threshold`."""
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
    return out


# Russian edits only touch words that «не» can stand before: adjectives, adverbs, verbs, participles, predicatives.
RU_NEGATABLE = {"ADJF", "ADJS", "COMP", "ADVB", "VERB", "INFN", "PRTF", "PRTS", "PRED"}


def _negatable_ru(token: str) -> bool:
    from .text import lemma

    lemma(token)  # loads the analyser
    from . import text

    return text._morph.parse(token)[0].tag.POS in RU_NEGATABLE


def _flip_negation(tokens: list[str], keys: list[str], y: int, lex: dict[str, int], lang: str) -> list[str] | None:
    """The sentence with its one sentiment word negated (or un-negated), or None if no safe edit exists."""
    if any(k in CONTRAST[lang] for k in keys):
        return None
    want = 1 if y == 1 else -1
    hits = [i for i, k in enumerate(keys) if k in lex]
    if not hits or any(lex[keys[i]] != want for i in hits):
        return None  # mixed sentiment: one edit would not flip the whole sentence
    i = hits[0]
    j = i
    while j > 0 and keys[j - 1] in DEGREE[lang]:
        j -= 1  # negate "very good" as a whole: "not very good"
    before = tokens[j - 1] if j > 0 else ""
    if lang == "en":
        if before in EN_NEGATIONS:
            return tokens[:j - 1] + tokens[j:]
        if before in EN_CONTRACTIONS:
            return tokens[:j - 1] + [EN_CONTRACTIONS[before]] + tokens[j:]
        if before in COPULA:
            return tokens[:j] + ["not"] + tokens[j:]
        return None
    if before == "не":
        return tokens[:j - 1] + tokens[j:]
    if before == "ни" or keys[i] == "не" or not _negatable_ru(tokens[i]):
        return None
    return tokens[:j] + ["не"] + tokens[j:]


def counterfactuals(texts: list[str], labels: list[int], vocab: Vocab, lang: str, n_contrast: int = 0,
                    seed: int = 0, max_tokens: int = 25) -> tuple[list[str], list[int]]:
    """Edited copies of the training texts with flipped labels, plus `n_contrast` joined pairs."""
    lex = lexicon(texts, labels, vocab)
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
    return out_t, out_y
