"""The README screenshot: start the app on the shipped models (assets/models), open it in Debian's Chromium at
1400×1000, wait for the memory chart, scroll it into view and save assets/screenshot.png.

    python scripts/screenshot.py [--text "a sentence"] [--ui EN|RU] [--out assets/screenshot.png]

Needs the shipped bundles, the playwright package (requirements-dev.txt) and /usr/bin/chromium; no browser download.
"""
from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
MEMORY_CHART = ("[...document.querySelectorAll('.js-plotly-plot')]"
                ".find(g => g._fullLayout && (g._fullLayout.sliders || []).length)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(port: int, log) -> subprocess.Popen:
    env = dict(os.environ)
    env.pop("RNN_LENS_MODELS", None)  # the shipped models, whatever the shell says
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
           "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false",
           "--server.fileWatcherType", "none"]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log)


def wait_healthy(proc: subprocess.Popen, url: str, timeout: float = 90) -> None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {proc.returncode}")
        try:
            with opener.open(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.25)
    raise RuntimeError(f"streamlit did not answer within {timeout:.0f} s")


def shoot(url: str, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(60_000)
            page.goto(url)
            page.wait_for_function(f"() => !!({MEMORY_CHART}) && !!({MEMORY_CHART}).querySelector('.xtick text')")
            page.evaluate("document.fonts.ready.then(() => true)")
            if page.locator('[data-testid="stException"], [data-testid="stAlertContentError"]').count():
                raise RuntimeError("the page shows an error: " + page.locator('[data-testid="stMain"]').inner_text())
            # The verdict line just below the fixed header, then the chips and the whole memory chart below it.
            page.locator("h3").first.evaluate(
                "e => { e.style.scrollMarginTop = '84px'; e.scrollIntoView({block: 'start'}); }")
            page.wait_for_timeout(800)  # let the scroll and any Plotly relayout settle
            out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(out))
        finally:
            browser.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--text", help="the sentence (default: the app's own example)")
    ap.add_argument("--ui", choices=("EN", "RU"), default="EN")
    ap.add_argument("--out", type=Path, default=ROOT / "assets" / "screenshot.png")
    args = ap.parse_args(argv)
    if not (ROOT / "assets" / "models" / "en-lstm").is_dir():
        print("error: no shipped models in assets/models (en-lstm is missing); train them first", file=sys.stderr)
        return 2
    if not os.access(CHROMIUM, os.X_OK):
        print(f"error: {CHROMIUM} not found (apt-get install chromium)", file=sys.stderr)
        return 2
    params = {"ui": args.ui} | ({"text": args.text} if args.text else {})
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        proc = start_app(port, log)
        try:
            wait_healthy(proc, url)
            shoot(f"{url}/?{urlencode(params)}", args.out)
        except Exception as e:
            log.seek(0)
            print(f"error: {e}\n--- streamlit stderr ---\n{log.read().decode(errors='replace')[-4000:]}",
                  file=sys.stderr)
            return 1
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    print(f"saved {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
