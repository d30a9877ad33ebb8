"""Backpropagation through time, measured on a sentence: the Jacobian product ∂h_T/∂h_t, its one-step factors, the
same for an untrained copy of the network, and per-step gradient norms of the loss. The gradient lab's experiments
(long-range memory, exploding gradients) live in experiments.py.

Every derivative with respect to a hidden state comes from trace.unroll with a zero `probe` added to each h_t, so the
cells' equations live in one place (the tests hold the result to autograd on PyTorch's fused modules).
"""
from __future__ import annotations

import contextlib
from collections.abc import Sequence

import numpy as np
import torch
from torch.nn import functional as F

from .. import cells as registry
from ..errors import InputError
from ..model import SentimentRNN
from ..trace import unroll
from .lab_defaults import LONG_SENTENCE

OBJECTIVES = ("loss", "logit")


@contextlib.contextmanager
def _limited(num_threads: int | None, seed: int):
    """Cap torch's threads and seed a private copy of the global RNG; both are restored on exit, so an experiment
    neither slows its neighbours down nor changes anyone else's random numbers."""
    before = torch.get_num_threads()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if num_threads:
            torch.set_num_threads(num_threads)
        try:
            yield
        finally:
            torch.set_num_threads(before)


@contextlib.contextmanager
def _eval(model: SentimentRNN):
    was_training = model.training
    model.eval()
    try:
        with torch.enable_grad():
            yield
    finally:
        model.train(was_training)


def _as_ids(ids) -> torch.Tensor:
    ids = torch.as_tensor(ids, dtype=torch.long).reshape(-1)
    if len(ids) == 0:
        raise InputError("no_tokens")
    return ids


# ---------------------------------------------------------------------------------------------------------------
# On a sentence: the Jacobian product the vanishing-gradient argument is about.

def state_jacobians(model: SentimentRNN, ids) -> torch.Tensor:
    """J[t] = ∂h_T/∂h_t, shape (T, H, H), through the cell's own recurrence (trace.unroll).

    For the plain RNN this is the product Π_{k=t+1..T} diag(tanh′(a_k))·W_hh. For the LSTM the nudge goes to h_t
    with c_t as it was: it still reaches h_T along every later path, including the cell state's highway
    c_{t+1} → … → c_T, but the highway's own start c_t is not perturbed. J[T-1] is the identity."""
    ids = _as_ids(ids)
    T, H = len(ids), model.hidden_dim
    with _eval(model):
        probe = torch.zeros(T, H, requires_grad=True)
        h_last = unroll(model, ids, probe)["h"][-1]
        # One batched backward pass per output unit i gives row i of every J[t] at once.
        (rows,) = torch.autograd.grad(h_last, probe, grad_outputs=torch.eye(H), is_grads_batched=True)
    return rows.permute(1, 0, 2).detach()  # (H, T, H) → (T, H, H)


def jacobian_norms(model: SentimentRNN, ids) -> np.ndarray:
    """‖∂h_T/∂h_t‖₂ (largest singular value: the most that any nudge of h_t can grow or shrink by step T) for
    t = 0..T-1; the last entry is 1."""
    return torch.linalg.matrix_norm(state_jacobians(model, ids), ord=2).numpy().astype(np.float64)


def step_factors(model: SentimentRNN, ids) -> np.ndarray:
    """‖∂h_k/∂h_{k-1}‖₂ for k = 1..T-1: the one-step factors whose product bounds ‖∂h_T/∂h_t‖ from above
    (the norm of a product is at most the product of the norms). For the plain RNN: ‖diag(tanh′(a_k))·W_hh‖₂."""
    ids = _as_ids(ids)
    T, H = len(ids), model.hidden_dim
    out = []
    with _eval(model):
        probe = torch.zeros(T, H, requires_grad=True)
        h = unroll(model, ids, probe)["h"]
        for k in range(1, T):
            (rows,) = torch.autograd.grad(h[k], probe, grad_outputs=torch.eye(H), is_grads_batched=True,
                                          retain_graph=True)
            out.append(float(torch.linalg.matrix_norm(rows[:, k - 1], ord=2)))
    return np.array(out, dtype=np.float64)


def recurrent_matrix_stats(model: SentimentRNN) -> dict:
    """W_hh's spectral norm ‖W_hh‖₂ and, when W_hh is square (the plain RNN), its spectral radius ρ (largest
    |eigenvalue|). A gated cell's W_hh stacks one block per gate, so no single radius describes it (None)."""
    w = model.rnn.weight_hh_l0.detach()
    radius = float(torch.linalg.eigvals(w).abs().max()) if w.shape[0] == w.shape[1] else None
    return {"spectral_norm": float(torch.linalg.matrix_norm(w, ord=2)), "spectral_radius": radius}


