"""python -m bench.budget: the memory budget of one server in a busy classroom (issue: "the server stays <= 900 MB
RSS with 20 sessions, one training, two uploaded bundles per session at the caps, and the gradient lab running").

One app server on 127.0.0.1, driven at the protocol level by bench/load.py's User (no browser):
  1. N sessions open the Train page and upload two bundle zips, one after the other, through its model uploader
     (the page puts a fresh uploader in place of a used one). The page must say the model was loaded: an st.error,
     an exception or a dropped model is an error. By default every session uploads the same two zips, as a class
     does with the bundles its teacher handed out (the server keeps one copy); --distinct gives each session its
     own renamed copies, so that nothing can be shared.
  2. Session 0 submits the Train form (English corpus) and polls its live fragment every second, as a browser does
     (run_every is timed by the browser); session 1 runs the long-range gradient experiment with a non-default step
     budget, so it is computed live, through the server-wide heavy-work queue.
  3. VmRSS is sampled every 0.5 s. After the tabs close we wait for the janitor (app_pages/sessions.py frees their
     models after GRACE_SECONDS) and measure; then a second classroom uploads the same: if the freed memory is
     reused, RSS barely grows (RSS alone cannot tell: malloc keeps what was freed).

Upload at the protocol level: BackMsg file_urls_request -> ForwardMsg file_urls_response (file id, upload URL) ->
HTTP PUT of a multipart body (one file part; the browser calls it "files") -> a rerun whose widget state for the
uploader is a FileUploaderState naming that file. XSRF protection stays on (the server's default): like the
browser, each session reads the _streamlit_xsrf cookie (set by /_stcore/health) and sends it back as X-Xsrftoken.

--bundles shipped (default) zips assets/models/en-gru and ru-lstm with rnn_core.bundle.bundle_zip; seed zips random
bundles of bench.make_seed_models' sizes (the size the session cap in rnn_core/limits.py was set for). The app's
own config applies (.streamlit/config.toml, e.g. server.maxUploadSize); --train-seconds sets RNN_LENS_TRAIN_SECONDS.
A measurement, not a test; loopback only, bounded by --timeout; the server is always stopped.

    python -m bench.budget        # 20 sessions x 2 uploads, one training, one lab run; --distinct, --bundles seed
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
import uuid
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path

from rnn_core.i18n import t

from . import APP, pct
from .load import Answer, User, rss_mb

LIMIT_MB = 900.0
ALERTS = {1: "error", 2: "warning", 3: "info", 4: "success"}  # streamlit.proto.Alert.Format
LOADED = t("uploaded_model", "en").split("**")[0]  # "Loaded the model ": the page's word that an upload worked
LAB_DONE = t("long_done", "en").split("{")[0]  # "Live run: ": the caption of a sweep computed live


@dataclass
class Visitor(User):
    """A User that also keeps what this scenario needs from the messages: the Streamlit session id (upload URLs are
    per session), page hashes, widget ids by label (form widgets have no key), the last run's alerts and texts, and
    the fragment the page asked the browser to rerun on a timer."""

    session_id: str = ""
    pages: dict = field(default_factory=dict)  # URL path -> page script hash, from the navigation message
    by_label: dict = field(default_factory=dict)
    alerts: list = field(default_factory=list)  # (kind, body)
    texts: list = field(default_factory=list)
    fragment: str = ""
    http: object = None
    uploads: list = field(default_factory=list)  # (bundle name, error or None)
    loaded: list = field(default_factory=list)  # the models the page said it loaded, by the names it showed

    def on_message(self, fwd) -> None:
        kind = fwd.WhichOneof("type")
        if kind == "new_session":
            self.session_id = fwd.new_session.initialize.session_id
        elif kind == "auto_rerun":
            self.fragment = fwd.auto_rerun.fragment_id
        elif kind == "navigation":
            self.pages = {p.url_pathname: p.page_script_hash for p in fwd.navigation.app_pages}
        elif kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
            el = fwd.delta.new_element
            body = getattr(el, el.WhichOneof("type"))
            if getattr(body, "label", "") and getattr(body, "id", ""):
                self.by_label[body.label] = body.id
            if el.WhichOneof("type") == "alert":
                self.alerts.append((ALERTS.get(body.format, "?"), body.body))
            elif el.WhichOneof("type") == "markdown":
                self.texts.append(body.body)

    async def visit(self, page: str, widgets: dict | None = None, fragment: str = "") -> Answer:
        """One script run of `page` with these widget states ({widget id: value}); True is a button press."""
        from streamlit.proto.ClientState_pb2 import ClientState

        # The page's hash too, as the browser sends it: a rerun the script asks for (st.rerun in the Train page's
        # fragment) takes the page from it, and without one lands on the default page.
        cs = ClientState(page_name=page, page_script_hash=self.pages.get(page, ""), fragment_id=fragment,
                         is_auto_rerun=bool(fragment))
        for wid, value in (widgets or {}).items():
            w = cs.widget_states.widgets.add(id=wid)
            if value is True:
                w.trigger_value = True
            elif isinstance(value, str):
                w.string_value = value
            elif isinstance(value, list):
                w.string_array_value.data.extend(value)
            else:
                w.file_uploader_state_value.CopyFrom(value)
        self.alerts, self.texts = [], []
        return await self.run(cs)

    async def upload(self, url: str, name: str, data: bytes):
        """Upload one zip through the Train page's model uploader (a fresh one after each upload: the page retires
        the old one with its bytes); returns an error or None."""
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.Common_pb2 import FileUploaderState
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        token = {"X-Xsrftoken": self.http.cookies.get("_streamlit_xsrf", "")}
        uploader = max((k for k in self.ids if k.startswith("model_zip_")), key=lambda k: int(k.rsplit("_", 1)[1]))
        msg = BackMsg()
        msg.file_urls_request.request_id = uuid.uuid4().hex
        msg.file_urls_request.file_names.append(f"{name}.zip")
        msg.file_urls_request.session_id = self.session_id
        await self.ws.send(msg.SerializeToString())
        fwd = ForwardMsg()
        while fwd.WhichOneof("type") != "file_urls_response":  # it comes outside any script run
            fwd.ParseFromString(await self.ws.recv())
            self.on_message(fwd)
        urls = fwd.file_urls_response.file_urls[0]
        r = await asyncio.to_thread(self.http.put, url.rstrip("/") + urls.upload_url, headers=token, timeout=60,
                                    files={"files": (f"{name}.zip", data, "application/zip")})
        if r.status_code != 204:
            return f"PUT {r.status_code}: {r.text[:80]}"
        state = FileUploaderState()
        state.uploaded_file_info.add(name=f"{name}.zip", size=len(data), file_id=urls.file_id).file_urls.CopyFrom(urls)
        a = await self.visit("train", {self.ids[uploader]: state})
        bad = [b for kind, b in self.alerts if kind in ("error", "warning")]  # a warning: the cap dropped a model
        # The page names the model it loaded (an upload named like a shipped model becomes "<name>-own").
        shown = [b.split("**")[1] for k, b in self.alerts if k == "success" and b.startswith(LOADED + f"**{name}")]
        if a.error or bad or not shown:
            return (a.error or "; ".join(bad) or "no 'model loaded' message")[:200]
        self.loaded.append(shown[0])
        return None


async def open_session(stack: AsyncExitStack, v: Visitor, url: str, bundles: list, delay: float = 0) -> Visitor:
    import requests
    import websockets

    await asyncio.sleep(delay)  # a classroom arrives over a few seconds, not in one instant
    v.http = requests.Session()
    v.http.trust_env = False  # loopback: never through a proxy
    await asyncio.to_thread(v.http.get, url + "_stcore/health", timeout=30)  # sets the XSRF cookie
    v.ws = await stack.enter_async_context(websockets.connect(
        url.replace("http", "ws", 1) + "_stcore/stream", subprotocols=["streamlit"], max_size=2**26,
        open_timeout=60, ping_interval=None))
    await v.visit("train")
    for name, data in bundles:
        v.uploads.append((name, await v.upload(url, name, data)))
    return v


USE_TEXT = {"en": "the plot is dull but the cast is wonderful", "ru": "сюжет скучный, но актёры прекрасны"}


async def use_own(v: Visitor, data: dict) -> dict:
    """The main page on the session's first uploaded model (picked in its model box), with a sentence in that
    model's language: the answer must be rnn_core's own for the same zip, whichever models the server had to put
    away and unpack again meanwhile."""
    from rnn_core.bundle import load_zip
    from rnn_core.trace import trace

    from .load import MAIN_PAGE

    name, zipped = v.loaded[0], data[v.loaded[0]]
    b = load_zip(zipped, f"{name}.zip")
    text = USE_TEXT[b.lang]
    await v.visit(MAIN_PAGE)
    a = await v.visit(MAIN_PAGE, {v.ids["text"]: text, v.ids["my_model"]: name})
    tr = trace(b.model, b.vocab, text, b.max_len)
    shown = t("sidebar_model", "en", name=name, acc="").split(" ·")[0]  # "Model: **en-gru-3**": the page used it
    ok = not a.error and (a.label, a.p) == (tr.label, f"{tr.p:.3f}") and any(x.startswith(shown) for x in v.texts)
    return {"seconds": a.seconds, "error": None if ok else f"{name}: got {a.label} {a.p} {a.error}, want "
                                                          f"{tr.label} {tr.p:.3f}"}


async def bounded(job, until: float) -> dict:
    """The job's result, or "running" when the window closed first (its session stays open until the end)."""
    t0 = time.monotonic()
    try:
        return await asyncio.wait_for(job, max(until - t0, 1) + 5)
    except TimeoutError:
        return {"state": "running", "error": None, "seconds": round(time.monotonic() - t0, 1)}


