"""rnn_core: the engine of RNN Lens. Text → ids → SentimentRNN → Trace → figures. Never imports streamlit.

The names below are loaded on first use (PEP 562), so `import rnn_core` — and `rnn-lens --help` — do not pay for
torch until something needs it.
"""
from importlib import import_module

_EXPORTS = {
    "Bundle": "bundle", "load_model": "bundle",
    "BundleError": "errors", "InputError": "errors", "RnnLensError": "errors",
    "CELLS": "model", "SentimentRNN": "model",
    "MAX_LEN": "text", "Vocab": "text", "detect_lang": "text", "tokenize": "text",
    "Trace": "trace",  # the function trace() is rnn_core.trace.trace: the package attribute `trace` is its module
}
__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'rnn_core' has no attribute {name!r}")
