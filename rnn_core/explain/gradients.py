"""Backpropagation through time, measured: per-step gradient norms, the long-range memory experiment and the
exploding-gradient experiment behind the "look inside" pages.

Every gradient with respect to a hidden state comes from trace.unroll with a zero `probe` added to each h_t, so the
cells' equations live in one place. Experiments are seeded and bounded (steps and seconds), run inside a
thread cap that is restored afterwards, and report progress as plain dicts, like train.py.
"""
from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..errors import InputError
from ..model import CELLS, SentimentRNN
from ..trace import unroll

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


def _as_ids(ids) -> torch.Tensor:
    ids = torch.as_tensor(ids, dtype=torch.long).reshape(-1)
    if len(ids) == 0:
        raise InputError("no_tokens")
    return ids


def step_gradient_norms(model: SentimentRNN, ids, target: int | None = None, objective: str = "loss") -> dict:
    """How strongly each step of one sentence is reached by the gradient.

    objective "loss": L = BCE(sigmoid(logit), target), target defaulting to the model's own predicted label;
    objective "logit": L = the output logit itself (how much the output can move, whatever the label).
    Returns numpy arrays indexed by step t = 0..T-1:
        h_grad_norm  ‖∂L/∂h_t‖ (the total derivative through every later step; for an LSTM c_t is held fixed, so
                     this is the gradient arriving through h_t, which the cell state's highway feeds from t+1 on)
        x_grad_norm  ‖∂L/∂x_t‖ w.r.t. the input embedding of token t
        distance     T-1-t, the number of steps between token t and the output
    plus "logit", "p", "loss" (NaN for the logit objective), "target", "objective" and "cell".
    """
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {OBJECTIVES}")
    ids = _as_ids(ids)
    was_training, emb_grad = model.training, model.embedding.weight.requires_grad
    model.eval()
    model.embedding.weight.requires_grad_(True)  # so ∂L/∂x exists even for a frozen embedding table
    try:
        with torch.enable_grad():
            probe = torch.zeros(len(ids), model.hidden_dim, requires_grad=True)
            out = unroll(model, ids, probe)
            logit = model.fc(out["h"][-1]).squeeze(-1)
            if target is None:
                target = int(logit.item() >= 0)
            loss = F.binary_cross_entropy_with_logits(logit, torch.tensor(float(target)))
            g_h, g_x = torch.autograd.grad(loss if objective == "loss" else logit, [probe, out["x"]])
    finally:
        model.train(was_training)
        model.embedding.weight.requires_grad_(emb_grad)
    T, logit, loss = len(ids), logit.detach(), loss.detach()
    return {"cell": model.cell, "objective": objective, "target": int(target), "logit": float(logit),
            "p": float(torch.sigmoid(logit)), "loss": float(loss) if objective == "loss" else float("nan"),
            "h_grad_norm": g_h.norm(dim=1).numpy(), "x_grad_norm": g_x.norm(dim=1).numpy(),
            "distance": np.arange(T - 1, -1, -1)}


# ---------------------------------------------------------------------------------------------------------------
# The long-range experiment: the label is the first token; everything after it is noise.

PAD, A, B, N_SPECIAL = 0, 2, 3, 4  # ids 0 and 1 stay <pad> and <unk> as in every Vocab


def first_token_batch(n: int, length: int, n_distractors: int, gen: torch.Generator) -> tuple[torch.Tensor,
                                                                                                torch.Tensor]:
    """`n` sequences of `length` tokens: A (label 1) or B (label 0), then length-1 random distractor tokens."""
    y = torch.randint(0, 2, (n,), generator=gen)
    ids = torch.randint(N_SPECIAL, N_SPECIAL + n_distractors, (n, length), generator=gen)
    ids[:, 0] = torch.where(y == 1, A, B)
    return ids, y.float()


def set_memory_gate_bias(model: SentimentRNN, value: float) -> None:
    """Start the gate that keeps the old state (LSTM forget gate, GRU update gate) at bias `value` in total
    (b_ih + b_hh). No effect on the plain RNN, which has no such gate."""
    if model.cell == "rnn":
        return
    rnn, H = model.rnn, model.hidden_dim
    gate = slice(H, 2 * H)  # the second block in PyTorch's gate order: LSTM (i, f, g, o), GRU (r, z, n)
    with torch.no_grad():
        rnn.bias_ih_l0[gate] = value
        rnn.bias_hh_l0[gate] = 0.0


