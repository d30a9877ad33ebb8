"""python -m bench: how fast and how big RNN Lens is on this machine (issue #7).

A measurement, not a test: it prints what it measured next to the targets and always exits 0. The parts:

    core     trace (step by step, what the views read) vs the fused batched forward, per cell, 50 tokens
    figure   bytes of the main heatmap animation vs the raw matrices it shows
    rerun    one full AppTest rerun of the main page                               (apptest.py)
    cold     a real server and a real Chromium: a first visitor, app vs bench/minimal_app.py  (browser.py)
    rss      server memory with all six models loaded                              (browser.py)
    --load N instead of the above: N concurrent browser sessions, then again while a model trains  (browser.py)

The trained models in assets/models (or $RNN_LENS_MODELS) are used when all six exist; otherwise random bundles
of the seed's sizes stand in, and the output says which. This module holds the pure helpers (no streamlit, no
browser), so tests/test_bench.py can run them on tiny models.
"""
from __future__ import annotations

import os
import platform
import statistics
import subprocess
import time
from pathlib import Path

import numpy as np
import torch

from rnn_core.bundle import Bundle, load_model, models_dir, save_bundle
from rnn_core.model import CELLS, SentimentRNN, pad_batch
from rnn_core.text import PAD, UNK, Vocab
from rnn_core.trace import trace

REPO = Path(__file__).resolve().parent.parent
APP = REPO / "app.py"
MINIMAL_APP = REPO / "bench" / "minimal_app.py"
SHIPPED = [f"{lang}-{cell}" for lang in ("en", "ru") for cell in CELLS]

# Exactly 50 tokens (checked in tests), mostly words any English vocabulary knows, so the trace does real work on
# real ids rather than on a run of <unk>.
SENTENCE_50 = ("the acting is good , but the plot is not good at all and the ending was boring ; still , the music "
               "is great , the cast is fun and i would not call it a bad movie , just a long film that never really "
               "works at all")
RU_SENTENCE = "это отличный фильм , но конец очень скучный"

# (key, target, direction): a PASS needs value <= target (all our targets are upper bounds).
TARGETS = {"trace_fused_ratio": 20.0, "rerun_ms_p95": 60.0, "figure_raw_ratio": 1.5, "figure_raw_ratio_app": 1.5,
           "cold_start_ratio": 1.3, "rss_mb": 500.0}
REQUIRED_KEYS = ("machine", "models", "trace_ms_p50", "fused_ms_p50", "trace_fused_ratio", "rerun_ms_p50",
                 "rerun_ms_p95", "figure_bytes", "raw_matrix_bytes", "figure_raw_ratio", "figure_bytes_app",
                 "raw_matrix_bytes_app", "figure_raw_ratio_app", "cold_start_s", "cold_start_minimal_s",
                 "cold_start_ratio", "rss_mb", "targets", "passed")


def pct(xs, q: float) -> float:
    """The q-th percentile (numpy's linear interpolation); q=50 is the median."""
    return float(np.percentile(np.asarray(xs, dtype=float), q))


def time_ms(fn, runs: int, warmup: int) -> list[float]:
    """Wall-clock milliseconds of `runs` calls of fn(), after `warmup` calls that are thrown away (first calls pay
    for allocator growth and lazy initialisation, which no later user request sees)."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


# -- models ------------------------------------------------------------------------------------------------------

EN_WORDS = ("the a an and but or not no is was are be it this that i you he she they we of to in on at for with "
            "as by from so very too just still never all some more most good great fun funny best love loved "
            "wonderful beautiful clever moving touching lovely bad awful terrible boring dull worst weak mess "
            "predictable long short movie film plot story acting cast music script ending sequel year minute "
            "call would works could every one really").split()
RU_WORDS = ("это не но и очень фильм отличный хороший плохой скучный ужасный скучно ужасно конец музыка актер "
            "история сюжет слабый интересно смотреть время год худший прекрасный замечательный всем советовать "
            "рекомендовать понравиться мне игра тратить").split()


def seed_vocab(lang: str, size: int, lemmatize: bool) -> Vocab:
    """A vocabulary of the seed's size: real words first, then filler that no sentence uses."""
    words = list(dict.fromkeys(EN_WORDS + [",", ".", ";", "!"] + (RU_WORDS if lang == "ru" else [])))
    words += [f"w{i}" for i in range(max(size - 2 - len(words), 0))]
    return Vocab([PAD, UNK] + words[: size - 2], lemmatize=lemmatize)


