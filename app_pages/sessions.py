"""What a session holds on the server, kept here rather than in st.session_state so that it can be capped and freed:
the models a user trained or uploaded (at most MAX_SESSION_MODELS, MAX_SESSION_BYTES in all; the oldest goes
first) and the heavy jobs the session started.

A session's models are kept as their zips in one folder on disk, under their content's SHA-256 (a classroom that
uploads the bundle its teacher handed out stores it once), and only the most recently used ones are unpacked in
memory: MAX_SERVER_SESSION_BYTES for all sessions together (~19 MB of RSS each at the shipped size). A model used
again after it was put away is unpacked again (~0.1 s for a shipped-size zip). So memory stays bounded whatever the
number of sessions; disk holds at most MAX_SERVER_STORE_BYTES of zips, past which a new model is refused with a
clear message (checked before unpacking).

Streamlit keeps a closed tab's session state for server.disconnectedSessionTTL (2 minutes) and never tells a script
that its session ended. A janitor thread therefore looks every few seconds at which sessions still have a
connection: a session gone for GRACE_SECONDS has its jobs stopped and its models dropped (a reload within the grace
keeps them).
"""
from __future__ import annotations

import atexit
import functools
import hashlib
import os
import shutil
import tempfile
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from rnn_core.errors import InputError
from rnn_core.limits import MAX_SERVER_SESSION_BYTES, MAX_SERVER_STORE_BYTES, MAX_SESSION_BYTES, MAX_SESSION_MODELS

GRACE_SECONDS = float(os.environ.get("RNN_LENS_SESSION_GRACE", 15))
SWEEP_SECONDS = 3.0

_lock = threading.RLock()
_unpack = threading.Lock()  # one unpacking at a time: two sessions asking for one zip unpack it once
_models: dict[str, OrderedDict] = {}  # session -> {model name: digest}, oldest first
_store: dict[str, _Stored] = {}  # digest -> a zip on disk
_loaded: OrderedDict = OrderedDict()  # digest -> Bundle, least recently used first
_jobs: dict[str, list] = {}
_gone_since: dict[str, float] = {}
_folder: Path | None = None


@dataclass
class _Stored:
    path: Path
    name: str  # the model's name in its sessions (a zip's own config may name it otherwise)
    nbytes: int  # what it takes unpacked (Bundle.nbytes)
    disk: int
    holders: set = field(default_factory=set)  # sessions that keep it


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


class SessionModels(Mapping):
    """A session's own models, {name: Bundle}, oldest first; a model put away is unpacked again when looked up.
    Read it; add with add_model or add_upload."""

    def __init__(self, sid: str):
        self.sid = sid

    def _names(self) -> OrderedDict:
        with _lock:
            return OrderedDict(_models.get(self.sid, ()))

    def __iter__(self):
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())

    def __contains__(self, name) -> bool:
        return name in self._names()

    def __getitem__(self, name: str):
        digest = self._names()[name]
        b = _bundle(digest)
        if b is None:  # dropped by another thread meanwhile (a newer upload, the janitor)
            raise KeyError(name)
        return b


def models(session_id: str | None = None) -> SessionModels:
    return SessionModels(session_id or current_id())


