"""The optional bundle files the inside pages read: a PCA of hidden states and a neuron index, both built from
*training* sentences at training time, because the app has no corpus at run time."""
from __future__ import annotations

from collections.abc import Sequence

from ..bundle import add_extras, load_model
from ..model import SentimentRNN
from ..text import Vocab
from .memory_path import fit_model_pca, pca_to_dict
from .neurons import build_neuron_index


def build_extras(model: SentimentRNN, vocab: Vocab, texts: Sequence[str], max_len: int = 50, seed: int = 0,
                 n_pca: int = 400, n_index: int = 1500) -> dict:
    """{"pca.json": ..., "neurons.json": ...} for a model, from a seeded sample of its training texts."""
    pca = fit_model_pca(model, vocab, texts, n_texts=n_pca, seed=seed, max_len=max_len)
    index = build_neuron_index(model, vocab, texts, n_texts=n_index, seed=seed, max_len=max_len)
    return {"pca.json": pca_to_dict(pca), "neurons.json": index}


def index_bundle(path, ru_csv=None) -> dict:
    """(Re)build the extras of a bundle folder trained by a shipped recipe, from that recipe's training split."""
    from ..recipes import load_dataset, split_dataset

    b = load_model(path)
    train, _, _ = split_dataset(load_dataset(b.lang, ru_csv if b.lang == "ru" else None))
    extras = build_extras(b.model, b.vocab, train.texts, b.max_len)
    add_extras(b.path, extras)
    return extras


def index_shipped(name: str, ru_csv=None) -> dict:
    """Rebuild the extras of a shipped bundle (by name)."""
    return index_bundle(load_model(name).path, ru_csv)