async def train(v: Visitor, until: float) -> dict:
    """Submit the Train form (English corpus, default settings), then poll the live fragment once a second until
    the run's result shows (the fragment's st.rerun brings the whole page back) or `until`."""
    t0 = time.monotonic()
    a = await v.visit("train", {v.by_label[t("train_button", "en")]: True})
    out = {"state": "running", "error": a.error or next((b for k, b in v.alerts if k == "error"), None)}
    while out["error"] is None and time.monotonic() < until:
        await asyncio.sleep(1.0)
        a = await asyncio.wait_for(v.visit("train", fragment=v.fragment), 60)
        if a.error or any(k == "error" for k, _ in v.alerts):
            out["error"] = a.error or next(b for k, b in v.alerts if k == "error")
        elif any(k == "success" for k, _ in v.alerts):
            out["state"] = "done"
            break
    return {**out, "seconds": round(time.monotonic() - t0, 1)}


async def lab(v: Visitor, steps: int) -> dict:
    """The long-range experiment with a step budget other than the shipped sweep's, so it is computed live."""
    t0 = time.monotonic()
    await v.visit("gradients")
    a = await v.visit("gradients", {v.by_label[t("budget", "en")]: [str(steps)],
                                    v.by_label[t("run_experiment", "en")]: True})
    bad = a.error or next((b for k, b in v.alerts if k in ("error", "warning")), None)
    if not bad and not any(x.startswith(LAB_DONE) for x in v.texts):
        bad = "no live result"
    return {"state": "failed" if bad else "done", "error": bad, "seconds": round(time.monotonic() - t0, 1)}


