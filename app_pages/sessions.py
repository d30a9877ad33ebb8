"""What a session holds on the server, kept here rather than in st.session_state so that it can be capped and freed:
the models a user trained or uploaded (at most MAX_SESSION_MODELS, MAX_SESSION_BYTES in all; the oldest goes
first) and the heavy jobs the session started.

Streamlit keeps a closed tab's session state for server.disconnectedSessionTTL (2 minutes) and never tells a script
that its session ended. A janitor thread therefore looks every few seconds at which sessions still have a
connection: a session gone for GRACE_SECONDS has its jobs stopped and its models dropped (a reload within the grace
keeps them).
"""
from __future__ import annotations

import os
import threading
import time
import uuid
from collections import OrderedDict

from rnn_core.errors import InputError
from rnn_core.limits import MAX_SESSION_BYTES, MAX_SESSION_MODELS

GRACE_SECONDS = float(os.environ.get("RNN_LENS_SESSION_GRACE", 15))
SWEEP_SECONDS = 3.0

_lock = threading.Lock()
_models: dict[str, OrderedDict] = {}
_jobs: dict[str, list] = {}
_gone_since: dict[str, float] = {}


def current_id() -> str:
    """The key of the session whose script is running ("local" outside Streamlit, e.g. in a unit test):
    "<Streamlit session id>/<token>", the token kept in the session's state. The token matters under AppTest,
    which gives every test the same session id; the janitor looks the part before "/" up among live sessions."""
    try:
        import streamlit as st
        from streamlit.runtime.scriptrunner import get_script_run_ctx
    except ImportError:
        return "local"
    ctx = get_script_run_ctx(suppress_warning=True)
    if ctx is None:
        return "local"
    key = st.session_state.get("_rl_session")
    if key is None:
        key = st.session_state["_rl_session"] = f"{ctx.session_id}/{uuid.uuid4().hex[:12]}"
    return key


def models(session_id: str | None = None) -> OrderedDict:
    """The session's own models, {name: Bundle}, oldest first. Read it; add with add_model."""
    sid = session_id or current_id()
    with _lock:
        return _models.setdefault(sid, OrderedDict())


def add_model(bundle, session_id: str | None = None) -> list[str]:
    """Keep `bundle` in the session, dropping the oldest models until the caps hold; returns the dropped names.
    A single model over the byte cap is refused (InputError)."""
    size = bundle.nbytes
    if size > MAX_SESSION_BYTES:
        raise InputError("session_model_too_big", mb=size / 2**20, limit=MAX_SESSION_BYTES // 2**20)
    mine = models(session_id)
    with _lock:
        mine.pop(bundle.name, None)
        dropped = []
        while mine and (len(mine) >= MAX_SESSION_MODELS or sum(b.nbytes for b in mine.values()) + size >
                        MAX_SESSION_BYTES):
            dropped.append(mine.popitem(last=False)[0])
        mine[bundle.name] = bundle
    _ensure_janitor()
    return dropped


def track_job(session_id: str, job) -> None:
    with _lock:
        jobs = _jobs.setdefault(session_id, [])
        jobs[:] = [j for j in jobs if not j.done] + [job]
    _ensure_janitor()


def jobs_of(session_id: str) -> list:
    with _lock:
        return list(_jobs.get(session_id, []))


def release(session_id: str) -> None:
    """The session ended: stop its jobs and drop its models."""
    with _lock:
        jobs = _jobs.pop(session_id, [])
        _models.pop(session_id, None)
        _gone_since.pop(session_id, None)
    for job in jobs:
        job.stop()


def _is_connected(key: str) -> bool:
    from streamlit.runtime import Runtime

    if not Runtime.exists():  # a unit test, or AppTest between runs: no server, every session counts as connected
        return True
    return bool(Runtime.instance().is_active_session(key.split("/", 1)[0]))


def sweep(is_connected=_is_connected, now: float | None = None) -> list[str]:
    """Release every session that has been without a connection for GRACE_SECONDS; returns their ids."""
    now = time.time() if now is None else now
    with _lock:
        known = set(_models) | set(_jobs)
    released = []
    for sid in known:
        if sid == "local" or is_connected(sid):
            _gone_since.pop(sid, None)
        elif now - _gone_since.setdefault(sid, now) >= GRACE_SECONDS:
            release(sid)
            released.append(sid)
    return released


_janitor: threading.Thread | None = None


def _ensure_janitor() -> None:
    global _janitor
    with _lock:
        if _janitor is not None and _janitor.is_alive():
            return
        _janitor = threading.Thread(target=_janitor_loop, name="rnn-lens-janitor", daemon=True)
        _janitor.start()


def _janitor_loop() -> None:
    while True:
        time.sleep(SWEEP_SECONDS)
        try:
            sweep()
        except Exception:  # noqa: BLE001,S112 -- the janitor must outlive any one bad sweep
            continue
