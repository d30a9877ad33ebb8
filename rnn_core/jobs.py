"""Training in the background, for the app: one thread per run, polled by the page, stoppable at any batch.

A page must stay responsive while a model trains, and a Stop button must end training *cleanly* (keeping the best
weights so far). Streamlit interrupts a running script when the user clicks anything, so the loop cannot run inside
the script: it runs here, in a thread, and the page only reads `status()` and calls `stop()`.

Fairness on a shared server: each run is capped in time (MAX_SECONDS), trains with one torch thread, and at most
MAX_JOBS runs train at once in the process (a further one is refused with a clear message, not queued).
"""
from __future__ import annotations

import os
import threading
import time
from dataclasses import replace

from .bundle import Bundle, bundle_config
from .data import Dataset
from .errors import InputError
from .explain.extras import build_extras
from .recipes import metrics_card, split_dataset
from .train import TrainConfig, check_trainable, train

MAX_SECONDS = float(os.environ.get("RNN_LENS_TRAIN_SECONDS", 120))
MAX_JOBS = int(os.environ.get("RNN_LENS_TRAIN_JOBS", 2))
_slots = threading.BoundedSemaphore(MAX_JOBS)


class TrainingJob:
    def __init__(self, ds: Dataset, cfg: TrainConfig, name: str, lang: str = "custom"):
        check_trainable(ds, "data")
        self.cfg = replace(cfg, time_limit=min(cfg.time_limit or MAX_SECONDS, MAX_SECONDS), threads=1)
        self.cfg.check()
        self.ds, self.name, self.lang = ds, name, lang
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.started = self.finished = None
        self.epochs: list[dict] = []
        self.batch = {"epoch": 0, "batch": 0, "n_batches": 0}
        self.bundle: Bundle | None = None
        self.error: str | None = None
        self.failure: Exception | None = None  # the exception behind `error`, if any

    # -- control -------------------------------------------------------------------------------------------------
    def start(self) -> TrainingJob:
        if not _slots.acquire(blocking=False):
            raise InputError("server_busy", n=MAX_JOBS)
        self.started = time.time()
        self._thread = threading.Thread(target=self._run, name=f"train-{self.name}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Ask the loop to stop after the current batch; it then keeps the best weights so far."""
        self._stop.set()

    def wait(self, timeout: float | None = None) -> bool:
        if self._thread is not None:
            self._thread.join(timeout)
        return self.done

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def done(self) -> bool:
        return self.finished is not None

    def status(self) -> dict:
        """A consistent snapshot for the page: progress in [0, 1], per-epoch history, elapsed time."""
        with self._lock:
            epochs = list(self.epochs)
            batch = dict(self.batch)
        total = self.cfg.epochs * max(batch["n_batches"], 1)
        done_batches = (batch["epoch"] - 1) * batch["n_batches"] + batch["batch"] if batch["epoch"] else 0
        elapsed = (self.finished or time.time()) - self.started if self.started else 0.0
        by_time = elapsed / self.cfg.time_limit if self.cfg.time_limit else 0.0
        return {"progress": 1.0 if self.done else min(max(done_batches / total, by_time), 0.99),
                "epochs": epochs, "batch": batch, "elapsed": elapsed, "running": self.running, "done": self.done,
                "error": self.error, "stopping": self._stop.is_set()}

    # -- the thread ----------------------------------------------------------------------------------------------
    def _progress(self, ev: dict) -> None:
        with self._lock:
            if ev["kind"] == "batch":
                self.batch = {k: ev[k] for k in ("epoch", "batch", "n_batches")}
            elif ev["kind"] == "epoch":
                self.epochs.append({k: v for k, v in ev.items() if k != "kind"})

    def _run(self) -> None:
        try:
            tr, va, te = split_dataset(self.ds, self.cfg.seed)
            res = train(self.cfg, tr, va, progress=self._progress, should_stop=self._stop.is_set)
            metrics = metrics_card(self.name, self.lang, self.ds, self.cfg, res, (tr, va, te), self.cfg.seed,
                                   "trained in the RNN Lens app")
            config = bundle_config(res.model, res.vocab, {"name": self.name, "lang": self.lang,
                                                          "max_len": self.cfg.max_len})
            # The memory-path and neuron pages need an index of training sentences, which only exists now.
            extras = build_extras(res.model, res.vocab, tr.texts, self.cfg.max_len, self.cfg.seed, n_pca=200,
                                  n_index=500)
            self.bundle = Bundle(self.name, None, config, res.vocab, res.model, metrics, extras)
        except Exception as e:  # the page shows the message; a training thread must never die silently
            self.failure = e  # the page shows an RnnLensError in the UI language
            self.error = str(e) if isinstance(e, InputError) else f"{type(e).__name__}: {e}"
        finally:
            self.finished = time.time()
            _slots.release()
