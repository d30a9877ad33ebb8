"""The gradient lab's experiments: can a small network of each cell remember the first token across noise (the
long-range experiment), and what a scaled-up W_hh does to training with and without clipping (exploding gradients).

Both are budgeted in optimisation steps and seeded, never timed: the same settings give the same numbers however busy
the machine is. They run inside a thread cap that is restored afterwards, report progress as plain dicts (like
train.py) and stop early when `should_stop()` says so, so a server-side queue can run and cancel them.
"""
from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .. import cells as registry
from ..errors import InputError
from ..model import CELLS, SentimentRNN
from .gradients import _limited, jacobian_norms, recurrent_matrix_stats
from .lab_defaults import (  # noqa: F401 -- re-exported: the lab's settings, one import away
    DEFAULT_COMMAND,
    DEFAULT_FILE,
    EXPLODING,
    LONG_LENGTHS,
    LONG_RANGE,
    LONG_SEEDS,
)

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
    """Start the gate that keeps the old state (the registry's memory gate: LSTM forget gate, GRU update gate) at bias
    `value` in total (b_ih + b_hh). No effect on the plain RNN, which has no such gate."""
    rnn, gate = model.rnn, registry.get(model.cell).memory_gate_slice(model.hidden_dim)
    if gate is None:
        return
    with torch.no_grad():
        rnn.bias_ih_l0[gate] = value
        rnn.bias_hh_l0[gate] = 0.0


def _logits(model: SentimentRNN, ids: torch.Tensor) -> torch.Tensor:
    """The model's own forward (packing and all) on an equal-length batch: every sequence ends at the last column."""
    return model(ids, torch.full((len(ids),), ids.shape[1], dtype=torch.long))


def _mean_jacobian_profile(model: SentimentRNN, ids: torch.Tensor) -> np.ndarray:
    """Mean over sequences of ‖∂h_T/∂h_t‖₂, indexed by distance from the end (0 = last step, where it is 1)."""
    return np.mean([jacobian_norms(model, s)[::-1] for s in ids], axis=0)


def long_range_experiment(cell: str, length: int, steps: int = LONG_RANGE["steps"], seed: int = 0,
                          progress: Callable[[dict], None] | None = None,
                          should_stop: Callable[[], bool] | None = None, emb_dim: int = LONG_RANGE["emb_dim"],
                          hidden_dim: int = LONG_RANGE["hidden_dim"], n_distractors: int = LONG_RANGE["n_distractors"],
                          batch_size: int = LONG_RANGE["batch_size"], lr: float = LONG_RANGE["lr"],
                          n_test: int = LONG_RANGE["n_test"], n_grad: int = LONG_RANGE["n_grad"],
                          num_threads: int | None = 1, solved_at: float = LONG_RANGE["solved_at"],
                          gate_bias: float | None = LONG_RANGE["gate_bias"]) -> dict:
    """Can a `cell` network carry one bit (the first token) across `length`-1 noise tokens?

    Trains a small SentimentRNN with Adam on fresh random batches until `steps` are done or the running training
    accuracy (last 20 batches) reaches `solved_at`; "stopped" says which ("steps", "solved", or "stopped" when
    should_stop() ended it). Nothing depends on the clock, so a seed and the settings fix every number.
    `gate_bias` starts the memory gate (LSTM forget gate, GRU update gate) at that bias (None: PyTorch's
    initialisation); lab_defaults.LONG_RANGE says why the lab uses 3. The plain RNN has no such gate: the lesson.

    Returns test accuracy (fresh sequences; chance is 0.5), the loss curve, and the mean ‖∂h_T/∂h_t‖₂ by distance
    from the end on `n_grad` test sequences at initialisation ("jac_init") and after training ("jac_end").
    """
    if cell not in CELLS:
        raise InputError("unknown_cell", cell=str(cell), choices=", ".join(CELLS))
    if length < 1 or steps < 0:
        raise InputError("bad_length_steps")
    settings = {"steps": steps, "seed": seed, "emb_dim": emb_dim, "hidden_dim": hidden_dim,
                "n_distractors": n_distractors, "batch_size": batch_size, "lr": lr, "n_test": n_test,
                "n_grad": n_grad, "solved_at": solved_at, "gate_bias": gate_bias}
    start = time.perf_counter()
    with _limited(num_threads, seed):
        gen = torch.Generator().manual_seed(seed)
        test_gen = torch.Generator().manual_seed(seed + 10_000)  # a stream no training run of a nearby seed uses
        test_ids, test_y = first_token_batch(n_test, length, n_distractors, test_gen)
        model = SentimentRNN(N_SPECIAL + n_distractors, cell, emb_dim, hidden_dim)
        if gate_bias is not None:
            set_memory_gate_bias(model, gate_bias)
        jac_init = _mean_jacobian_profile(model, test_ids[:n_grad])
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        losses, recent, stopped, step = [], [], "steps", 0
        model.train()
        for step in range(1, steps + 1):
            if should_stop is not None and should_stop():
                stopped, step = "stopped", step - 1
                break
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
                          "loss": losses[-1]})
            if len(recent) == 20 and sum(recent) / 20 >= solved_at:
                stopped = "solved"
                break
        model.eval()
        with torch.no_grad():
            acc = float(((_logits(model, test_ids) > 0).float() == test_y).float().mean())
        jac_end = _mean_jacobian_profile(model, test_ids[:n_grad])
    res = {"cell": cell, "length": length, "seed": seed, "test_accuracy": acc, "steps_done": step if steps else 0,
           "stopped": stopped, "loss": np.array(losses), "distance": np.arange(length), "jac_init": jac_init,
           "jac_end": jac_end, "seconds": time.perf_counter() - start, "settings": settings}
    if progress:
        progress({"kind": "done", "cell": cell, "length": length, "test_accuracy": acc, "stopped": stopped})
    return res


