"""Which words moved the prediction: Integrated Gradients (Captum) on the embedding layer, and occlusion as a check.

Baseline. IG needs a "no information" input to walk from. We use a sentence of the same length made of <pad> ids:
the embedding's padding row is zero (padding_idx keeps it zero through training), so the baseline is the model
reading T zero vectors, the closest thing to "no words" that keeps the length. <unk> would not do: its vector is
trained and carries the meaning "some rare word".

Target. Attributions explain the output *logit* by default: it is what the linear head produces, it is additive,
and it does not saturate, whereas near p = 0 or 1 the probability hardly moves whatever the words do. "probability"
is offered too. Completeness (the attributions sum to f(x) - f(baseline)) holds for both, up to the integral's
numerical error, which Captum returns as the convergence delta.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ..errors import InputError
from ..model import SentimentRNN, pad_batch

TARGETS = ("logit", "probability")
BASELINES = ("pad", "unk")
N_STEPS = 64  # Gauss-Legendre points (Captum's default rule)
MAX_STEPS = 512  # tried once when N_STEPS does not converge: a saturated (chaotic) net needs a finer integral
TOLERANCE = 0.01  # completeness holds when |delta| <= TOLERANCE * max(1, |f(x) - f(baseline)|)
PAD_ID, UNK_ID = 0, 1  # fixed by Vocab


def _output(model: SentimentRNN, ids: torch.Tensor, lengths: torch.Tensor, target: str) -> torch.Tensor:
    logit = model(ids, lengths)
    return logit if target == "logit" else torch.sigmoid(logit)


def _check(ids, target: str) -> torch.Tensor:
    if target not in TARGETS:
        raise ValueError(f"target must be one of {TARGETS}")
    ids = torch.as_tensor(ids, dtype=torch.long).reshape(1, -1)
    if ids.shape[1] == 0:
        raise InputError("no_tokens")
    return ids


def word_importance(model: SentimentRNN, ids: Sequence[int], tokens: Sequence[str] | None = None,
                    target: str = "logit", baseline: str = "pad", n_steps: int = N_STEPS,
                    max_steps: int = MAX_STEPS) -> dict:
    """Integrated Gradients of the output w.r.t. the embedding layer, summed over embedding dimensions per token.

    `ids`/`tokens` are usually a Trace's. Returns {"tokens", "ids", "attributions" (T,) numpy, "f_x",
    "f_baseline", "delta" (sum of attributions - (f_x - f_baseline)), "converged" (|delta| within TOLERANCE),
    "target", "baseline", "n_steps"}. A positive attribution pushed the output towards "positive". When `n_steps`
    points do not converge, the integral is redone once with `max_steps`; if it still does not, "converged" is
    False and the page should say the attributions are approximate.
    """
    from captum.attr import LayerIntegratedGradients  # imported here: only this page needs captum

    if baseline not in BASELINES:
        raise ValueError(f"baseline must be one of {BASELINES}")
    x = _check(ids, target)
    T = x.shape[1]
    base = torch.full_like(x, PAD_ID if baseline == "pad" else UNK_ID)

    # Captum stacks the interpolation points along the batch axis; every row has the sentence's full length.
    def forward(batch_ids):
        return _output(model, batch_ids, torch.full((len(batch_ids),), T, dtype=torch.long), target)

    was_training = model.training
    model.eval()
    try:
        lig = LayerIntegratedGradients(forward, model.embedding)
        with torch.no_grad():
            f_x, f_b = float(forward(x)[0]), float(forward(base)[0])
        tol = TOLERANCE * max(1.0, abs(f_x - f_b))
        for steps in dict.fromkeys((n_steps, max(n_steps, max_steps))):  # n_steps, then max_steps if different
            attr, delta = lig.attribute(x, baselines=base, n_steps=steps, internal_batch_size=128,
                                        return_convergence_delta=True)
            if abs(float(delta[0])) <= tol:
                break
    finally:
        model.train(was_training)
    return {"tokens": list(tokens) if tokens is not None else None, "ids": x[0].tolist(),
            "attributions": attr[0].sum(-1).detach().numpy().astype(np.float64), "f_x": f_x, "f_baseline": f_b,
            "delta": float(delta[0]), "converged": abs(float(delta[0])) <= tol, "target": target,
            "baseline": baseline, "n_steps": steps}


@torch.no_grad()
def occlusion(model: SentimentRNN, ids: Sequence[int], tokens: Sequence[str] | None = None,
              target: str = "logit", replace_with: str = "unk") -> dict:
    """For each token t: f(sentence) - f(sentence with token t replaced), the definition of occlusion importance.

    `replace_with` is "unk" (an unknown word), "pad" (a zero vector, like the IG baseline) or "remove" (drop the
    token; a one-token sentence then becomes the empty input, whose output is the head applied to h_0 = 0).
    Returns {"tokens", "ids", "drop" (T,) numpy, "f_x", "target", "replace_with"}. Positive drop: the word helped
    the "positive" side.
    """
    if replace_with not in ("unk", "pad", "remove"):
        raise ValueError("replace_with must be 'unk', 'pad' or 'remove'")
    x = _check(ids, target)[0].tolist()
    was_training = model.training
    model.eval()
    try:
        full = _output(model, *pad_batch([x]), target)[0]
        if replace_with == "remove":
            variants = [x[:t] + x[t + 1:] for t in range(len(x))]
            if len(x) == 1:  # nothing left to read: the classifier sees the initial state
                empty = model.fc(torch.zeros(model.hidden_dim))
                out = empty if target == "logit" else torch.sigmoid(empty)
            else:
                out = _output(model, *pad_batch(variants), target)
        else:
            fill = PAD_ID if replace_with == "pad" else UNK_ID
            variants = [x[:t] + [fill] + x[t + 1:] for t in range(len(x))]
            out = _output(model, *pad_batch(variants), target)
    finally:
        model.train(was_training)
    return {"tokens": list(tokens) if tokens is not None else None, "ids": x,
            "drop": (full - out).numpy().astype(np.float64), "f_x": float(full), "target": target,
            "replace_with": replace_with}