def add_model(bundle, session_id: str | None = None, data: bytes | None = None, digest: str | None = None) -> list[str]:
    """Keep `bundle` in the session (`data`: the zip it was read from, else it is zipped here; `digest`: its SHA-256
    if the caller has it), dropping the oldest models until the caps hold; returns the dropped names. A model over
    the session's byte cap, or one that the server's store has no room for, is refused (InputError)."""
    size = bundle.nbytes
    if size > MAX_SESSION_BYTES:
        raise InputError("session_model_too_big", mb=size / 2**20, limit=MAX_SESSION_BYTES // 2**20)
    if data is None:
        from rnn_core.bundle import bundle_zip

        data = bundle_zip(bundle)
    digest = digest or hashlib.sha256(data).hexdigest()
    sid = session_id or current_id()
    with _lock:
        mine = _models.setdefault(sid, OrderedDict())
        kept = [(n, d) for n, d in mine.items() if n != bundle.name]
        dropped = []
        while kept and (len(kept) >= MAX_SESSION_MODELS or sum(_store[d].nbytes for _, d in kept) + size >
                        MAX_SESSION_BYTES):
            dropped.append(kept.pop(0))
        if digest not in _store:
            leaving = {d for _, d in [*dropped, *mine.items()] if _store[d].holders == {sid}} - {d for _, d in kept}
            _check_server_room(stored_bytes() - sum(_store[d].disk for d in leaving) + len(data))
            try:
                path = _store_folder() / f"{digest}.zip"
                path.write_bytes(data)
            except OSError as e:  # a full or read-only disk: say so, not a traceback
                raise InputError("server_store_failed", why=e.strerror or type(e).__name__) from None
            _store[digest] = _Stored(path, bundle.name, size, len(data))
        old = dict(mine)
        mine.clear()
        mine.update(kept)
        mine[bundle.name] = digest
        _store[digest].holders.add(sid)
        for d in set(old.values()) - set(mine.values()):
            _let_go(d, sid)
        if digest not in _loaded:  # else: another session's copy of the same bytes is already in memory
            _loaded[digest] = bundle
        _used(digest)
    _ensure_janitor()
    return [n for n, _ in dropped]


def add_upload(data: bytes, filename: str, session_id: str | None = None):
    """Keep an uploaded bundle zip in the session: (Bundle, names of older models dropped to make room). Bytes the
    server already holds are not unpacked again; others are refused before unpacking when the store has no room.
    Raises BundleError (a bad zip) or InputError (no room)."""
    from rnn_core.bundle import load_zip

    digest = hashlib.sha256(data).hexdigest()
    sid = session_id or current_id()
    b = _bundle(digest)
    if b is None:
        check_room(len(data))
        b = load_zip(data, filename)
    return b, add_model(b, sid, data, digest)


def check_room(nbytes: int) -> None:
    """Refuse before unpacking when a zip of `nbytes` could not be stored: unpacking a model only to drop it costs
    the memory the budget is there to keep. (Every stored zip counts as staying, even one this session will drop.)"""
    with _lock:
        total = stored_bytes() + nbytes
    _check_server_room(total)


def _check_server_room(total: int) -> None:
    if total > MAX_SERVER_STORE_BYTES:
        raise InputError("server_models_full", limit=round(MAX_SERVER_STORE_BYTES / 2**20, 1))


def _bundle(digest: str):
    """The unpacked Bundle of a stored zip (unpacking it again if it was put away), or None if it is gone."""
    b, stored = _in_memory(digest)
    if b is not None or stored is None:
        return b
    from rnn_core.bundle import load_zip

    with _unpack:
        b, stored = _in_memory(digest)  # unpacked (or released) by another thread while this one waited
        if b is not None or stored is None:
            return b
        try:
            b = load_zip(stored.path.read_bytes(), f"{stored.name}.zip")
        except FileNotFoundError:  # released meanwhile
            return None
        b.name = stored.name
        with _lock:
            if digest not in _store:
                return None
            _loaded[digest] = b
            _used(digest)
    return b


def _in_memory(digest: str) -> tuple:
    """(the unpacked Bundle, None) if it is in memory (now the most recently used), else (None, its stored zip or
    None)."""
    with _lock:
        if digest in _loaded:
            _used(digest)
            return _loaded[digest], None
        return None, _store.get(digest)


def _used(digest: str) -> None:
    """Mark a loaded model as the most recently used and put the least used away until the memory cap holds (the
    caller holds _lock). A model still in use by a running script stays alive until that run lets go of it."""
    _loaded.move_to_end(digest)
    while len(_loaded) > 1 and sum(_store[d].nbytes for d in _loaded) > MAX_SERVER_SESSION_BYTES:
        _loaded.popitem(last=False)


def _let_go(digest: str, sid: str) -> None:
    """The session no longer keeps this model; the last one to let go deletes the zip (the caller holds _lock)."""
    stored = _store.get(digest)
    if stored is None:
        return
    stored.holders.discard(sid)
    if not stored.holders:
        del _store[digest]
        _loaded.pop(digest, None)
        stored.path.unlink(missing_ok=True)


def _store_folder() -> Path:
    global _folder
    if _folder is None or not _folder.is_dir():
        _folder = Path(tempfile.mkdtemp(prefix="rnn-lens-models-"))
        atexit.register(shutil.rmtree, _folder, True)
    return _folder


def server_bytes() -> int:
    """What the sessions' models unpacked in memory take, in bytes (at most MAX_SERVER_SESSION_BYTES, or one model)."""
    with _lock:
        return sum(_store[d].nbytes for d in _loaded)


def stored_bytes() -> int:
    """What all sessions' models take on disk, each distinct zip once (at most MAX_SERVER_STORE_BYTES)."""
    with _lock:
        return sum(s.disk for s in _store.values())


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
        freed = _models.pop(session_id, {})
        _gone_since.pop(session_id, None)
        for digest in set(freed.values()):
            _let_go(digest, session_id)
    for job in jobs:
        job.stop()
    if freed:
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