async def drive(url: str, pid: int, bundles: list, sessions: int = 20, do_train: bool = True, do_lab: bool = True,
                lab_steps: int = 250, window: float = 150, free_wait: float = 21, timeout: float = 240,
                own: dict | None = None) -> dict:
    """`own`: session index -> that session's own (name, zip) list instead of `bundles` (--distinct)."""
    mine = lambda v: (own or {}).get(v.index % 100, bundles)  # noqa: E731 -- the second classroom: index 100 + i
    start = time.monotonic()
    deadline = start + timeout
    samples, stop = [], asyncio.Event()

    async def sample():  # the whole scenario's RSS, every 0.5 s; the peak is read from the work window's samples
        while not stop.is_set():
            samples.append((time.monotonic(), rss_mb([pid])))
            await asyncio.sleep(0.5)

    now_mb = lambda: round(rss_mb([pid]), 1)  # noqa: E731
    left = lambda: max(deadline - time.monotonic(), 1)  # noqa: E731
    mb = {"idle": now_mb()}
    sampler = asyncio.create_task(sample())
    async with AsyncExitStack() as once:  # one visit first: the imports are not any one session's cost
        await open_session(once, Visitor(-1), url, [])
    mb["warm"] = now_mb()
    crowd = [Visitor(i) for i in range(sessions)]
    training = lab_run = {}
    async with AsyncExitStack() as stack:
        await asyncio.wait_for(asyncio.gather(*(open_session(stack, v, url, mine(v), 0.2 * v.index) for v in crowd)),
                               left())
        mb["uploaded"] = now_mb()
        named = {shown: data for v in crowd for shown, data in  # the name each zip got on the page -> the zip
                 zip(v.loaded, [d for (_, d), (_, e) in zip(mine(v), v.uploads, strict=True) if not e], strict=True)}
        uses = await asyncio.wait_for(asyncio.gather(*(use_own(v, named) for v in crowd if v.loaded)), left())
        mb["used"] = now_mb()
        t_work, until = time.monotonic(), min(time.monotonic() + window, deadline - free_wait - 30)
        training, lab_run = await asyncio.gather(
            bounded(train(crowd[0], until), until) if do_train else asyncio.sleep(0, {}),
            bounded(lab(crowd[min(1, sessions - 1)], lab_steps), until) if do_lab else asyncio.sleep(0, {}))
        mb["end"], mb["hwm"] = now_mb(), round(rss_mb([pid], "VmHWM"), 1)
        mb["work_peak"] = round(max([r for ts, r in samples if ts >= t_work] + [mb["end"]]), 1)
    await asyncio.sleep(min(free_wait, left()))  # every tab is closed: the janitor frees their models
    mb["freed"] = now_mb()
    again = [Visitor(100 + i) for i in range(sessions)]
    if left() > 20:
        async with AsyncExitStack() as stack:
            await asyncio.wait_for(asyncio.gather(*(open_session(stack, v, url, mine(v), 0.2 * (v.index - 100))
                                                    for v in again)), left())
            mb["again"] = now_mb()
    stop.set()
    await sampler
    uploads = [(v.index, name, err) for v in crowd + again for name, err in v.uploads]
    errors = [u for u in uploads if u[2]] + [(k, "", r["error"]) for k, r in (("train", training), ("lab", lab_run))
                                             if r.get("error")] + [("use", "", u["error"]) for u in uses if u["error"]]
    return {"sessions": sessions, "bundles": [n for n, _ in bundles], "distinct": bool(own),
            "zip_mb": [round(len(d) / 2**20, 2) for _, d in bundles],
            "uploads": len(uploads), "accepted": sum(not e for *_, e in uploads), "errors": len(errors),
            "error_examples": [list(e) for e in errors[:4]], "loaded": [v.loaded for v in crowd],
            "training": training, "lab": lab_run, "uses": len(uses),
            "use_s": [round(pct([u["seconds"] for u in uses], q), 2) for q in (50, 95)] if uses else None,
            **{f"rss_mb_{k}": v for k, v in mb.items()},
            "free_wait_s": free_wait, "wall_s": round(time.monotonic() - start, 1), "samples": len(samples)}


