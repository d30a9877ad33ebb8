"""python -m bench.load: a classroom on one server, without a browser per user.

Each simulated user speaks Streamlit's own protocol: protobuf BackMsg/ForwardMsg over the websocket at
/_stcore/stream (the classes ship in streamlit.proto), exactly what the browser sends when a widget changes. A user
opens the app with a sentence in the URL, then alternates: types a new sentence (English and Russian in turn) and
switches the cell (RNN → LSTM → GRU). Every answer is checked against rnn_core's own prediction for that model and
sentence (the path `python -m rnn_core predict` takes), so an error is a wrong or missing result, not only a crash.

Reported: p50/p95 seconds from sending a change to the end of the run that shows its result, errors, the server's
CPU-seconds per interaction and its RSS (total, and per session above the idle server). Bounded: a fixed number of
interactions per user and a wall-clock limit; loopback only.

    python -m bench.load --users 50 --steps 6 --think 2      # starts its own server on 127.0.0.1
    python -m bench.load --url http://127.0.0.1:8080/ --pids 123,456   # an existing server or proxy (bench/replicas.sh)
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlparse

from . import APP, pct

RESULT = re.compile(r"^### .*?:(blue|orange)\[[^\]]*\] · P\(positive\) = ([0-9.]+)$")  # palette colours
MAIN_PAGE = "memory"  # the page the users work on ("/" is the lesson)
CELLS = ("RNN", "LSTM", "GRU")
EN = ["the cast is good but the plot is thin", "a wonderful and touching film", "boring , long and not funny",
      "i loved the music and the acting", "a terrible mess of a movie", "not bad at all , quite fun"]
RU = ["это отличный фильм", "скучно и очень долго", "актёры хорошие , но сюжет слабый", "мне очень понравилось",
      "ужасный фильм , не смотрите", "неплохо , но могло быть лучше"]


def sentence(user: int, step: int, words: int = 0) -> str:
    """A sentence per user and step, English and Russian in turn, each one different (a repeated sentence would be
    answered from the trace cache and measure nothing); `words` > 0 joins pool sentences up to about that many
    words (50: the most the models read, the heaviest page)."""
    pool = EN if (user + step) % 2 == 0 else RU
    parts, k = [], user * 7 + step
    while not parts or sum(len(p.split()) for p in parts) < words:
        parts.append(pool[k % len(pool)])
        k += 1
    return f"{' , '.join(parts)} {user}-{step}"


@dataclass
class Answer:
    seconds: float
    nbytes: int = 0  # what the server sent for this run
    label: str | None = None
    p: str | None = None
    error: str | None = None


@dataclass
class User:
    """One session: its websocket, the ids of the widgets it changes, and what it asked for."""

    index: int
    ws: object = None
    ids: dict = field(default_factory=dict)  # widget key ("text", "cell", ...) -> widget id
    page_hash: str = ""
    text: str = ""
    cell: str = "LSTM"
    log: list = field(default_factory=list)  # (kind, text, cell, Answer)

    async def run(self, client_state) -> Answer:
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        msg = BackMsg()
        msg.rerun_script.CopyFrom(client_state)
        t0 = time.perf_counter()
        await self.ws.send(msg.SerializeToString())
        answer = Answer(0.0)
        while True:
            raw = await self.ws.recv()
            answer.nbytes += len(raw)
            fwd = ForwardMsg()
            fwd.ParseFromString(raw)
            self.on_message(fwd)
            kind = fwd.WhichOneof("type")
            if kind == "new_session":
                self.page_hash = fwd.new_session.page_script_hash
            elif kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                self._element(fwd.delta.new_element, answer)
            elif kind == "script_finished":
                if fwd.script_finished == 2:  # FINISHED_EARLY_FOR_RERUN: our next message started a new run
                    continue
                answer.seconds = time.perf_counter() - t0
                return answer

    def on_message(self, fwd) -> None:
        """Every ForwardMsg of a run, as it arrives: a hook for subclasses (bench/budget.py); does nothing here."""

    def _element(self, el, answer: Answer) -> None:
        kind = el.WhichOneof("type")
        body = getattr(el, kind)
        wid = getattr(body, "id", "")
        if wid:  # "$$ID-<hash>-<key>": remember the id of each keyed widget
            self.ids[wid.rsplit("-", 1)[-1]] = wid
        if kind == "markdown" and (m := RESULT.match(body.body)):
            answer.label, answer.p = ("positive" if m.group(1) == "blue" else "negative"), m.group(2)
        elif kind == "exception" or kind == "alert" and body.format == 1:  # an exception box or st.error
            answer.error = (getattr(body, "message", "") or getattr(body, "body", ""))[:200]

    def state(self, query: str = "", widgets: dict | None = None):
        from streamlit.proto.ClientState_pb2 import ClientState

        cs = ClientState()
        cs.query_string = query
        # The page by its URL path, on every run: the hash the session reports is the entry script's, and sent back
        # it would select the default page (the lesson).
        cs.page_name = MAIN_PAGE
        for key, value in (widgets or {}).items():
            w = cs.widget_states.widgets.add()
            w.id = self.ids[key]
            if isinstance(value, list):
                w.string_array_value.data.extend(value)
            else:
                w.string_value = value
        return cs


async def user_session(u: User, url: str, steps: int, think: float, rng: random.Random, deadline: float,
                       words: int = 0) -> None:
    import websockets

    ws_url = url.replace("http", "ws", 1).rstrip("/") + "/_stcore/stream"
    # The cookie is what a sticky proxy routes by (bench/replicas.py); a plain server ignores it.
    async with websockets.connect(ws_url, subprotocols=["streamlit"], max_size=2**26, open_timeout=60,
                                  ping_interval=None, additional_headers={"Cookie": f"rnnlens=user{u.index}"}) as ws:
        u.ws = ws
        u.text = sentence(u.index, 0, words)
        u.log.append(("open", u.text, u.cell, await u.run(u.state("text=" + quote(u.text)))))
        for step in range(1, steps + 1):
            if time.monotonic() > deadline:
                return
            await asyncio.sleep(rng.uniform(0.5 * think, 1.5 * think))
            if step % 2:
                u.text = sentence(u.index, step, words)
                change = {"text": u.text}
            else:
                u.cell = CELLS[(CELLS.index(u.cell) + 1) % len(CELLS)]
                change = {"cell": [u.cell]}
            u.log.append(("type" if "text" in change else "cell", u.text, u.cell, await u.run(u.state(widgets=change))))


def expected(text: str, cell: str) -> tuple[str, str]:
    """rnn_core's own answer for the model the page picks (text language, cell): label and P to 3 places."""
    from rnn_core import detect_lang, load_model
    from rnn_core.trace import trace

    b = _model(f"{detect_lang(text)}-{cell.lower()}", load_model)
    tr = trace(b.model, b.vocab, text, b.max_len)
    return tr.label, f"{tr.p:.3f}"


