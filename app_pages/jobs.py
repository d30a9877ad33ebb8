"""Heavy work in the background, for the app: trainings and gradient-lab experiments, one thread each, fairly shared.

A page must stay responsive while a model trains, and a Stop button must end the work *cleanly* (a training keeps
its best weights so far). Streamlit interrupts a running script when the user clicks anything, so the work cannot
run inside the script: it runs here, in a thread, and the page only reads `status()` and calls `stop()`.

Fairness on a shared server: one queue for all heavy work. At most SLOTS jobs run at once in the process; the next
MAX_WAITING wait in order, each told its place; beyond that a job is refused with a clear message. Every job runs
with one torch thread, is capped in time, and stops when its session ends (see app_pages/sessions.py).

A page starts any heavy function with `submit(fn, name)`, where `fn(progress, should_stop)` calls progress(dict)
now and then, returns early when should_stop() is true, and returns its result; see Job.
"""
from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import replace

from app_pages import sessions
from rnn_core.bundle import Bundle, bundle_config
from rnn_core.data import Dataset
from rnn_core.errors import InputError
from rnn_core.explain.extras import build_extras
from rnn_core.limits import MAX_PARAMS, MAX_VOCAB, n_params
from rnn_core.recipes import metrics_card, split_dataset
from rnn_core.train import TrainConfig, check_trainable, train

MAX_SECONDS = float(os.environ.get("RNN_LENS_TRAIN_SECONDS", 120))
SLOTS = int(os.environ.get("RNN_LENS_HEAVY_JOBS", os.environ.get("RNN_LENS_TRAIN_JOBS", 2)))
MAX_WAITING = int(os.environ.get("RNN_LENS_QUEUE", 6))
MAX_JOBS = SLOTS  # the name the Train page's fairness note uses


class QueueFull(InputError):
    """Every slot is busy and the queue is full: the user is asked to come back in a minute."""


class HeavyQueue:
    """First come, first served: `slots` jobs run, up to `max_waiting` wait. Jobs call enter(), wait_turn() and
    leave(); the page reads position()."""

    def __init__(self, slots: int, max_waiting: int):
        self.slots, self.max_waiting = slots, max_waiting
        self._cond = threading.Condition()
        self._running: list[Job] = []
        self._waiting: list[Job] = []

    def enter(self, job: Job) -> None:
        with self._cond:
            if len(self._running) < self.slots and not self._waiting:
                self._running.append(job)
            elif len(self._waiting) < self.max_waiting:
                self._waiting.append(job)
            else:
                raise QueueFull("queue_full", slots=self.slots, waiting=len(self._waiting))

    def wait_turn(self, job: Job, timeout: float | None = None) -> bool | None:
        """Block until `job` may run (True), or it was stopped while waiting (False: it leaves the queue); None
        when `timeout` seconds passed with the job still waiting."""
        end = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while job in self._waiting:
                if end is not None and time.monotonic() >= end:
                    return None
                if job.stopping:
                    self._waiting.remove(job)
                    self._cond.notify_all()
                    return False
                if self._waiting[0] is job and len(self._running) < self.slots:
                    self._waiting.pop(0)
                    self._running.append(job)
                    self._cond.notify_all()
                    return True
                self._cond.wait(0.25)
            return job in self._running

    def leave(self, job: Job) -> None:
        with self._cond:
            for q in (self._running, self._waiting):
                if job in q:
                    q.remove(job)
            self._cond.notify_all()

    def position(self, job: Job) -> int | None:
        """0 while running, 1 for the next in line, 2 ..., None when not in the queue."""
        with self._cond:
            if job in self._running:
                return 0
            return self._waiting.index(job) + 1 if job in self._waiting else None

    def counts(self) -> dict:
        with self._cond:
            return {"running": len(self._running), "waiting": len(self._waiting), "slots": self.slots,
                    "max_waiting": self.max_waiting}


QUEUE = HeavyQueue(SLOTS, MAX_WAITING)


