"""What a session holds on the server, kept here rather than in st.session_state so that it can be capped and freed:
the models a user trained or uploaded (at most MAX_SESSION_MODELS, MAX_SESSION_BYTES in all; the oldest goes
first; all sessions together at most MAX_SERVER_SESSION_BYTES) and the heavy jobs the session started.

Streamlit keeps a closed tab's session state for server.disconnectedSessionTTL (2 minutes) and never tells a script
that its session ended. A janitor thread therefore looks every few seconds at which sessions still have a
connection: a session gone for GRACE_SECONDS has its jobs stopped and its models dropped (a reload within the grace
keeps them).
"""
from __future__ import annotations

import functools
import os
import threading
import time
import uuid
from collections import OrderedDict

from rnn_core.errors import InputError
from rnn_core.limits import MAX_SERVER_SESSION_BYTES, MAX_SESSION_BYTES, MAX_SESSION_MODELS

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
    sid = session_id or current_id()
    mine = models(sid)
    with _lock:
        kept = [(n, b) for n, b in mine.items() if n != bundle.name]
        dropped = []
        while kept and (len(kept) >= MAX_SESSION_MODELS or sum(b.nbytes for _, b in kept) + size > MAX_SESSION_BYTES):
            dropped.append(kept.pop(0)[0])
        _check_server_room(_others_bytes(sid) + sum(b.nbytes for _, b in kept) + size)
        mine.clear()
        mine.update(kept)
        mine[bundle.name] = bundle
    _ensure_janitor()
    return dropped


def check_room(nbytes: int, session_id: str | None = None) -> None:
    """Refuse before unpacking when even `nbytes` (a zip's size: less than the model will take) would pass the
    server-wide budget: unpacking a model only to drop it costs the memory the budget is there to keep."""
    sid = session_id or current_id()
    with _lock:
        total = _others_bytes(sid) + nbytes
    _check_server_room(total)


def _others_bytes(sid: str) -> int:
    """Bytes of every other session's models (the caller holds _lock)."""
    return sum(b.nbytes for other, ms in _models.items() if other != sid for b in ms.values())


def _check_server_room(total: int) -> None:
    if total > MAX_SERVER_SESSION_BYTES:
        raise InputError("server_models_full", limit=round(MAX_SERVER_SESSION_BYTES / 2**20, 1))


def server_bytes() -> int:
    """What all sessions' own models take, in bytes (the server-wide budget's count)."""
    with _lock:
        return sum(b.nbytes for ms in _models.values() for b in ms.values())


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
        freed = _models.pop(session_id, None)
        _gone_since.pop(session_id, None)
    for job in jobs:
        job.stop()
    if freed:
        del freed  # the last reference: drop it before trimming, not when the function returns
        trim_memory()


def limit_arenas(n: int = 2) -> None:
    """Make freed memory go back to the system. glibc gives each thread that allocates its own malloc arena (up to
    8 per core), and Streamlit runs every session's script in a thread of its own; and after the first large block
    is freed glibc raises its mmap threshold (up to 32 MB), so later model-sized buffers (a zip, a vocabulary, a
    10 MB embedding) land in those arenas and stay there when freed. Two arenas and a fixed 1 MB threshold: large
    buffers are mapped and unmapped. Process-wide, so once is enough; a no-op where libc is not glibc."""
    global _arenas_limited
    if _arenas_limited:
        return
    _arenas_limited = True
    _mallopt(-8, n)  # M_ARENA_MAX
    _mallopt(-3, 1 << 20)  # M_MMAP_THRESHOLD (setting it also turns the dynamic raise off)


_arenas_limited = False


def trim_memory() -> None:
    """Hand freed heap pages back to the system (glibc's malloc_trim), so a closed classroom lowers the RSS."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)


def _mallopt(param: int, value: int) -> None:
    libc = _glibc()
    if libc is not None:
        libc.mallopt(param, value)


@functools.cache
def _glibc():
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None
    except OSError:
        return None


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