_MODELS: dict = {}


def _model(name, load):
    if name not in _MODELS:
        _MODELS[name] = load(name)
    return _MODELS[name]


def grade(users: list[User]) -> dict:
    rows = [(kind, text, cell, a) for u in users for kind, text, cell, a in u.log]
    wrong = []
    for kind, text, cell, a in rows:
        want = expected(text, cell)
        if a.error or (a.label, a.p) != want:
            wrong.append({"kind": kind, "text": text, "cell": cell, "got": [a.label, a.p, a.error], "want": want})
    inter = [a.seconds for kind, _, _, a in rows if kind != "open"]
    opens = [a.seconds for kind, _, _, a in rows if kind == "open"]
    sent = [a.nbytes for kind, _, _, a in rows if kind != "open"]
    return {"interactions": len(inter), "opens": len(opens), "errors": len(wrong), "wrong": wrong[:5],
            "kb_per_interaction": round(sum(sent) / max(len(sent), 1) / 1024, 1),
            "result_s_p50": pct(inter, 50) if inter else None, "result_s_p95": pct(inter, 95) if inter else None,
            "result_s_max": max(inter) if inter else None, "open_s_p50": pct(opens, 50) if opens else None,
            "open_s_p95": pct(opens, 95) if opens else None}


def cpu_seconds(pids: list[int]) -> float:
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / tick  # utime + stime
    return total


def rss_mb(pids: list[int], key: str = "VmRSS") -> float:
    total = 0.0
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                total += int(line.split()[1]) / 1024
    return total