def make_seed_models(root: Path, vocab_size: int = 10_000, emb: int = 100, hidden: int = 128) -> Path:
    """Six random bundles of the seed's sizes under root, named like the shipped ones. Speed and memory depend on
    the sizes, not on what the weights learned, so these stand in until the trained models exist."""
    from rnn_core.recipes import SHIPPED as RECIPES  # lemmatize and max_len as the shipped recipe says

    for i, name in enumerate(SHIPPED):
        lang, cell = name.split("-")
        recipe = RECIPES[name]
        torch.manual_seed(i)
        vocab = seed_vocab(lang, vocab_size, recipe.lemmatize)
        model = SentimentRNN(len(vocab), cell, emb, hidden)
        metrics = {"name": name, "lang": lang, "cell": cell, "test_accuracy": None, "note": "random weights (bench)"}
        save_bundle(root / name, model, vocab, {"name": name, "lang": lang, "max_len": recipe.max_len}, metrics)
    return root


def shipped_available() -> bool:
    return all((models_dir() / name / "config.json").is_file() for name in SHIPPED)


def describe_models(source: str) -> dict:
    """Which bundles the numbers are for: shipped (trained) or seed (random, seed-sized)."""
    rows = {}
    for name in SHIPPED:
        b = load_model(name)
        rows[name] = {"cell": b.cell, "vocab_size": len(b.vocab), "emb_dim": b.model.embedding.embedding_dim,
                      "hidden_dim": b.model.hidden_dim, "lemmatize": b.vocab.lemmatize,
                      "test_accuracy": b.metrics.get("test_accuracy")}
    return {"source": source, "dir": str(models_dir()), "bundles": rows}


# -- core: trace vs fused, figure bytes ----------------------------------------------------------------------------

def measure_core(bundles: dict[str, Bundle], text: str = SENTENCE_50, runs: int = 200, warmup: int = 20) -> dict:
    """Median ms of trace() and of the fused batched forward for one sentence, per cell ({cell: Bundle}).

    The two calls alternate within one loop: on a shared machine the load drifts, and alternating makes the drift
    hit both sides of the ratio alike (timed one after the other, a burst of load can land on one side only)."""
    out = {"trace_ms_p50": {}, "fused_ms_p50": {}, "trace_fused_ratio": {}, "tokens": {}}
    for cell, b in bundles.items():
        ids = b.vocab.encode(text, b.max_len).ids
        batch = pad_batch([ids])
        tr, fu = [], []
        for i in range(warmup + runs):
            t0 = time.perf_counter()
            trace(b.model, b.vocab, text, b.max_len)
            t1 = time.perf_counter()
            b.model.predict_proba(*batch)
            t2 = time.perf_counter()
            if i >= warmup:
                tr.append((t1 - t0) * 1000)
                fu.append((t2 - t1) * 1000)
        out["trace_ms_p50"][cell] = statistics.median(tr)
        out["fused_ms_p50"][cell] = statistics.median(fu)
        out["trace_fused_ratio"][cell] = out["trace_ms_p50"][cell] / out["fused_ms_p50"][cell]
        out["tokens"][cell] = len(ids)
    return out


def figure_json(fig: dict) -> str:
    """The figure as compact JSON, the way it goes over the wire (no spaces)."""
    import json

    return json.dumps(fig, separators=(",", ":"), ensure_ascii=False)


def measure_figure(bundles: dict[str, Bundle], text: str = SENTENCE_50) -> dict:
    """Bytes (UTF-8) of memory_animation as compact JSON vs raw_matrix_bytes, per cell."""
    from rnn_core.figures.memory import memory_animation, raw_matrix_bytes

    out = {"figure_bytes": {}, "raw_matrix_bytes": {}, "figure_raw_ratio": {}}
    for cell, b in bundles.items():
        tr = trace(b.model, b.vocab, text, b.max_len)
        out["figure_bytes"][cell] = len(figure_json(memory_animation(tr)).encode())
        out["raw_matrix_bytes"][cell] = raw_matrix_bytes(tr)
        out["figure_raw_ratio"][cell] = out["figure_bytes"][cell] / out["raw_matrix_bytes"][cell]
    return out


# -- the machine ---------------------------------------------------------------------------------------------------

def machine_info() -> dict:
    """Cores, load and versions: timings on a shared machine mean little without them."""
    import plotly

    try:
        uptime = subprocess.run(["uptime"], capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        uptime = None
    try:
        import streamlit  # only its version string: importing it here is fine, this is the bench, not the core
        st_version = streamlit.__version__
    except ImportError:
        st_version = None
    return {"cores": os.cpu_count(), "loadavg": [round(x, 2) for x in os.getloadavg()], "uptime": uptime,
            "python": platform.python_version(), "torch": torch.__version__, "torch_threads": torch.get_num_threads(),
            "streamlit": st_version, "plotly": plotly.__version__}