def long_range_sweep(cells: Sequence[str] = CELLS, lengths: Sequence[int] = LONG_LENGTHS,
                     seeds: Sequence[int] = (0,), progress: Callable[[dict], None] | None = None,
                     should_stop: Callable[[], bool] | None = None, **settings) -> dict:
    """long_range_experiment for every (cell, length, seed), other settings shared.

    Returns {"cells", "lengths", "seeds", "settings", "accuracy": {cell: [mean test accuracy over seeds, per
    length]}, "accuracy_by_seed": {cell: [[acc per seed] per length]}, "steps_by_seed" (likewise), "seconds"
    (wall time of the whole sweep: reported, never used), "runs": [each run's result]}. Progress gets {"kind": "run",
    "index", "n_runs", "cell", "length", "seed"} before each run, then that run's own events. When `should_stop`
    says so the sweep ends early and the lists cover the lengths finished so far ("complete" is False).
    """
    start, runs = time.perf_counter(), []
    lengths = sorted(set(int(n) for n in lengths))
    n_runs = len(cells) * len(lengths) * len(seeds)
    for cell in cells:
        for length in lengths:
            for seed in seeds:
                if should_stop is not None and should_stop():
                    break
                if progress:
                    progress({"kind": "run", "index": len(runs), "n_runs": n_runs, "cell": cell, "length": length,
                              "seed": seed})
                r = long_range_experiment(cell, length, seed=seed, progress=progress, should_stop=should_stop,
                                          **settings)
                if r["stopped"] == "stopped":
                    break
                runs.append(r)
    acc, by_seed, steps = {}, {}, {}
    for cell in cells:
        groups = [[r for r in runs if r["cell"] == cell and r["length"] == n] for n in lengths]
        groups = [g for g in groups if len(g) == len(seeds)]
        by_seed[cell] = [[r["test_accuracy"] for r in g] for g in groups]
        steps[cell] = [[r["steps_done"] for r in g] for g in groups]
        acc[cell] = [float(np.mean(a)) for a in by_seed[cell]]
    settings = {**{k: v for k, v in LONG_RANGE.items()}, **settings}
    return {"cells": list(cells), "lengths": list(lengths), "seeds": list(seeds), "settings": settings,
            "accuracy": acc, "accuracy_by_seed": by_seed, "steps_by_seed": steps, "runs": runs,
            "complete": len(runs) == n_runs, "seconds": time.perf_counter() - start}


def _plain(v):
    if isinstance(v, np.ndarray):
        return [float(f"{x:.6g}") for x in v.tolist()]
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    return v


def sweep_to_dict(sweep: dict) -> dict:
    """The sweep as JSON-ready data without the loss curves (the page does not draw them)."""
    runs = [{k: _plain(v) for k, v in r.items() if k != "loss"} | {"final_loss": float(np.mean(r["loss"][-20:]))
            if len(r["loss"]) else None} for r in sweep["runs"]]
    return {**{k: _plain(v) for k, v in sweep.items() if k != "runs"}, "runs": runs}


