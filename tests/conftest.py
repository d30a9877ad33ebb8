"""Shared fixtures: tiny bundles built on the fly, so the core's tests need no shipped model."""
import hashlib
import json
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bench  # noqa: E402
from rnn_core.bundle import save_bundle  # noqa: E402
from rnn_core.model import SentimentRNN  # noqa: E402
from rnn_core.text import Vocab  # noqa: E402

WORDS = ["good", "great", "fun", "bad", "awful", "boring", "movie", "the", "not", "это", "отличный", "фильм"]


def make_bundle(path: Path, cell: str = "lstm", seed: int = 0, hidden: int = 16, emb: int = 8,
                extras: bool = False) -> Path:
    """A bundle with random weights over WORDS; `extras` adds a PCA and neuron index built from made-up sentences."""
    torch.manual_seed(seed)
    vocab = Vocab(["<pad>", "<unk>"] + WORDS)
    model = SentimentRNN(len(vocab), cell, emb, hidden)
    metrics = {"name": path.name, "lang": "en", "cell": cell, "test_accuracy": 0.5, "note": "random weights (test)"}
    built = None
    if extras:
        from rnn_core.explain.extras import build_extras

        gen = torch.Generator().manual_seed(seed)
        texts = [" ".join(WORDS[i] for i in torch.randint(0, len(WORDS), (6,), generator=gen).tolist())
                 for _ in range(60)]
        built = build_extras(model, vocab, texts, n_pca=60, n_index=60)
    return save_bundle(path, model, vocab, {"name": path.name, "lang": "en", "max_len": 50}, metrics, built)


def scaled_model(cell: str, seed: int = 0, vocab: int = 30, emb: int = 8, hidden: int = 16, scale: float = 2.0):
    """A random SentimentRNN in eval mode whose recurrent weights are `scale`× PyTorch's: larger than default so tanh
    and the gates bend (a nearly linear model would hide mistakes in hand-written maths)."""
    torch.manual_seed(seed)
    m = SentimentRNN(vocab, cell, emb, hidden).eval()
    with torch.no_grad():
        for p in m.rnn.parameters():
            p.mul_(scale)
    return m


APP = str(bench.APP)


class Evil:
    """Pickles to a call that would leave a file named PWNED in the working directory: loading must never run it."""

    def __reduce__(self):
        return (exec, ("open('PWNED', 'w').write('x')",))


def resign(folder: Path, fname: str) -> None:
    """Fix the checksum of `fname` in config.json, as an attacker who edits the folder would."""
    cfg = json.loads((folder / "config.json").read_text())
    cfg["files"][fname] = hashlib.sha256((folder / fname).read_bytes()).hexdigest()
    (folder / "config.json").write_text(json.dumps(cfg))


@pytest.fixture(scope="session")
def models_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    for lang in ("en", "ru"):
        for i, cell in enumerate(("rnn", "lstm", "gru")):
            make_bundle(root / f"{lang}-{cell}", cell=cell, seed=i, extras=True)
    return root


@pytest.fixture
def app(models_root, monkeypatch):
    monkeypatch.setenv("RNN_LENS_MODELS", str(models_root))

    def make(page: str | None = "memory", **params):
        """The app at `page` (app_pages/<page>.py; None: the app's own default page, the lesson)."""
        from streamlit.testing.v1 import AppTest

        at = AppTest.from_file(APP, default_timeout=60)
        for k, v in params.items():
            at.query_params[k] = v
        if page is not None:
            at.switch_page(f"app_pages/{page}.py")
        return at.run()

    return make


@pytest.fixture(autouse=True)
def fresh_streamlit_caches():
    """Every test starts with empty st.cache_resource / st.cache_data and no session models: the app's caches are
    process-wide, so without this a test would see models and traces another test left behind."""
    import streamlit as st

    st.cache_resource.clear()
    st.cache_data.clear()
    yield
    # Sessions' own models are server-wide too (app_pages/sessions.py, capped in all): AppTest sessions never
    # disconnect, so what one test uploaded would count against the next one's budget.
    from app_pages import sessions

    for sid in list(sessions._models):
        sessions.release(sid)


@pytest.fixture
def tiny_bundle(tmp_path):
    return make_bundle(tmp_path / "tiny-lstm")
