"""The parts that need a real server and a real browser: cold start, memory, and concurrent sessions.

Streamlit runs as a user would run it (python -m streamlit run, loopback only) and Debian's Chromium is driven by
Playwright; both are imported inside the functions. Every server started here is stopped in a finally block.
"""
from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

from rnn_core.i18n import t
from rnn_core.text import detect_lang

from . import REPO, pct

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

# Streamlit's root element says whether a script run is going on (data-test-script-state): a run has finished
# when it reads notRunning, a result line is on the page and a chart is drawn (it has a box: it is visible).
DONE_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  if (![...document.querySelectorAll('h3')].some(h => h.textContent.includes('P(positive)'))) return false;
  return [...document.querySelectorAll('.js-plotly-plot')].some(e => e.getBoundingClientRect().height > 0);
}"""
# Before a commit: watch the run state, so that "finished" below means "a new run started *and* ended". React may
# commit running and notRunning in one batch for a quick run, so a changed result line also counts as a new run.
WATCH_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  const line = [...document.querySelectorAll('h3')].find(h => h.textContent.includes('P(positive)'));
  window.__benchLine = line ? line.textContent : null;
  window.__benchRan = false;
  if (window.__benchObs) window.__benchObs.disconnect();
  window.__benchObs = new MutationObserver(() => { window.__benchRan = true; });
  window.__benchObs.observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
}"""
RAN_JS = """() => {
  const line = [...document.querySelectorAll('h3')].find(h => h.textContent.includes('P(positive)'));
  return (window.__benchRan || (line && line.textContent !== window.__benchLine)) && (""" + DONE_JS + """)();
}"""
RESULT = re.compile(r"(positive|negative)\s*·\s*P\(positive\)\s*=\s*([0-9.]+)", re.I)


# The animated memory chart: the Plotly graph with a slider (the Compare tab's charts have none).
MEMORY_CHART = ("[...document.querySelectorAll('.js-plotly-plot')]"
                ".find(g => g._fullLayout && (g._fullLayout.sliders || []).length)")
# The main page's URL path: "/" is the lesson, whose first step has no result line; the bench measures the main page.
MAIN_PAGE = "memory"
LOOPBACK = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never through a proxy


