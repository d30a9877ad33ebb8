"""Hard limits on everything a bundle, an upload or a training run may ask for, checked *before* anything is
allocated. One home, so the loader, the trainer and the app agree (a model the Train page can make always loads).

The shipped models are inside them: vocabulary 25,000, embedding 100, hidden 128, max_len 50, ~11 MB.
"""
from __future__ import annotations

import os

from . import cells

MAX_VOCAB = 60_000  # tokens; the English corpus has ~20k words seen twice
MAX_EMB_DIM = 512
MAX_HIDDEN_DIM = 512
MAX_LEN_CAP = 200  # tokens read per sentence; figures and analyses grow with it (B7: 10**9 made an 11 MB figure)
MAX_PARAMS = 4_000_000  # 16 MB of float32 weights: room for every model the Train page can make
MAX_EPOCHS = 10_000  # a run is capped in time anyway; tests train "for ever" and stop it
MAX_BATCH = 4096

# Files of a bundle, in bytes (what may be read or inflated, whatever a zip header declares).
MAX_FILE_BYTES = {"config.json": 64 * 1024, "metrics.json": 512 * 1024, "vocab.json": 4 * 1024 * 1024,
                  "weights.safetensors": MAX_PARAMS * 4 + 64 * 1024, "pca.json": 2 * 1024 * 1024,
                  "neurons.json": 2 * 1024 * 1024}
MAX_ZIP_BYTES = 24 * 1024 * 1024  # everything inflated from one upload, counted while streaming
MAX_ZIP_ENTRIES = 64  # a bundle zip has at most 7 files and a folder

MAX_CSV_UPLOAD_MB = 5  # a CSV uploaded on the Train page (the server's upload limit is higher: it lets bundles in)

# Models a session keeps (trained or uploaded): freed when the session ends (app_pages/sessions.py).
MAX_SESSION_MODELS = 3
MAX_SESSION_BYTES = 28 * 1024 * 1024  # two models of the shipped size (13.5 MB in memory, 25k-word vocabularies)
# ... and all sessions together, the memory budget of one server (README, "Memory budget"): at most this much of
# them unpacked in memory at once (64 MB of Bundle.nbytes: four shipped-size models, ~80 MB of RSS); the others wait
# as zips on disk, at most MAX_SERVER_STORE_BYTES of them, past which a new one is refused with a clear message.
MAX_SERVER_SESSION_BYTES = int(os.environ.get("RNN_LENS_SESSION_MODELS_MB", 64)) * 1024 * 1024
MAX_SERVER_STORE_BYTES = int(os.environ.get("RNN_LENS_SESSION_STORE_MB", 512)) * 1024 * 1024  # ~70 shipped zips


def n_params(cell: str, vocab_size: int, emb_dim: int, hidden_dim: int) -> int:
    """The parameter count of SentimentRNN for these sizes, computed without building it (an unknown cell counts as
    the largest registered one)."""
    blocks = cells.CELLS[cell].blocks if cell in cells.CELLS else max(c.blocks for c in cells.CELLS.values())
    return vocab_size * emb_dim + blocks * hidden_dim * (emb_dim + hidden_dim + 2) + hidden_dim + 1


def size_problems(cell: str, vocab_size: int, emb_dim: int, hidden_dim: int, max_len: int) -> list[tuple]:
    """What is over a limit, as (field, value, limit) (empty when all is within); "parameters" for the total."""
    out = [(name, value, cap) for name, value, cap in (
        ("vocab_size", vocab_size, MAX_VOCAB), ("emb_dim", emb_dim, MAX_EMB_DIM),
        ("hidden_dim", hidden_dim, MAX_HIDDEN_DIM), ("max_len", max_len, MAX_LEN_CAP)) if value > cap]
    if not out and n_params(cell, vocab_size, emb_dim, hidden_dim) > MAX_PARAMS:
        out.append(("parameters", n_params(cell, vocab_size, emb_dim, hidden_dim), MAX_PARAMS))
    return out