def table(res: dict) -> str:
    def job(r):
        return f"{r['state']} after {r['seconds']} s" if r else "off"

    per = (res["rss_mb_uploaded"] - res["rss_mb_warm"]) / res["sessions"]
    again = res.get("rss_mb_again")
    rows = [("sessions x bundles", f"{res['sessions']} x {', '.join(res['bundles']) or 'none'} "
                                   f"({' + '.join(map(str, res['zip_mb'])) or 0} MB zipped"
                                   f"{'; a renamed copy for each session' if res.get('distinct') else ''})"),
            ("uploads accepted / errors (both classrooms)", f"{res['accepted']} of {res['uploads']} / {res['errors']}"),
            ("each session's own model on the main page p50/p95", "none" if not res.get("uses") else
             f"{res['uses']} answers, {res['use_s'][0]} / {res['use_s'][1]} s (RSS {res['rss_mb_used']} MB)"),
            ("training / gradient lab (long-range, live)", f"{job(res['training'])} / {job(res['lab'])}"),
            ("server RSS idle / after one visit", f"{res['rss_mb_idle']} / {res['rss_mb_warm']} MB"),
            ("RSS after the uploads (per session)", f"{res['rss_mb_uploaded']} MB ({per:.1f} MB)"),
            ("RSS peak during training + lab / at its end", f"{res['rss_mb_work_peak']} / {res['rss_mb_end']} MB"),
            ("peak RSS of the process so far (VmHWM)", f"{res['rss_mb_hwm']} MB"),
            (f"RSS {res['free_wait_s']:.0f} s after the sessions closed", f"{res['rss_mb_freed']} MB"),
            ("RSS after a second classroom's uploads", "n/a (no time left)" if again is None else
             f"{again} MB ({(again - res['rss_mb_freed']) / res['sessions']:+.1f} MB per session)"),
            ("wall time", f"{res['wall_s']} s")]
    rows += [("  error", " ".join(map(str, e))[:120]) for e in res["error_examples"]]
    ok = res["errors"] == 0 and max(res["rss_mb_hwm"], res["rss_mb_work_peak"]) <= LIMIT_MB
    rows.append((f"target: 0 errors, peak RSS <= {LIMIT_MB:.0f} MB", "PASS" if ok else "FAIL"))
    return "\n".join(f"{k:<48} {v}" for k, v in rows)


