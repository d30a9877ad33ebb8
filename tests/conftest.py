"""Shared fixtures: tiny bundles built on the fly, so the core's tests need no shipped model."""
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rnn_core.bundle import save_bundle  # noqa: E402
from rnn_core.model import SentimentRNN  # noqa: E402
from rnn_core.text import Vocab  # noqa: E402

WORDS = ["good", "great", "fun", "bad", "awful", "boring", "movie", "the", "not", "это", "отличный", "фильм"]


def make_bundle(path: Path, cell: str = "lstm", seed: int = 0, hidden: int = 16, emb: int = 8) -> Path:
    torch.manual_seed(seed)
    vocab = Vocab(["<pad>", "<unk>"] + WORDS)
    model = SentimentRNN(len(vocab), cell, emb, hidden)
    metrics = {"name": path.name, "lang": "en", "cell": cell, "test_accuracy": 0.5, "note": "random weights (test)"}
    return save_bundle(path, model, vocab, {"name": path.name, "lang": "en", "max_len": 50}, metrics)


@pytest.fixture
def tiny_bundle(tmp_path):
    return make_bundle(tmp_path / "tiny-lstm")
