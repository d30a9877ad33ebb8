"""The README screenshots: start the app on the shipped models (assets/models), open it in Debian's Chromium at
1400×1000, wait for the memory chart, scroll it into view and save assets/screenshot.png; then the lesson's
memory step on the desktop (assets/lesson.png) and on a 390×844 phone (assets/lesson-phone.png).

    python scripts/screenshot.py [--text "a sentence"] [--ui EN|RU] [--out assets/screenshot.png] [--no-lesson]

Needs the shipped bundles, the playwright package (requirements-dev.txt) and /usr/bin/chromium; no browser download.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere: rnn_core is the repo's own package
from bench.browser import CHROMIUM, MEMORY_CHART, Server, launch  # noqa: E402

LESSON_STEP = 5  # the memory over the sentence: heatmap sorted by readout weight, the P(+) curve, the biggest jump
PHONE = {"width": 390, "height": 844}


def shoot_lesson(url: str, out: Path, phone: bool = False) -> None:
    """The lesson at one step, scrolled to the step's title."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = launch(pw)
        try:
            kw = {"viewport": PHONE, "is_mobile": True, "has_touch": True, "device_scale_factor": 2} if phone else {
                "viewport": {"width": 1400, "height": 1000}}
            page = browser.new_context(**kw).new_page()
            page.set_default_timeout(60_000)
            page.goto(url)
            page.locator(".js-plotly-plot .xtick text").first.wait_for()
            page.evaluate("document.fonts.ready.then(() => true)")
            if page.locator('[data-testid="stException"], [data-testid="stAlertContentError"]').count():
                raise RuntimeError("the page shows an error: " + page.locator('[data-testid="stMain"]').inner_text())
            # The step's title at the top of the view, its text, the word chips and the chart below it.
            page.locator('[data-testid="stMain"] h3').first.evaluate(
                "e => { e.style.scrollMarginTop = '60px'; e.scrollIntoView({block: 'start'}); }")
            page.wait_for_timeout(800)
            out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(out))
        finally:
            browser.close()


def shoot(url: str, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = launch(pw)
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
    ap.add_argument("--no-lesson", action="store_true", help="skip the lesson's desktop and phone screenshots")
    args = ap.parse_args(argv)
    if not (ROOT / "assets" / "models" / "en-lstm").is_dir():
        print("error: no shipped models in assets/models (en-lstm is missing); train them first", file=sys.stderr)
        return 2
    if not os.access(CHROMIUM, os.X_OK):
        print(f"error: {CHROMIUM} not found (apt-get install chromium)", file=sys.stderr)
        return 2
    params = {"ui": args.ui} | ({"text": args.text} if args.text else {})
    server = Server(ROOT / "app.py", {"RNN_LENS_MODELS": None}).start()  # the shipped models, whatever the shell says
    try:
        server.wait_healthy(90)
        shoot(f"{server.url}memory?{urlencode(params)}", args.out)
        if not args.no_lesson:
            lesson = f"{server.url}?{urlencode(params | {'step': LESSON_STEP})}"
            shoot_lesson(lesson, args.out.parent / "lesson.png")
            shoot_lesson(lesson, args.out.parent / "lesson-phone.png", phone=True)
    except Exception as e:
        print(f"error: {e}\n--- streamlit output ---\n{server.log_tail(4000)}", file=sys.stderr)
        return 1
    finally:
        server.stop()
    print(f"saved {args.out}" + ("" if args.no_lesson else " and the lesson's lesson.png, lesson-phone.png"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