def untrained_like(model: SentimentRNN, seed: int = 0) -> SentimentRNN:
    """The same network before training: a recurrent layer fresh from PyTorch's initialisation (seeded), reading the
    trained model's word vectors through the trained head, so the comparison isolates the recurrent weights."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        fresh = SentimentRNN(model.embedding.num_embeddings, model.cell, model.embedding.embedding_dim,
                             model.hidden_dim)
    fresh.embedding.load_state_dict(model.embedding.state_dict())
    fresh.fc.load_state_dict(model.fc.state_dict())
    return fresh.eval()


def repeat_to(ids: Sequence[int], n: int = LONG_SENTENCE) -> list[int]:
    """The sentence repeated until it has `n` tokens (cut at n): a long input made of the user's own words."""
    ids = list(ids)
    if not ids:
        raise InputError("no_tokens")
    return (ids * (n // len(ids) + 1))[:n]


def _curve(norms: np.ndarray) -> dict:
    """A Jacobian-norm curve with the two numbers a caption quotes: the norm at the first word and the geometric
    mean factor per step, (‖∂h_T/∂h_1‖)^(1/(T-1))."""
    first = float(norms[0])
    per_step = first ** (1 / (len(norms) - 1)) if len(norms) > 1 and first > 0 else float("nan")
    return {"norms": norms, "distance": np.arange(len(norms) - 1, -1, -1), "first": first, "per_step": per_step}


def sentence_jacobians(model: SentimentRNN, ids, long_len: int = LONG_SENTENCE, seed: int = 0) -> dict:
    """What the gradient lab shows for one model and one sentence: ‖∂h_T/∂h_t‖ on the sentence ("short") and on
    the sentence repeated to `long_len` tokens ("long"), for the trained model and for untrained_like(model, seed);
    the one-step factors on the sentence; W_hh's norm and radius for both.

    {"cell", "n_short", "n_long", "seed", "cell_state" (the state has a c besides h),
     "trained"/"untrained": {"short": curve, "long": curve, "factors", "w_hh"}}
    where a curve is {"norms", "distance", "first", "per_step"}."""
    short = _as_ids(ids).tolist()
    long = repeat_to(short, long_len)
    cell_state = registry.get(model.cell).has_cell_state  # state (h, c): the product of h→h factors bounds nothing
    out = {"cell": model.cell, "n_short": len(short), "n_long": len(long), "seed": seed, "cell_state": cell_state}
    for name, m in (("trained", model), ("untrained", untrained_like(model, seed))):
        out[name] = {"short": _curve(jacobian_norms(m, short)), "long": _curve(jacobian_norms(m, long)),
                     "factors": step_factors(m, short), "w_hh": recurrent_matrix_stats(m)}
    return out


def step_gradient_norms(model: SentimentRNN, ids, target: int | None = None, objective: str = "loss") -> dict:
    """How strongly each step of one sentence is reached by the gradient of the loss (or of the logit).

    objective "loss": L = BCE(sigmoid(logit), target), target defaulting to the model's own predicted label;
    objective "logit": L = the output logit itself. Returns numpy arrays indexed by step t = 0..T-1:
        h_grad_norm  ‖∂L/∂h_t‖ = ‖∂L/∂h_T · ∂h_T/∂h_t‖ (c_t held fixed for an LSTM, as in state_jacobians)
        x_grad_norm  ‖∂L/∂x_t‖ w.r.t. the input embedding of token t
        distance     T-1-t, the number of steps between token t and the output
    plus "logit", "p", "loss" (NaN for the logit objective), "target", "objective" and "cell".
    """
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {OBJECTIVES}")
    ids = _as_ids(ids)
    emb_grad = model.embedding.weight.requires_grad
    model.embedding.weight.requires_grad_(True)  # so ∂L/∂x exists even for a frozen embedding table
    try:
        with _eval(model):
            probe = torch.zeros(len(ids), model.hidden_dim, requires_grad=True)
            out = unroll(model, ids, probe)
            logit = model.fc(out["h"][-1]).squeeze(-1)
            if target is None:
                target = int(logit.item() >= 0)
            loss = F.binary_cross_entropy_with_logits(logit, torch.tensor(float(target)))
            g_h, g_x = torch.autograd.grad(loss if objective == "loss" else logit, [probe, out["x"]])
    finally:
        model.embedding.weight.requires_grad_(emb_grad)
    T, logit, loss = len(ids), logit.detach(), loss.detach()
    return {"cell": model.cell, "objective": objective, "target": int(target), "logit": float(logit),
            "p": float(torch.sigmoid(logit)), "loss": float(loss) if objective == "loss" else float("nan"),
            "h_grad_norm": g_h.norm(dim=1).numpy(), "x_grad_norm": g_x.norm(dim=1).numpy(),
            "distance": np.arange(T - 1, -1, -1)}