def _logits(model: SentimentRNN, ids: torch.Tensor) -> torch.Tensor:
    """The model's own forward (packing and all) on an equal-length batch: every sequence ends at the last column."""
    return model(ids, torch.full((len(ids),), ids.shape[1], dtype=torch.long))


def _mean_grad_profiles(model: SentimentRNN, ids: torch.Tensor, y: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Mean over sequences of ‖∂L/∂h_t‖ and of ‖∂logit/∂h_t‖, indexed by distance from the end (0 = last step).

    One backward pass per sequence serves both: for L = BCE(sigmoid(z), y), ∂L/∂h_t = (p - y) ∂z/∂h_t."""
    loss_rows, logit_rows = [], []
    for s, target in zip(ids, y):
        r = step_gradient_norms(model, s, int(target), "logit")
        logit_rows.append(r["h_grad_norm"][::-1])
        loss_rows.append(abs(r["p"] - float(target)) * logit_rows[-1])
    return np.mean(loss_rows, axis=0), np.mean(logit_rows, axis=0)


def long_range_experiment(cell: str, length: int, steps: int = 1500, time_budget_s: float = 20.0, seed: int = 0,
                          progress: Callable[[dict], None] | None = None, emb_dim: int = 16, hidden_dim: int = 32,
                          n_distractors: int = 20, batch_size: int = 64, lr: float = 3e-3, n_test: int = 1000,
                          n_grad: int = 16, num_threads: int | None = 1, solved_at: float = 0.99,
                          gate_bias: float | None = 4.0) -> dict:
    """Can a `cell` network carry one bit (the first token) across `length`-1 noise tokens?

    Trains a small SentimentRNN with Adam on fresh random batches until `steps` are done, the running training
    accuracy (last 20 batches) reaches `solved_at`, or `time_budget_s` runs out; "stopped" says which. Only the
    clock makes a run non-reproducible: 1500 plain-RNN steps at length 80 took 15 s on our 2 cores when half busy
    and 23-34 s when other jobs loaded them, so on a busy machine long failing runs end on the clock.

    `gate_bias` starts the gate that keeps the old state open: LSTM forget gate and GRU update gate at bias 4
    (σ(4) ≈ 0.98, so 80 steps keep ~23% of the first token's trace at initialisation), following the advice to
    start LSTM forget gates open (Gers et al. 2000; Jozefowicz et al. 2015 use 1) instead of PyTorch's ≈0
    (σ ≈ 0.5, 0.5^80 ≈ 1e-24). The plain RNN has no such gate, which is the point of the lesson. Measured with the
    defaults (seeds 0-2, lengths 5/10/20/40/80), mean test accuracy: RNN 1.00/1.00/0.84/0.50/0.51, LSTM and GRU
    ≥ 0.997 at every length. With gate_bias=None (PyTorch's initialisation) the gated cells fail too within 1500
    steps: LSTM 1.00/1.00/0.67/0.50/0.51, GRU 1.00/1.00/1.00/0.50/0.51. The gate makes the path; the
    initialisation decides whether training finds it in time.

    Returns test accuracy (fresh sequences; chance is 0.5), the loss curve, and the mean ‖∂L/∂h_t‖ by distance from
    the end (L = BCE against the true label) on `n_grad` test sequences, both at initialisation ("grad_init") and
    after training ("grad_end"), plus the same for the logit ("grad_logit_init", "grad_logit_end").
    """
    if cell not in CELLS:
        raise InputError("unknown_cell", cell=str(cell), choices=", ".join(CELLS))
    if length < 1 or steps < 0:
        raise InputError("bad_length_steps")
    start = time.perf_counter()
    with _limited(num_threads, seed):
        gen = torch.Generator().manual_seed(seed)
        test_gen = torch.Generator().manual_seed(seed + 10_000)  # a stream no training run of a nearby seed uses
        test_ids, test_y = first_token_batch(n_test, length, n_distractors, test_gen)
        model = SentimentRNN(N_SPECIAL + n_distractors, cell, emb_dim, hidden_dim)
        if gate_bias is not None:
            set_memory_gate_bias(model, gate_bias)
        grad_ids, grad_y = test_ids[:n_grad], test_y[:n_grad]
        grad_init, grad_logit_init = _mean_grad_profiles(model, grad_ids, grad_y)
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        losses, recent, stopped, step = [], [], "steps", 0
        model.train()
        for step in range(1, steps + 1):
            ids, y = first_token_batch(batch_size, length, n_distractors, gen)
            logits = _logits(model, ids)
            loss = F.binary_cross_entropy_with_logits(logits, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
            recent = (recent + [float(((logits > 0).float() == y).float().mean())])[-20:]
            if progress and (step % 25 == 0 or step == steps):
                progress({"kind": "step", "cell": cell, "length": length, "step": step, "n_steps": steps,
                          "loss": losses[-1], "seconds": time.perf_counter() - start})
            if len(recent) == 20 and sum(recent) / 20 >= solved_at:
                stopped = "solved"
                break
            if time.perf_counter() - start > time_budget_s:
                stopped = "time_budget"
                break
        model.eval()
        with torch.no_grad():
            acc = float(((_logits(model, test_ids) > 0).float() == test_y).float().mean())
        grad_end, grad_logit_end = _mean_grad_profiles(model, grad_ids, grad_y)
    res = {"cell": cell, "length": length, "seed": seed, "test_accuracy": acc, "steps_done": step if steps else 0,
           "stopped": stopped, "loss": np.array(losses), "distance": np.arange(length),
           "grad_init": grad_init, "grad_end": grad_end, "grad_logit_init": grad_logit_init,
           "grad_logit_end": grad_logit_end, "seconds": time.perf_counter() - start,
           "settings": {"steps": steps, "time_budget_s": time_budget_s, "seed": seed, "emb_dim": emb_dim,
                        "hidden_dim": hidden_dim, "n_distractors": n_distractors, "batch_size": batch_size,
                        "lr": lr, "n_test": n_test, "n_grad": n_grad, "solved_at": solved_at, "gate_bias": gate_bias}}
    if progress:
        progress({"kind": "done", "cell": cell, "length": length, "test_accuracy": acc, "stopped": stopped,
                  "seconds": res["seconds"]})
    return res


def long_range_sweep(cells: Sequence[str] = CELLS, lengths: Sequence[int] = (5, 10, 20, 40, 80),
                     seeds: Sequence[int] = (0,), progress: Callable[[dict], None] | None = None,
                     should_stop: Callable[[], bool] | None = None, **settings) -> dict:
    """long_range_experiment for every (cell, length, seed), other settings shared.

    Returns {"cells", "lengths", "seeds", "accuracy": {cell: [mean test accuracy over seeds, per length]},
    "accuracy_by_seed": {cell: [[acc per seed] per length]}, "seconds": {cell: [total seconds per length]},
    "runs": [each run's result]}. One seed is a single draw: a plain RNN can get lucky and find a way to latch the
    first token, so the page should say how many seeds stand behind each point. Progress gets {"kind": "run",
    "index", "n_runs", "cell", "length", "seed"} before each run, then that run's own events. When `should_stop`
    says so the sweep ends early and the lists cover the lengths finished so far.
    """
    runs = []
    n_runs = len(cells) * len(lengths) * len(seeds)
    for cell in cells:
        for length in lengths:
            for seed in seeds:
                if should_stop is not None and should_stop():
                    break
                if progress:
                    progress({"kind": "run", "index": len(runs), "n_runs": n_runs, "cell": cell, "length": length,
                              "seed": seed})
                runs.append(long_range_experiment(cell, length, seed=seed, progress=progress, **settings))
    acc, by_seed, secs = {}, {}, {}
    for cell in cells:
        groups = [[r for r in runs if r["cell"] == cell and r["length"] == n] for n in lengths]
        groups = [g for g in groups if g]
        by_seed[cell] = [[r["test_accuracy"] for r in g] for g in groups]
        acc[cell] = [float(np.mean(a)) for a in by_seed[cell]]
        secs[cell] = [float(sum(r["seconds"] for r in g)) for g in groups]
    return {"cells": list(cells), "lengths": list(lengths), "seeds": list(seeds), "accuracy": acc,
            "accuracy_by_seed": by_seed, "seconds": secs, "runs": runs}


# ---------------------------------------------------------------------------------------------------------------
# The exploding-gradient experiment: recurrent weights scaled up, trained with and without clipping.

def exploding_experiment(cell: str = "rnn", init_scale: float = 5.0, clip: float | None = None, steps: int = 300,
                         seed: int = 0, progress: Callable[[dict], None] | None = None, length: int = 30,
                         lr: float = 1.0, emb_dim: int = 16, hidden_dim: int = 32, batch_size: int = 32,
                         n_distractors: int = 20, num_threads: int | None = 1) -> dict:
    """Train on the first-token task with W_hh multiplied by `init_scale`, using plain SGD.

    SGD, not Adam, because Adam divides each step by the gradient's running size, which hides an explosion; with
    SGD a gradient 1000× too large is a step 1000× too long, as in the textbook picture. `clip` is the max global
    gradient norm (None = off). Returns per step: "loss", "grad_norm" (the norm *before* clipping, from
    clip_grad_norm_, as train.py logs it) and "w_hh_norm" (‖W_hh‖ of the weights that step used: an exploded
    step shows up as a jump in the weights); "diverged_at" (first step whose loss or norm is not finite, else
    None; training stops there), the largest norm, and the spectral radius of the scaled W_hh (plain RNN only).

    Measured with the defaults (scale 5 → radius 2.8-3.6, length 30, lr 1; seeds 0-4): unclipped, the gradient
    norm spikes to 7e2-1.3e3, ‖W_hh‖ jumps from 16 to 250-440 and the loss ends above chance (1.0-2.3 over the last
    30 steps); with clip=0.25, ‖W_hh‖ stays at 16-17, the loss never exceeds 1.03 and ends at 0.001-0.74.
    The loss stays finite either way: tanh bounds every state, so here an explosion wrecks the weights rather
    than overflowing to NaN.
    """
    if cell not in CELLS:
        raise InputError("unknown_cell", cell=str(cell), choices=", ".join(CELLS))
    if clip is not None and not clip > 0:
        raise InputError("bad_clip")
    start = time.perf_counter()
    with _limited(num_threads, seed):
        gen = torch.Generator().manual_seed(seed)
        model = SentimentRNN(N_SPECIAL + n_distractors, cell, emb_dim, hidden_dim)
        with torch.no_grad():
            model.rnn.weight_hh_l0.mul_(init_scale)
            # For the plain RNN this is the growth factor per step of a small perturbation (before tanh bends it);
            # a gated cell's W_hh feeds several gates, so no single radius describes it.
            w = model.rnn.weight_hh_l0
            radius = float(torch.linalg.eigvals(w).abs().max()) if cell == "rnn" else None
        opt = torch.optim.SGD(model.parameters(), lr=lr)
        losses, norms, weights, diverged_at = [], [], [], None
        for step in range(1, steps + 1):
            weights.append(float(model.rnn.weight_hh_l0.detach().norm()))  # the weights this step's loss used
            ids, y = first_token_batch(batch_size, length, n_distractors, gen)
            loss = F.binary_cross_entropy_with_logits(_logits(model, ids), y)
            opt.zero_grad()
            loss.backward()
            norm = float(nn.utils.clip_grad_norm_(model.parameters(), clip if clip else float("inf")))
            losses.append(float(loss.detach()))
            norms.append(norm)
            if progress and (step % 10 == 0 or step == steps):
                progress({"kind": "step", "step": step, "n_steps": steps, "loss": losses[-1], "grad_norm": norm})
            if not (math.isfinite(losses[-1]) and math.isfinite(norm)):
                diverged_at = step
                break
            opt.step()
    finite = [n for n in norms if math.isfinite(n)]
    return {"cell": cell, "init_scale": init_scale, "clip": clip, "loss": np.array(losses),
            "grad_norm": np.array(norms), "w_hh_norm": np.array(weights), "diverged_at": diverged_at,
            "max_grad_norm": max(finite, default=0.0), "spectral_radius": radius,
            "seconds": time.perf_counter() - start,
            "settings": {"steps": steps, "seed": seed, "length": length, "lr": lr, "emb_dim": emb_dim,
                         "hidden_dim": hidden_dim, "batch_size": batch_size, "n_distractors": n_distractors}}