async def drive(url: str, pids: list[int], users: int, steps: int, think: float, ramp: float, seed: int,
                timeout: float, words: int = 0) -> dict:
    rng = random.Random(seed)
    deadline = time.monotonic() + timeout
    idle_rss = rss_mb(pids) if pids else None
    # One visit before the crowd loads torch and the models (on every replica: a proxy may spread them), so that
    # "per session" below is what one more session costs, not the first one's imports.
    warm = [User(-1 - i) for i in range(4 * max(len(pids), 1))]  # enough to reach every replica behind a proxy
    await asyncio.gather(*(user_session(u, url, 0, 0, rng, deadline) for u in warm))
    warm_rss = rss_mb(pids) if pids else None
    crowd = [User(i) for i in range(users)]
    cpu0, t0 = (cpu_seconds(pids) if pids else None), time.perf_counter()

    async def one(u: User):
        await asyncio.sleep(u.index * ramp)  # users arrive over users * ramp seconds, not all in one instant
        try:
            await asyncio.wait_for(user_session(u, url, steps, think, random.Random(rng.random()), deadline,
                                                words), timeout + 60)
        except Exception as e:  # noqa: BLE001 -- a failed session is an error in the report, not a crash
            u.log.append(("fail", u.text, u.cell, Answer(0.0, error=f"{type(e).__name__}: {e}"[:200])))

    await asyncio.gather(*(one(u) for u in crowd))
    wall = time.perf_counter() - t0
    res = {"url": url, "users": users, "steps": steps, "think_s": think, "words": words, "wall_s": round(wall, 1),
           "timed_out": time.monotonic() > deadline, **grade(crowd)}
    if pids:
        cpu = cpu_seconds(pids) - cpu0
        n = res["interactions"] + res["opens"]
        res.update(server_cpu_s=round(cpu, 1), cpu_s_per_interaction=round(cpu / max(n, 1), 3),
                   interactions_per_s=round(n / wall, 2), rss_mb_idle=round(idle_rss, 1),
                   rss_mb_warm=round(warm_rss, 1),
                   rss_mb=round(rss_mb(pids), 1), rss_mb_peak=round(rss_mb(pids, "VmHWM"), 1),
                   rss_mb_per_session=round((rss_mb(pids) - warm_rss) / users, 2))
    return res


TARGETS = {"result_s_p95": 2.0, "rss_mb": 900.0, "errors": 0}


def table(res: dict) -> str:
    def secs(*keys):
        return " / ".join("n/a" if res[k] is None else f"{res[k]:.2f}" for k in keys) + " s"

    rows = [("users (sessions) x steps, think time, words", f"{res['users']} x {res['steps']}, {res['think_s']} s, "
                                                          f"{res['words'] or 'short'}"),
            ("interactions (+ first visits)", f"{res['interactions']} (+ {res['opens']})"),
            ("errors (wrong or missing results)", str(res["errors"])),
            ("KB sent per interaction", str(res["kb_per_interaction"])),
            ("time to result p50 / p95 / max", secs("result_s_p50", "result_s_p95", "result_s_max")),
            ("first visit p50 / p95", secs("open_s_p50", "open_s_p95"))]
    if "server_cpu_s" in res:
        rows += [("server CPU s per interaction", f"{res['cpu_s_per_interaction']:.3f} ({res['server_cpu_s']} s "
                                                  f"in {res['wall_s']} s)"),
                 ("throughput", f"{res['interactions_per_s']} interactions/s"),
                 ("server RSS idle / after one visit / end / peak",
                  f"{res['rss_mb_idle']} / {res['rss_mb_warm']} / {res['rss_mb']} / {res['rss_mb_peak']} MB"),
                 ("RSS per further session", f"{res['rss_mb_per_session']} MB")]
    ok = res["errors"] == 0 and (res["result_s_p95"] or 99) <= TARGETS["result_s_p95"] and \
        res.get("rss_mb_peak", 0) <= TARGETS["rss_mb"]
    rows.append(("targets: 0 errors, p95 <= 2 s, RSS <= 900 MB", "PASS" if ok else "FAIL"))
    return "\n".join(f"{k:<48} {v}" for k, v in rows)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n\n")[0])
    p.add_argument("--users", type=int, default=50)
    p.add_argument("--steps", type=int, default=6, help="interactions per user after the first visit")
    p.add_argument("--think", type=float, default=2.0, help="mean seconds a user waits between interactions")
    p.add_argument("--ramp", type=float, default=0.1, help="seconds between two users' arrivals")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--words", type=int, default=0, help="sentences of about this many words (0: short ones)")
    p.add_argument("--timeout", type=float, default=600, help="wall-clock limit of the whole run")
    p.add_argument("--url", help="an existing server or proxy on loopback (default: start one)")
    p.add_argument("--pids", default="", help="with --url: server pids to measure CPU and RSS on, comma-separated")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    if args.url and urlparse(args.url).hostname not in ("127.0.0.1", "localhost"):
        print("error: the load test targets loopback only", file=sys.stderr)
        return 2
    server = None
    try:
        if args.url:
            url, pids = args.url, [int(x) for x in args.pids.split(",") if x]
        else:
            from .browser import Server

            server = Server(APP).start()
            server.wait_healthy()
            url, pids = server.url, [server.proc.pid]
        res = asyncio.run(drive(url, pids, args.users, args.steps, args.think, args.ramp, args.seed, args.timeout,
                                args.words))
    finally:
        if server is not None:
            server.stop()
    print(json.dumps(res, ensure_ascii=False) if args.json else table(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
