"""Browser timings of the lesson, single user, on the shipped models (not a test: it prints a table).

    python -m bench.lesson_clicks [--tries 20]

submit: from Ctrl+Enter on a new sentence in the lesson's memory step to the chart showing that sentence's words.
click:  from a click on a word chip to the chosen word's frame drawn in the memory chart (the linked highlight).
heatmap click: on the main page, from a click on a column of the readout heatmap to that word's frame drawn in the
        memory chart, the readout heatmap and the unit chart (linked views, app_pages/linked.py).
Each submit uses a sentence not seen before (the app memoises traces), each click a different word from the last.
Streamlit on loopback, Debian's Chromium through Playwright, 1400×1000.
"""
from __future__ import annotations

import argparse
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench import APP, pct  # noqa: E402
from bench.browser import Server, launch  # noqa: E402
from rnn_core.text import tokenize  # noqa: E402

STEP = 5  # the memory over the sentence
ADJ = ["good", "bad", "boring", "funny", "great", "awful", "slow", "smart", "dull", "sweet", "long", "loud"]
CHART = "[...document.querySelectorAll('.js-plotly-plot')].find(g => g._fullLayout && g._fullLayout.sliders)"
TICKS = f"""want => {{ const g = {CHART};
  return !!g && JSON.stringify([...g.querySelectorAll('.xtick text')].map(e => e.textContent)) === JSON.stringify(want);
}}"""
FRAMED = f"""k => {{ const g = {CHART};
  return !!g && (g._fullLayout.shapes || []).some(s => s.type === 'rect' && Math.abs(s.x0 - (k - 0.5)) < 1e-9); }}"""


def sentences(n: int) -> list[str]:
    out = [f"the film is {a} but the cast is {b}" for a in ADJ for b in ADJ if a != b]
    return out[:n]


@contextmanager
def app_page(path: str):
    """The app on the shipped models, open at `path` in Chromium (1400×1000); server and browser stop after."""
    from playwright.sync_api import sync_playwright

    server = Server(APP, {"RNN_LENS_MODELS": None}).start()
    try:
        server.wait_healthy(120)
        with sync_playwright() as pw:
            browser = launch(pw)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(60_000)
            page.goto(server.url + path)
            yield page
            browser.close()
    finally:
        server.stop()


def run(tries: int) -> dict:
    with app_page(f"?step={STEP}") as page:
        page.locator('[data-testid="stExpander"] summary').first.click()  # the sentence controls
        box = page.locator('[data-testid="stTextArea"] textarea')
        submit, click = [], []
        for text in sentences(tries + 1):  # the first is a warm-up
            box.fill(text)
            t0 = time.perf_counter()
            box.press("Control+Enter")
            page.wait_for_function(TICKS, arg=tokenize(text), polling="raf")
            submit.append(time.perf_counter() - t0)
        words = tokenize(sentences(tries + 1)[-1])
        picks = [k for k in range(len(words)) if words.count(words[k]) == 1]
        for i in range(tries + 1):
            k = picks[i % len(picks)]
            chips = page.locator('[data-testid="stButtonGroup"]').last  # the word chips under the step's text
            chip = chips.get_by_role("radio", name=words[k], exact=True)
            t0 = time.perf_counter()
            chip.click()
            page.wait_for_function(FRAMED, arg=k, polling="raf")
            click.append(time.perf_counter() - t0)
    return {"submit": submit[1:], "click": click[1:], "heatmap click": heatmap_clicks(tries)}


CELL_XY = """([key, k]) => {
  const gd = document.querySelector(`.st-key-${key} .js-plotly-plot`);
  const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, box = gd.getBoundingClientRect();
  return [box.left + xa._offset + xa.l2p(k), box.top + ya._offset + ya.l2p(3)];
}"""
ALL_FRAMED = """k => ['memory_chart', 'readout_chart', 'unit_chart'].every(key => {
  const g = document.querySelector(`.st-key-${key} .js-plotly-plot`);
  return !!g && (g.layout.shapes || [])
    .some(s => s.type === 'rect' && s.xref === 'x' && Math.abs(s.x0 - (k - 0.5)) < 1e-9);
})"""


def heatmap_clicks(tries: int) -> list[float]:
    text = "the cast is good but the film is boring and far too long"
    n = len(tokenize(text))
    out = []
    with app_page(f"memory?text={text.replace(' ', '%20')}") as page:
        heat = page.locator(".st-key-readout_chart .js-plotly-plot")
        heat.wait_for()
        heat.scroll_into_view_if_needed()
        page.wait_for_function("() => !!document.querySelector('.st-key-unit_chart .js-plotly-plot')")
        for i in range(tries + 1):  # the first is a warm-up
            k = (2 + 5 * i) % n
            if page.evaluate(ALL_FRAMED, k):
                k = (k + 1) % n
            xy = page.evaluate(CELL_XY, ["readout_chart", k])
            t0 = time.perf_counter()
            page.mouse.click(*xy)
            page.wait_for_function(ALL_FRAMED, arg=k, polling="raf")
            out.append(time.perf_counter() - t0)
    return out[1:]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tries", type=int, default=20)
    args = ap.parse_args(argv)
    res = run(args.tries)
    print(f"| action (n={args.tries}) | p50 s | p95 s | target p95 s |")
    print("|---|---|---|---|")
    for name, target in (("submit", 0.8), ("click", 0.5), ("heatmap click", 0.5)):
        xs = res[name]
        print(f"| {name} | {pct(xs, 50):.3f} | {pct(xs, 95):.3f} | {target} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
