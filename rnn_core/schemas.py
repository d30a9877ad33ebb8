"""The stored forms of the two optional bundle files, pca.json and neurons.json: their writers' formats and the
validators the loader runs on them. Storage (bundle.py) and analysis (explain/) both import this module, and it
imports neither, so they no longer import each other.

An uploaded .zip may carry anything, so a validator accepts only what the pages can show: the right types, finite
numbers, and no free text except tokens (which the pages escape). Anything else raises ValueError.
"""
from __future__ import annotations

import math

import numpy as np

PCA_FORMAT = "rnn-lens-pca/1"
INDEX_FORMAT = "rnn-lens-neurons/1"
SIGNS = ("pos", "neg")
# fitted_on is shown in a caption: only these keys, each of its type, are kept.
_FITTED_ON = {"n_texts": int, "n_states": int, "seed": int, "state": str, "cell": str}


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def pca_to_dict(pca: dict) -> dict:
    """A JSON-ready dict (lists of floats): 2 × hidden + hidden + 2 numbers, a few KB for 128 units."""
    d = {"format": PCA_FORMAT, "mean": np.asarray(pca["mean"]).tolist(),
         "components": np.asarray(pca["components"]).tolist(),
         "explained_variance_ratio": np.asarray(pca["explained_variance_ratio"]).tolist()}
    if "fitted_on" in pca:
        d["fitted_on"] = pca["fitted_on"]
    return d


def pca_from_dict(d) -> dict:
    """Inverse of pca_to_dict: {"mean", "components", "explained_variance_ratio"} as arrays, plus a sanitised
    "fitted_on"; raises ValueError on anything that is not a consistent PCA dict."""
    if not isinstance(d, dict) or d.get("format") != PCA_FORMAT:
        raise ValueError(f"a stored PCA must be an object with format {PCA_FORMAT!r}")
    try:
        mean = np.asarray(d["mean"], dtype=np.float64)
        comps = np.asarray(d["components"], dtype=np.float64)
        ratio = np.asarray(d["explained_variance_ratio"], dtype=np.float64)
    except (KeyError, TypeError, ValueError, OverflowError) as e:
        raise ValueError(f"a stored PCA is missing or has malformed arrays ({type(e).__name__})") from None
    if mean.ndim != 1 or comps.ndim != 2 or comps.shape[1] != len(mean) or ratio.shape != (len(comps),):
        raise ValueError("a stored PCA has arrays of inconsistent shapes")
    if not (np.isfinite(mean).all() and np.isfinite(comps).all() and np.isfinite(ratio).all()):
        raise ValueError("a stored PCA contains NaN or infinite values")
    out = {"mean": mean, "components": comps, "explained_variance_ratio": ratio}
    fit = d.get("fitted_on")
    if isinstance(fit, dict):
        out["fitted_on"] = {k: fit[k] for k, typ in _FITTED_ON.items()
                            if k in fit and (_is_int(fit[k]) if typ is int else isinstance(fit[k], str)
                                             and len(fit[k]) <= 16 and fit[k].isalnum())}
    return out


def _check_context(c) -> None:
    ok = (isinstance(c, dict) and isinstance(c.get("word"), str) and _is_number(c.get("activation"))
          and all(isinstance(c.get(side), list) and all(isinstance(w, str) for w in c[side])
                  for side in ("left", "right"))
          and ("t" not in c or _is_int(c["t"])))
    if not ok:
        raise ValueError("every context needs a 'word', 'left' and 'right' lists of words, and a numeric "
                         "'activation'")


def index_from_dict(d) -> dict:
    """`d` itself if it is a neuron index the inspector can show (the bundle loader checks uploads with it);
    raises ValueError otherwise."""
    if not isinstance(d, dict) or d.get("format") != INDEX_FORMAT:
        raise ValueError(f"neuron index must be an object with format {INDEX_FORMAT!r}")
    units = d.get("units")
    if not _is_int(d.get("n_units")) or not isinstance(units, list) or len(units) != d["n_units"]:
        raise ValueError("neuron index must list one entry per unit")
    for u in units:
        if not isinstance(u, dict) or not all(isinstance(u.get(s), list) for s in SIGNS):
            raise ValueError("every unit needs 'pos' and 'neg' lists")
        for c in u["pos"] + u["neg"]:
            _check_context(c)
    return d