def make_bundles(kind: str, names=("en-gru", "ru-lstm")) -> list:
    """(name, zip bytes) of the bundles each session uploads: the shipped ones, or seed-sized random ones."""
    from rnn_core.bundle import bundle_zip, load_model

    if kind == "shipped":
        return [(n, bundle_zip(load_model(n))) for n in names]
    from . import make_seed_models

    with tempfile.TemporaryDirectory() as tmp:
        make_seed_models(Path(tmp))
        return [(n, bundle_zip(load_model(Path(tmp) / n))) for n in names]


def distinct_copies(bundles: list, sessions: int) -> dict:
    """Each session's own renamed copies of `bundles`: every zip differs, so none is shared on the server (the
    worst case for its memory: 2 x sessions models to keep, not two)."""
    from rnn_core.bundle import bundle_zip, load_zip

    out = {}
    for i in range(sessions):
        out[i] = []
        for name, data in bundles:
            b = load_zip(data, f"{name}.zip")
            b.name = b.config["name"] = f"{name}-{i}"
            out[i].append((b.name, bundle_zip(b)))
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.budget", description=__doc__.split("\n\n")[0])
    p.add_argument("--sessions", type=int, default=20)
    p.add_argument("--bundles", choices=["shipped", "seed"], default="shipped")
    p.add_argument("--uploads", type=int, default=2, help="bundles each session uploads (0 to 2)")
    p.add_argument("--distinct", action="store_true", help="each session uploads its own renamed copies: no two zips "
                                                           "alike, nothing shared on the server")
    p.add_argument("--no-train", action="store_true")
    p.add_argument("--no-lab", action="store_true")
    p.add_argument("--lab-steps", type=int, default=250, help="the lab's step budget (the shipped sweep's: 1000)")
    p.add_argument("--train-seconds", type=float, help="RNN_LENS_TRAIN_SECONDS for this server (default: the app's)")
    p.add_argument("--window", type=float, default=150, help="most seconds the training and the lab are watched")
    p.add_argument("--timeout", type=float, default=240, help="wall-clock limit of the scenario")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    if not (args.no_train or args.no_lab) and args.sessions < 2:
        p.error("the training and the lab need two sessions")
    from app_pages.sessions import GRACE_SECONDS, SWEEP_SECONDS

    from .browser import Server

    bundles = make_bundles(args.bundles)[: args.uploads]
    own = distinct_copies(bundles, args.sessions) if args.distinct else None
    server = Server(APP, env={"RNN_LENS_TRAIN_SECONDS": str(args.train_seconds)} if args.train_seconds else {})
    try:
        server.start().wait_healthy()
        res = asyncio.run(drive(server.url, server.proc.pid, bundles, args.sessions, not args.no_train,
                                not args.no_lab, args.lab_steps, args.window, GRACE_SECONDS + SWEEP_SECONDS + 3,
                                args.timeout, own))
    finally:
        server.stop()
    print(json.dumps(res, ensure_ascii=False) if args.json else table(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