def sweep_from_dict(d: dict) -> dict:
    runs = [{**r, **{k: np.asarray(r[k], dtype=float) for k in ("distance", "jac_init", "jac_end")}}
            for r in d["runs"]]
    return {**d, "runs": runs}


def default_sweep() -> dict | None:
    """The shipped results of the default sweep (LONG_RANGE, LONG_LENGTHS, LONG_SEEDS), or None if absent."""
    if not DEFAULT_FILE.is_file():
        return None
    return sweep_from_dict(json.loads(DEFAULT_FILE.read_text()))


def sweep_work(cells: Sequence[str], lengths: Sequence[int], seeds: Sequence[int], steps: int) -> int:
    """An upper bound on a sweep's cost in token-steps (every run using its whole budget): what LIVE_MAX_WORK caps."""
    return len(cells) * len(seeds) * steps * sum(lengths)


# A live run on the page may cost at most twice the shipped sweep (about a minute on a quiet 2-core machine).
LIVE_MAX_WORK = 2 * sweep_work(CELLS, LONG_LENGTHS, LONG_SEEDS, LONG_RANGE["steps"])


def is_default(lengths: Sequence[int], seeds: Sequence[int], **settings) -> bool:
    """Whether these settings are the shipped sweep's, so its results can be shown instead of recomputed."""
    return (sorted(lengths) == list(LONG_LENGTHS) and list(seeds) == list(LONG_SEEDS)
            and {**LONG_RANGE, **settings} == LONG_RANGE)


# ---------------------------------------------------------------------------------------------------------------
# The exploding-gradient experiment: recurrent weights scaled up, trained with and without clipping.

def radius_by_scale(scales: Sequence[float], hidden_dim: int = EXPLODING["hidden_dim"],
                    seed: int = EXPLODING["seed"], emb_dim: int = EXPLODING["emb_dim"],
                    n_distractors: int = EXPLODING["n_distractors"]) -> dict:
    """Spectral radius and norm of the exploding experiment's initial W_hh (plain RNN, same seed) at each scale.
    Both are linear in the scale; `crossing` is the scale at which the radius reaches 1."""
    with _limited(None, seed):
        w = SentimentRNN(N_SPECIAL + n_distractors, "rnn", emb_dim, hidden_dim).rnn.weight_hh_l0.detach()
    rho, norm = float(torch.linalg.eigvals(w).abs().max()), float(torch.linalg.matrix_norm(w, ord=2))
    return {"scales": [float(s) for s in scales], "spectral_radius": [s * rho for s in scales],
            "spectral_norm": [s * norm for s in scales], "crossing": 1 / rho, "norm_crossing": 1 / norm}