class Server:
    """`python -m streamlit run SCRIPT` on 127.0.0.1 and a free port; output goes to a temporary log file.
    `env` adds to (or, with None values, removes from) this process's environment. Used by the bench, the browser
    test and scripts/screenshot.py."""

    def __init__(self, script: Path, env: dict | None = None, prefix: list[str] | None = None):
        self.script = Path(script)
        self.prefix = list(prefix or [])  # e.g. ["taskset", "-c", "0"]: pin the server to one core
        self.env = {k: v for k, v in {**os.environ, **(env or {})}.items() if v is not None}
        self.proc = None
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"

    def start(self) -> Server:
        self.log = tempfile.TemporaryFile()
        cmd = [*self.prefix, sys.executable, "-m", "streamlit", "run", str(self.script), "--server.headless", "true",
               "--server.address", "127.0.0.1", "--server.port", str(self.port), "--browser.gatherUsageStats",
               "false", "--server.fileWatcherType", "none"]  # no watcher: nothing to reload, less CPU on 2 cores
        self.proc = subprocess.Popen(cmd, cwd=REPO, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        return self

    def wait_healthy(self, timeout: float = 120) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with LOOPBACK.open(self.url + "_stcore/health", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.02)
        raise TimeoutError(f"streamlit did not answer /_stcore/health within {timeout:.0f} s")

    def rss_mb(self) -> float:
        """VmRSS of the server process: what the machine must hold for it."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS in /proc status")

    def log_tail(self, n: int = 2000) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-n:]

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()  # only the process we started, by its pid
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(pw):
    return pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


# -- cold start and memory -----------------------------------------------------------------------------------------

def cold_start(scripts: dict[str, Path], env: dict, reps: int = 3, timeout: float = 120, log=print) -> dict:
    """Seconds from launching the server until a first visitor's page has finished its first run, `reps` times per
    script, interleaved (app, minimal, app, ...) so a change in machine load hits both alike. The browser and an
    empty page exist before the server starts: their start-up is not the app's."""
    from playwright.sync_api import sync_playwright

    times = {name: [] for name in scripts}
    health = {name: [] for name in scripts}
    with sync_playwright() as pw:
        browser = launch(pw)
        try:
            for rep in range(reps):
                for name, script in scripts.items():
                    ctx = browser.new_context()
                    ctx.set_default_timeout(timeout * 1000)  # a loaded machine can take longer than 30 s to load
                    page = ctx.new_page()
                    server = Server(script, env)
                    try:
                        t0 = time.perf_counter()
                        server.start()
                        server.wait_healthy(timeout)
                        health[name].append(time.perf_counter() - t0)
                        page.goto(server.url + (MAIN_PAGE if name == "app" else ""))
                        page.wait_for_function(DONE_JS, timeout=timeout * 1000, polling=20)
                        times[name].append(time.perf_counter() - t0)
                        log(f"cold start {name} #{rep + 1}: {times[name][-1]:.2f} s (health {health[name][-1]:.2f} s)")
                    finally:
                        server.stop()
                        ctx.close()
        finally:
            browser.close()
    return {"times": times, "health": health}


def measure_rss(env: dict, texts: list[str], timeout: float = 120, log=print) -> dict:
    """Server VmRSS after visiting each text in turn and opening its Compare tab (one English, one Russian sentence
    then load all six models: that tab runs the three cells of the text's language)."""
    from playwright.sync_api import sync_playwright

    out = {}
    server = Server(REPO / "app.py", env)
    with sync_playwright() as pw:
        browser = launch(pw)
        try:
            server.start()
            server.wait_healthy(timeout)
            out["rss_mb_idle"] = server.rss_mb()
            page = browser.new_page()
            page.set_default_timeout(timeout * 1000)
            for text in texts:
                page.goto(server.url + MAIN_PAGE + "?text=" + quote(text))
                page.wait_for_function(DONE_JS, polling=50)
                page.get_by_text(f"{detect_lang(text)}-lstm").first.wait_for()  # the caption names the model used
                page.get_by_role("tab", name=t("tab_compare", "en")).click()  # a lazy tab: opening it loads 2 more
                page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length >= 5", polling=50)
                out[f"rss_mb_after_{detect_lang(text)}"] = server.rss_mb()
                log(f"rss after {detect_lang(text)} sentence: {out[f'rss_mb_after_{detect_lang(text)}']:.0f} MB")
            out["rss_mb"] = server.rss_mb()
        finally:
            browser.close()
            server.stop()
    return out


# -- concurrent sessions ---------------------------------------------------------------------------------------------

EN_TEXTS = ["a funny, touching and wonderful film", "a terrible boring mess",
            "the acting is great and the story is fun", "not good at all, i was bored",
            "one of the best movies this year", "the plot is weak but the music is lovely",
            "awful script, awful acting", "i loved every minute of it", "a dull and predictable sequel",
            "beautiful, clever and moving"]
RU_TEXTS = ["это отличный фильм", "фильм не очень хороший", "скучно и ужасно", "прекрасная музыка и хорошие актеры",
            "худший фильм года", "мне очень понравилось", "сюжет слабый, но смотреть интересно",
            "потраченное время, не советую", "замечательная история, всем рекомендую", "ужасная игра актеров"]


def load_texts(n: int, phase: int) -> list[str]:
    """n different sentences, alternating English and Russian; each phase gets its own (a repeated sentence would be
    answered from the app's trace cache and measure nothing)."""
    out = []
    for i in range(n):
        pool = EN_TEXTS if i % 2 == 0 else RU_TEXTS
        j = phase * ((n + 1) // 2) + i // 2
        out.append(pool[j % len(pool)] + (f" {j // len(pool)}" if j >= len(pool) else ""))
    return out


def expected(text: str) -> dict:
    """What `python -m rnn_core predict --model {lang}-lstm --json TEXT` prints (run in-process, same code path)."""
    from rnn_core.cli import main

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main(["predict", "--model", f"{detect_lang(text)}-lstm", "--json", text])
    if code != 0:
        raise RuntimeError(f"rnn_core predict failed for {text!r}")
    return json.loads(buf.getvalue())


async def open_session(browser, url: str, timeout: float) -> tuple:
    ctx = await browser.new_context()
    ctx.set_default_timeout(timeout * 1000)
    page = await ctx.new_page()
    t0 = time.perf_counter()
    await page.goto(url)
    await page.wait_for_function(DONE_JS, timeout=timeout * 1000, polling=50)
    return page, time.perf_counter() - t0


async def submit(page, text: str, timeout: float) -> dict:
    """Type `text` into the sentence box, commit with Ctrl+Enter, wait for the new run's result line."""
    box = page.locator("textarea").first
    await box.fill(text)
    await page.evaluate(WATCH_JS)
    t0 = time.perf_counter()
    await box.press("Control+Enter")
    await page.wait_for_function(RAN_JS, timeout=timeout * 1000, polling=20)
    seconds = time.perf_counter() - t0
    line = await page.locator("h3", has_text="P(positive)").first.inner_text()
    m = RESULT.search(line)
    return {"text": text, "seconds": seconds, "line": line,
            "label": m.group(1).lower() if m else None, "p": m.group(2) if m else None}


def grade(results: list[dict], want: dict[str, dict]) -> dict:
    """Compare each session's result line to rnn_core's own prediction (label and the probability to 3 places)."""
    wrong = [r | {"expected": f"{want[r['text']]['label']} {want[r['text']]['probability']:.3f}"} for r in results
             if r["label"] != want[r["text"]]["label"] or r["p"] != f"{want[r['text']]['probability']:.3f}"]
    secs = [r["seconds"] for r in results]
    return {"sessions": len(results), "all_correct": not wrong, "wrong": wrong,
            "result_s_p50": pct(secs, 50), "result_s_p95": pct(secs, 95), "result_s_max": max(secs)}


async def start_training(browser, url: str, timeout: float) -> object:
    """One more session opens the training page, keeps the default data (English reviews) and clicks Train."""
    ctx = await browser.new_context()
    ctx.set_default_timeout(timeout * 1000)
    page = await ctx.new_page()
    await page.goto(url + "train")
    await page.get_by_text("English reviews (Rotten Tomatoes)").first.click()  # the default; clicked to be sure
    await page.get_by_text("positive.").first.wait_for()  # the "N texts, P% positive." caption: data loaded
    await page.get_by_role("button", name="Train", exact=True).click()
    # Wait for real batches (the first seconds go to building the vocabulary), so the sessions that follow share
    # the CPU with the training loop itself.
    await page.wait_for_function("() => /Training… epoch [1-9]/.test(document.body.innerText)", polling=200)
    return page


async def training_state(page) -> str:
    text = await page.locator("body").inner_text()
    m = re.search(r"Training… epoch \d+, batch \d+/\d+, \d+ s", text)
    return m.group(0) if m else ("done" if "Done in" in text else "not running")


def cpu_seconds(server_pid: int) -> dict:
    """CPU seconds used so far by the server, by the rest of this benchmark (Chromium and Playwright's driver: our
    other descendants) and by the whole machine. On a 2-core box the browser shares the CPU with the server, so
    time to result alone cannot say whose time it was; differences of these can."""
    tick = os.sysconf("SC_CLK_TCK")
    parent, used = {}, {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                f = (d / "stat").read_text().rsplit(")", 1)[1].split()  # the name may hold spaces: split after it
            except OSError:
                continue  # the process ended while we looked
            parent[int(d.name)], used[int(d.name)] = int(f[1]), (int(f[11]) + int(f[12])) / tick

    def under(pid, root):
        while pid > 1:
            if pid == root:
                return True
            pid = parent.get(pid, 0)
        return False

    ours = sum(v for pid, v in used.items() if under(pid, os.getpid()) and not under(pid, server_pid))
    cpu = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    busy = (sum(cpu) - cpu[3] - cpu[4]) / tick  # all but idle and iowait
    return {"server": used.get(server_pid, 0.0), "bench_and_browser": ours, "machine": busy}


def cpu_split(before: dict, after: dict, wall: float) -> dict:
    d = {k: after[k] - before[k] for k in before}
    d["others"] = d["machine"] - d["server"] - d["bench_and_browser"]  # the colleagues' jobs, the OS
    return {"wall_s": round(wall, 2), **{f"cpu_s_{k}": round(v, 2) for k, v in d.items()},
            "cpu_capacity_s": round(wall * os.cpu_count(), 2)}


async def _load(n: int, env: dict, timeout: float, out: dict, log) -> None:
    from playwright.async_api import async_playwright

    texts = [load_texts(n, 0), load_texts(n, 1)]
    want = {t: expected(t) for phase in texts for t in phase}
    server = Server(REPO / "app.py", env)

    async def phase(name, coros):
        c0, t0 = cpu_seconds(server.proc.pid), time.perf_counter()
        res = await asyncio.gather(*coros)
        out.setdefault("cpu", {})[name] = cpu_split(c0, cpu_seconds(server.proc.pid), time.perf_counter() - t0)
        return res

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            server.start()
            await asyncio.to_thread(server.wait_healthy, timeout)
            out["rss_mb_before"] = server.rss_mb()
            opened = await phase("first_visits", [open_session(browser, server.url + MAIN_PAGE, timeout)
                                                   for _ in range(n)])
            pages = [p for p, _ in opened]
            out["first_visit_s_p50"] = pct([s for _, s in opened], 50)
            out["first_visit_s_p95"] = pct([s for _, s in opened], 95)
            out["rss_mb_after_first_visits"] = server.rss_mb()
            log(f"{n} sessions open (first visit p50 {out['first_visit_s_p50']:.1f} s)")
            res = await phase("alone", [submit(p, t, timeout) for p, t in zip(pages, texts[0])])
            out["alone"] = grade(res, want)
            out["rss_mb_after"] = server.rss_mb()
            log(f"alone: p50 {out['alone']['result_s_p50']:.2f} s, correct={out['alone']['all_correct']}")
            trainer = await start_training(browser, server.url, timeout)
            out["training_at_start"] = await training_state(trainer)
            res = await phase("while_training", [submit(p, t, timeout) for p, t in zip(pages, texts[1])])
            out["while_training"] = grade(res, want)
            out["training_at_end"] = await training_state(trainer)  # proves the run overlapped the whole phase
            out["rss_mb_after_training"] = server.rss_mb()
            log(f"while training: p50 {out['while_training']['result_s_p50']:.2f} s, "
                f"correct={out['while_training']['all_correct']} ({out['training_at_end']})")
        finally:
            await browser.close()
            server.stop()


def load_test(n: int, env: dict, timeout: float = 180, log=print) -> dict:
    """N concurrent sessions (one Chromium, N contexts) each type a sentence; then again while one more session
    trains a model. Bounded by `timeout` overall; whatever was measured before a timeout is still reported."""
    out = {"sessions": n, "timeout_s": timeout, "timed_out": False}
    t0 = time.perf_counter()
    try:
        asyncio.run(asyncio.wait_for(_load(n, env, timeout, out, log), timeout))
    except TimeoutError:
        out["timed_out"] = True
    except Exception as e:  # a measurement reports what broke instead of dying with a traceback
        out["error"] = f"{e.__class__.__name__}: {e}"[:2000]
    out["wall_s"] = time.perf_counter() - t0
    return out
