"""The memory as a path: project every hidden state of a sentence onto the 2 main directions of a model's states.

The projection is fitted once per model on the states of a fixed sample of texts (so sentences are drawn in the
same plane and can be compared), with plain numpy SVD, and stored as a small JSON dict next to the bundle.
"""
from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np

from ..errors import InputError
from ..model import SentimentRNN
from ..schemas import PCA_FORMAT, pca_from_dict, pca_to_dict  # noqa: F401 -- re-exported
from ..text import MAX_LEN, Vocab
from ..trace import Trace, trace


def fit_pca(H: np.ndarray, n_components: int = 2) -> dict:
    """PCA of the rows of `H` (N, hidden): {"mean" (hidden,), "components" (k, hidden), "explained_variance_ratio"
    (k,)}. Each component's sign is fixed so its largest-magnitude loading is positive, so refits give the same
    picture instead of a mirrored one."""
    H = np.asarray(H, dtype=np.float64)
    if H.ndim != 2 or H.shape[0] < 2:
        raise InputError("pca_too_few")
    mean = H.mean(axis=0)
    _, s, vt = np.linalg.svd(H - mean, full_matrices=False)
    comps = np.zeros((n_components, H.shape[1]))
    k = min(n_components, len(vt))
    comps[:k] = vt[:k]
    signs = np.sign(comps[np.arange(n_components), np.abs(comps).argmax(axis=1)])
    comps *= np.where(signs == 0, 1.0, signs)[:, None]
    var = s ** 2
    ratio = np.zeros(n_components)
    ratio[:k] = var[:k] / var.sum() if var.sum() > 0 else 0.0
    return {"mean": mean, "components": comps, "explained_variance_ratio": ratio}


def project(pca: dict, h: np.ndarray) -> np.ndarray:
    """States (T, hidden) → coordinates (T, k) in the PCA plane."""
    return (np.asarray(h, dtype=np.float64) - pca["mean"]) @ pca["components"].T


def sample_texts(texts: Sequence[str], n: int, seed: int = 0) -> list[str]:
    """`n` texts drawn without replacement with a fixed seed (all of them when there are fewer)."""
    if len(texts) <= n:
        return list(texts)
    idx = np.sort(np.random.default_rng(seed).choice(len(texts), size=n, replace=False))
    return [texts[i] for i in idx]


def collect_traces(model: SentimentRNN, vocab: Vocab, texts: Sequence[str], n_texts: int = 300, seed: int = 0,
                   max_len: int = MAX_LEN) -> list[Trace]:
    """Traces of a seeded sample of `texts`; texts without a single token are skipped."""
    out = []
    for text in sample_texts(texts, n_texts, seed):
        if vocab.encode(text, max_len).ids:
            out.append(trace(model, vocab, text, max_len))
    return out


def collect_states(model: SentimentRNN, vocab: Vocab, texts: Sequence[str], n_texts: int = 300, seed: int = 0,
                   max_len: int = MAX_LEN, state: str = "h") -> np.ndarray:
    """Every hidden state (state="h", or the LSTM cell state "c") after every token of a seeded sample of texts,
    stacked into an (N, hidden) matrix, via rnn_core.trace.trace."""
    traces = collect_traces(model, vocab, texts, n_texts, seed, max_len)
    if not traces:
        raise InputError("no_known_tokens")
    return np.concatenate([states_of(tr, state) for tr in traces])


def states_of(tr: Trace, state: str = "h") -> np.ndarray:
    """The trace's hidden states ("h") or, for an LSTM, its cell states ("c"), shape (T, hidden)."""
    if state == "h":
        return tr.h
    if state == "c" and tr.c is not None:
        return tr.c
    raise InputError("bad_state", state=repr(state))


def fit_model_pca(model: SentimentRNN, vocab: Vocab, texts: Sequence[str], n_texts: int = 300, seed: int = 0,
                  max_len: int = MAX_LEN, state: str = "h") -> dict:
    """fit_pca on collect_states, with what it was fitted on recorded (for the page's caption and for storage)."""
    H = collect_states(model, vocab, texts, n_texts, seed, max_len, state)
    pca = fit_pca(H)
    pca["fitted_on"] = {"n_texts": min(n_texts, len(texts)), "n_states": int(len(H)), "seed": seed,
                        "state": state, "cell": model.cell}
    return pca


def memory_path(tr: Trace, pca: dict, state: str = "h") -> dict:
    """One sentence's path in the PCA plane: {"tokens", "xy" (T,2), "prefix_p" (T,), "label", "p"}."""
    return {"tokens": list(tr.tokens), "xy": project(pca, states_of(tr, state)), "prefix_p": np.asarray(tr.prefix_p),
            "label": tr.label, "p": tr.p}


def pca_to_json(pca: dict) -> str:
    return json.dumps(pca_to_dict(pca))


def pca_from_json(s: str) -> dict:
    try:
        d = json.loads(s)
    except json.JSONDecodeError as e:
        raise ValueError(f"PCA JSON is not valid JSON ({e})") from None
    return pca_from_dict(d)