def exploding_experiment(cell: str = EXPLODING["cell"], init_scale: float = EXPLODING["init_scale"],
                         clip: float | None = None, steps: int = EXPLODING["steps"], seed: int = EXPLODING["seed"],
                         progress: Callable[[dict], None] | None = None,
                         should_stop: Callable[[], bool] | None = None, length: int = EXPLODING["length"],
                         lr: float = EXPLODING["lr"], emb_dim: int = EXPLODING["emb_dim"],
                         hidden_dim: int = EXPLODING["hidden_dim"], batch_size: int = EXPLODING["batch_size"],
                         n_distractors: int = EXPLODING["n_distractors"], num_threads: int | None = 1) -> dict:
    """Train on the first-token task with W_hh multiplied by `init_scale`, using plain SGD.

    SGD, not Adam, because Adam divides each step by the gradient's running size, which hides an explosion; with
    SGD a gradient 1000× too large is a step 1000× too long. `clip` is the max global gradient norm (None = off).
    Returns per step: "loss"; "grad_norm", the raw norm before clipping; "used_norm", the norm of the gradient the
    update used (≤ clip when clipping); "update_norm", ‖θ_after − θ_before‖ measured on the weights (= lr ×
    used_norm for SGD); "w_hh_norm", ‖W_hh‖₂ of the weights that step used. Also "diverged_at" (the first step
    whose loss or gradient is not finite, else None; training stops there) and W_hh's initial "spectral_radius"
    and "spectral_norm" (recurrent_matrix_stats).

    Measured with the defaults (scale 8, radius ≈ 4.9, length 10, lr 3; seeds 0-5, each also under
    ATEN_CPU_CAPABILITY=default, i.e. other vector kernels, as on another CPU): the largest gradient is always the
    first, norm 17-45; unclipped, SGD turns it into a step of 50-135 in weight space, ‖W_hh‖₂ goes from 8.1-8.9 to
    16-25, the loss peaks at 8-18 and ends at 2.4-4.9 (chance is ln 2 ≈ 0.69). Clipped at 0.25, the loss never
    exceeds 1.8 and ends below 2e-4. The first steps agree to rounding on every machine; after them an unclipped
    run is chaotic (its later digits differ from machine to machine), while the clipped run converges everywhere.
    Longer sequences (20, 30) make the clipped run itself a coin flip between solving and staying at chance.
    """
    if cell not in CELLS:
        raise InputError("unknown_cell", cell=str(cell), choices=", ".join(CELLS))
    if clip is not None and not clip > 0:
        raise InputError("bad_clip")
    if steps < 1 or lr <= 0 or init_scale <= 0:
        raise InputError("lab_bad_explode")
    start = time.perf_counter()
    with _limited(num_threads, seed):
        gen = torch.Generator().manual_seed(seed)
        model = SentimentRNN(N_SPECIAL + n_distractors, cell, emb_dim, hidden_dim)
        with torch.no_grad():
            model.rnn.weight_hh_l0.mul_(init_scale)
        stats = recurrent_matrix_stats(model)
        params = list(model.parameters())
        opt = torch.optim.SGD(params, lr=lr)
        log = {k: [] for k in ("loss", "grad_norm", "used_norm", "update_norm", "w_hh_norm")}
        diverged_at = None
        for step in range(1, steps + 1):
            if should_stop is not None and should_stop():
                break
            log["w_hh_norm"].append(float(torch.linalg.matrix_norm(model.rnn.weight_hh_l0.detach(), ord=2)))
            ids, y = first_token_batch(batch_size, length, n_distractors, gen)
            loss = F.binary_cross_entropy_with_logits(_logits(model, ids), y)
            opt.zero_grad()
            loss.backward()
            raw = float(nn.utils.clip_grad_norm_(params, clip if clip else float("inf")))
            used = float(torch.linalg.vector_norm(torch.cat([p.grad.reshape(-1) for p in params])))
            log["loss"].append(float(loss.detach()))
            log["grad_norm"].append(raw)
            log["used_norm"].append(used)
            if not (math.isfinite(log["loss"][-1]) and math.isfinite(raw)):
                log["update_norm"].append(float("nan"))
                diverged_at = step
                break
            before = torch.cat([p.detach().reshape(-1) for p in params])
            opt.step()
            log["update_norm"].append(float(torch.linalg.vector_norm(
                torch.cat([p.detach().reshape(-1) for p in params]) - before)))
            if progress and (step % 10 == 0 or step == steps):
                progress({"kind": "step", "step": step, "n_steps": steps, "loss": log["loss"][-1],
                          "grad_norm": raw})
    return {"cell": cell, "init_scale": init_scale, "clip": clip, **{k: np.array(v) for k, v in log.items()},
            "diverged_at": diverged_at, **stats, "seconds": time.perf_counter() - start,
            "settings": {"steps": steps, "seed": seed, "length": length, "lr": lr, "emb_dim": emb_dim,
                         "hidden_dim": hidden_dim, "batch_size": batch_size, "n_distractors": n_distractors}}


def explosion_summary(run: dict) -> dict:
    """The numbers a caption quotes about one exploding_experiment run."""
    finite = lambda a: np.asarray(a, dtype=float)[np.isfinite(a)]  # noqa: E731
    loss, raw = finite(run["loss"]), np.asarray(run["grad_norm"], dtype=float)
    worst = int(np.nanargmax(np.where(np.isfinite(raw), raw, np.nan))) if np.isfinite(raw).any() else 0
    chance = math.log(2)
    out = {"max_grad_norm": float(raw[worst]) if len(raw) else 0.0, "max_grad_step": worst + 1,
           "max_used_norm": float(np.nanmax(finite(run["used_norm"]))) if len(finite(run["used_norm"])) else 0.0,
           "max_update_norm": float(finite(run["update_norm"]).max()) if len(finite(run["update_norm"])) else 0.0,
           "max_loss": float(loss.max()) if len(loss) else float("nan"),
           "final_loss": float(loss[-20:].mean()) if len(loss) else float("nan"),
           "max_w_hh_norm": float(np.max(run["w_hh_norm"])), "start_w_hh_norm": float(run["w_hh_norm"][0]),
           "diverged_at": run["diverged_at"], "chance_loss": chance, "clip": run["clip"]}
    out["blew_up"] = run["diverged_at"] is not None or out["max_loss"] > 5 * chance
    return out