class Job:
    """fn(progress, should_stop) -> result, run in a thread when the queue lets it. `status()` is what a page shows:
    state (queued | running | done), place in the queue, the last progress event, result or error."""

    def __init__(self, fn: Callable, name: str = "job", session_id: str | None = None,
                 queue: HeavyQueue | None = None):
        self.fn, self.name, self.queue = fn, name, queue or QUEUE
        self.session_id = session_id if session_id is not None else sessions.current_id()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.submitted = self.started = self.finished = None
        self.last: dict = {}
        self.result = None
        self.error: str | None = None
        self.failure: Exception | None = None  # the exception behind `error`: the page shows an RnnLensError in
        # the UI language

    # -- control -------------------------------------------------------------------------------------------------
    def start(self) -> Job:
        self.queue.enter(self)  # raises QueueFull
        self.submitted = time.time()
        sessions.track_job(self.session_id, self)
        self._thread = threading.Thread(target=self._main, name=f"heavy-{self.name}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Ask the work to stop (after the current batch or run); a queued job just leaves the queue."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        if self._thread is not None:
            self._thread.join(timeout)
        return self.done

    @property
    def running(self) -> bool:
        """Queued or working: the page keeps polling."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def done(self) -> bool:
        return self.finished is not None

    def status(self) -> dict:
        pos = self.queue.position(self)
        state = "done" if self.done else "running" if pos == 0 else "queued" if pos else "starting"
        elapsed = (self.finished or time.time()) - self.started if self.started else 0.0
        with self._lock:
            last = dict(self.last)
        return {"state": state, "position": pos or 0, "last": last, "elapsed": elapsed, "running": self.running,
                "done": self.done, "error": self.error, "stopping": self.stopping, "result": self.result}

    # -- the thread ----------------------------------------------------------------------------------------------
    def progress(self, ev: dict) -> None:
        with self._lock:
            self.last = ev

    def _main(self) -> None:
        try:
            if not self.queue.wait_turn(self):
                self.error = None
                return
            self.started = time.time()
            self.result = self.fn(self.progress, self._stop.is_set)
        except Exception as e:  # noqa: BLE001 -- the page shows the message; a thread must never die silently
            self.failure = e
            self.error = str(e) if isinstance(e, InputError) else f"{type(e).__name__}: {e}"
        finally:
            self.finished = time.time()
            self.queue.leave(self)


def submit(fn: Callable, name: str = "job") -> Job:
    """Start heavy work for the current session in the background: fn(progress, should_stop) -> result. The page
    keeps the Job in st.session_state and polls job.status() (e.g. in a fragment with run_every). Raises QueueFull."""
    return Job(fn, name).start()


def run_here(fn: Callable, name: str = "experiment", on_wait: Callable[[int], None] | None = None,
             progress: Callable[[dict], None] | None = None):
    """Run fn(progress, should_stop) in the calling thread (a page's own script run) once the server-wide queue
    gives it a slot, calling on_wait(place) every half second while it waits; returns fn's result. For short
    experiments a page waits for anyway (the gradient lab); should_stop() turns true when the session ends.
    Raises QueueFull; the slot is given back however fn ends (a rerun interrupts it with an exception)."""
    job = Job(fn, name)
    job.queue.enter(job)
    try:
        sessions.track_job(job.session_id, job)
        while (turn := job.queue.wait_turn(job, timeout=0.5)) is None:
            if on_wait is not None:
                on_wait(job.queue.position(job) or 1)
        if not turn:
            return None
        job.started = time.time()
        return fn(progress or job.progress, job._stop.is_set)
    finally:
        job.finished = time.time()
        job.queue.leave(job)


class TrainingJob(Job):
    """A training run on a Dataset, ending in an in-memory Bundle (self.bundle) with its PCA and neuron index."""

    def __init__(self, ds: Dataset, cfg: TrainConfig, name: str, lang: str = "custom",
                 session_id: str | None = None, queue: HeavyQueue | None = None):
        check_trainable(ds, "data")
        # Cap the vocabulary so the model fits the loader's limits: what is trained here can be uploaded again.
        fit = (MAX_PARAMS - n_params(cfg.cell, 0, cfg.emb_dim, cfg.hidden_dim)) // max(cfg.emb_dim, 1) - 2
        vocab = min(cfg.max_vocab or MAX_VOCAB, MAX_VOCAB, max(fit, 1))
        self.cfg = replace(cfg, time_limit=min(cfg.time_limit or MAX_SECONDS, MAX_SECONDS), threads=1,
                           max_vocab=vocab)
        self.cfg.check()
        super().__init__(self._train, name, session_id, queue)
        self.ds, self.lang = ds, lang
        self.epochs: list[dict] = []
        self.batch = {"epoch": 0, "batch": 0, "n_batches": 0}
        self.bundle: Bundle | None = None

    def status(self) -> dict:
        """The Job's status plus progress in [0, 1] and the per-epoch history, for the Train page."""
        s = super().status()
        with self._lock:
            epochs, batch = list(self.epochs), dict(self.batch)
        total = self.cfg.epochs * max(batch["n_batches"], 1)
        done_batches = (batch["epoch"] - 1) * batch["n_batches"] + batch["batch"] if batch["epoch"] else 0
        by_time = s["elapsed"] / self.cfg.time_limit if self.cfg.time_limit else 0.0
        return {**s, "progress": 1.0 if self.done else min(max(done_batches / total, by_time), 0.99),
                "epochs": epochs, "batch": batch}

    def progress(self, ev: dict) -> None:
        with self._lock:
            if ev["kind"] == "batch":
                self.batch = {k: ev[k] for k in ("epoch", "batch", "n_batches")}
            elif ev["kind"] == "epoch":
                self.epochs.append({k: v for k, v in ev.items() if k != "kind"})

    def _train(self, progress, should_stop) -> Bundle:
        tr, va, te = split_dataset(self.ds, self.cfg.seed)
        res = train(self.cfg, tr, va, progress=progress, should_stop=should_stop)
        metrics = metrics_card(self.name, self.lang, self.ds, self.cfg, res, (tr, va, te), self.cfg.seed,
                               "trained in the RNN Lens app")
        config = bundle_config(res.model, res.vocab, {"name": self.name, "lang": self.lang,
                                                      "max_len": self.cfg.max_len})
        # The memory-path and neuron pages need an index of training sentences, which only exists now.
        extras = build_extras(res.model, res.vocab, tr.texts, self.cfg.max_len, self.cfg.seed, n_pca=200,
                              n_index=500)
        self.bundle = Bundle(self.name, None, config, res.vocab, res.model, metrics, extras)
        return self.bundle
