"""The app in a real browser: `streamlit run` as a subprocess on tiny random bundles, driven by Playwright with
Debian's Chromium (/usr/bin/chromium; never a downloaded browser). It checks what AppTest cannot see: the page
renders without errors, the Plotly animation really plays, typed HTML stays text, and the URL carries the state.
The models are random: this is about rendering and safety, not about the sentiment."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import pytest

from bench import APP
from bench.browser import CHROMIUM, MEMORY_CHART, Server, launch
from rnn_core.i18n import t

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # reported by the `browser` fixture: a failure in CI, a skip elsewhere
    sync_playwright = expect = None

START_TIMEOUT_S = 90  # a cold `streamlit run` imports torch: slow on a busy 2-core machine
TIMEOUT_MS = 30_000
TEXT_AREA = '[data-testid="stTextArea"] textarea'

TICKS_ARE = f"""want => {{
    const g = {MEMORY_CHART};
    const ticks = g ? [...g.querySelectorAll('.xtick text')].map(e => e.textContent) : [];
    return JSON.stringify(ticks) === JSON.stringify(want);
}}"""
# Samples the chart every 40 ms while it plays: slider position, its "after: word" label, the masks' left edges.
START_SAMPLING = f"""() => {{
    window.__samples = [];
    window.__sampler = setInterval(() => {{
        const g = {MEMORY_CHART};
        if (!g || !g._fullLayout) return;
        const label = g.querySelector('.slider-group > .slider-label');
        window.__samples.push({{
            active: g._fullLayout.sliders[0].active,
            label: label ? label.textContent : null,
            mask: g._fullData.filter(d => d.fill === 'toself').map(d => d.x[0]),
        }});
    }}, 40);
}}"""
PLAYED_TO_END = """n => {
    const s = window.__samples || [];
    const first = s.findIndex(x => x.active === 0);
    return first >= 0 && s.slice(first).some(x => x.active === n - 1);
}"""
HEATMAP_IMAGES = f"() => {{ const g = {MEMORY_CHART}; return g.querySelectorAll('.heatmaplayer image').length; }}"
# The colour plotly.js actually uses for 0 (the middle of each colour axis of the memory chart).
ZERO_COLOURS = f"""() => {{
    const L = {MEMORY_CHART}._fullLayout;
    return Object.keys(L).filter(k => /^coloraxis\\d*$/.test(k)).map(k => {{
        const mid = L[k].colorscale.find(([v]) => Math.abs(v - 0.5) < 1e-9);
        return mid ? mid[1] : 'no stop at 0.5';
    }});
}}"""


def _unavailable(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"browser test cannot run in CI: {reason}. scripts/test.sh installs Debian's chromium and "
                    "requirements-dev.txt pins playwright; CI must not skip this test.", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def server(models_root, request) -> Server:
    """`streamlit run app.py` on loopback, on the tiny bundles of all six model names; stopped after the module."""
    srv = Server(APP, {"RNN_LENS_MODELS": str(models_root)}).start()
    request.addfinalizer(srv.stop)
    try:
        srv.wait_healthy(START_TIMEOUT_S)
    except (RuntimeError, TimeoutError) as e:
        pytest.fail(f"{e}\n{srv.log_tail(4000)}")
    srv.url = srv.url.rstrip("/")
    return srv


@pytest.fixture(scope="module")
def browser():
    if sync_playwright is None:
        _unavailable("the playwright Python package is not installed (requirements-dev.txt)")
    if not os.access(CHROMIUM, os.X_OK):
        _unavailable(f"{CHROMIUM} not found (Debian package chromium)")
    expect.set_options(timeout=TIMEOUT_MS)  # its default, 5 s, is too short for a first run on a busy machine
    pw = sync_playwright().start()
    try:
        b = launch(pw)
    except Exception:
        pw.stop()
        raise
    yield b
    b.close()
    pw.stop()


@dataclass
class Tab:
    page: object
    page_errors: list = field(default_factory=list)
    console_errors: list = field(default_factory=list)
    dialogs: list = field(default_factory=list)
    not_found: list = field(default_factory=list)  # URLs that answered 404


@pytest.fixture
def tab(browser, server, request, tmp_path):
    """A fresh browser context at 1400×1000 that records uncaught errors, console errors and dialogs (dismissed).
    On failure: a screenshot and the server's stderr, paths printed to the terminal."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, base_url=server.url)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    t = Tab(page)
    page.on("pageerror", lambda e: t.page_errors.append(str(e)))
    page.on("console", lambda m: m.type == "error" and t.console_errors.append(m.text))
    page.on("dialog", lambda d: (t.dialogs.append(f"{d.type}: {d.message}"), d.dismiss()))
    page.on("response", lambda r: r.status == 404 and t.not_found.append(r.url))
    failed_before = request.session.testsfailed
    yield t
    if request.session.testsfailed > failed_before:  # this test's call phase failed (already reported)
        shot = tmp_path / "failure.png"
        try:
            page.screenshot(path=str(shot), full_page=True)
        except Exception as e:  # the page may be gone; the log still helps
            shot = f"(no screenshot: {e})"
        log = server.log_tail(20_000)
        (tmp_path / "streamlit-stderr.log").write_text(log)
        reporter = request.config.pluginmanager.get_plugin("terminalreporter")
        if reporter:
            noise = ('"GET ', '"POST ', "WebSocket", "connection open", "connection closed")
            app_lines = [line for line in log.splitlines() if not any(n in line for n in noise)]
            reporter.write_line(f"\n{request.node.name}: screenshot {shot}, server log {tmp_path}/streamlit-stderr.log"
                                "\n--- server stderr without access lines (tail) ---\n" + "\n".join(app_lines[-40:]))
    context.close()


def _rgb(colour: str) -> tuple[int, ...]:
    """'#f7f7f7', '#fff' or 'rgb(247,247,247)' → (247, 247, 247)."""
    if colour.startswith("#"):
        h = colour[1:] if len(colour) == 7 else "".join(c * 2 for c in colour[1:4])
        return tuple(int(h[i:i + 2], 16) for i in (0, 2, 4))
    return tuple(int(float(c)) for c in re.findall(r"[\d.]+", colour)[:3]) or (0,)


def wait_for_ticks(page, tokens: list[str]) -> None:
    """Until the memory chart's x axis shows exactly `tokens` (as rendered text)."""
    page.wait_for_function(TICKS_ARE, arg=tokens)


def type_sentence(page, text: str) -> None:
    """Type into the sentence box and commit (Ctrl+Enter). No need to wait for the first run to finish: the new
    value interrupts it and reruns."""
    box = page.locator(TEXT_AREA)
    box.fill(text)
    box.press("Control+Enter")


def play(page) -> list[dict]:
    """Press the chart's ▶ button and wait until the animation went from the first word to the last; the samples."""
    n = page.evaluate(f"() => {MEMORY_CHART}._fullLayout.sliders[0].steps.length")
    page.evaluate(START_SAMPLING)
    try:
        page.locator(".js-plotly-plot .updatemenu-button", has_text=t("fig_play", "en")).click()
        page.wait_for_function(PLAYED_TO_END, arg=n)
        return page.evaluate("window.__samples")
    finally:
        page.evaluate("clearInterval(window.__sampler)")


# Opened at a page's own path (/memory), Streamlit's frontend first looks for its server under that path and then
# falls back to the root: two 404s of its own, logged to the console, that say nothing about the app.
STREAMLIT_PROBE = re.compile(r"/[^/?]+/_stcore/(health|host-config)$")


def assert_clean(t: Tab) -> None:
    boxes = t.page.locator('[data-testid="stException"]')
    assert boxes.count() == 0, f"Streamlit exception on the page: {boxes.all_inner_texts()}"
    assert t.page_errors == [], f"uncaught errors in the page: {t.page_errors}"
    probes = sum(bool(STREAMLIT_PROBE.search(urlsplit(u).path)) for u in t.not_found)
    other_404 = [u for u in t.not_found if not STREAMLIT_PROBE.search(urlsplit(u).path)]
    assert other_404 == [], f"resources not found: {other_404}"
    errors = list(t.console_errors)
    for _ in range(probes):
        first_404 = next((e for e in errors if "status of 404" in e), None)
        if first_404:
            errors.remove(first_404)
    assert errors == [], f"errors in the browser console: {errors}"
    assert t.dialogs == [], f"dialogs opened: {t.dialogs}"


def test_typed_sentence_renders_and_animates(tab):
    page = tab.page
    page.goto("/memory")
    tokens = ["good", "movie", ",", "not", "boring"]
    type_sentence(page, "Good movie, not boring")
    wait_for_ticks(page, tokens)
    expect(page.locator(".rl-chip")).to_have_text(["Good", *tokens[1:]])  # chips: the words as typed
    expect(page.locator(".rl-chip").first).to_have_attribute("title", t("token_reads_as", "en", token="good"))
    n = len(tokens)
    samples = play(page)

    start = next(i for i, s in enumerate(samples) if s["active"] == 0)
    played = samples[start:]
    actives = [s["active"] for s in played]
    assert actives == sorted(actives) and actives[-1] == n - 1, actives  # forward, word by word, to the end
    assert len(set(actives)) >= 3, f"the slider jumped instead of stepping: {actives}"
    labels = {s["label"] for s in played}
    after = t("fig_after", "en")
    assert {after + "good", after + "boring"} <= labels, labels  # the slider's current-value label follows
    edges = {x for s in played for x in s["mask"]}
    assert {0.5, n - 0.5} <= edges and len(edges) >= 3, edges  # the grey masks moved from word 1 to the end
    assert_clean(tab)


def test_heatmaps_stay_visible_while_playing(tab):
    page = tab.page
    page.goto("/memory?text=good%20movie")  # LSTM: two heatmaps, h and c
    wait_for_ticks(page, ["good", "movie"])
    assert page.evaluate(HEATMAP_IMAGES) == 2
    play(page)
    assert page.evaluate(HEATMAP_IMAGES) == 2, "the heatmaps vanished when ▶ was pressed"


def test_zero_is_white_as_the_legend_says(tab):
    page = tab.page
    page.goto("/memory?text=good%20movie")
    wait_for_ticks(page, ["good", "movie"])
    colours = page.evaluate(ZERO_COLOURS)
    assert len(colours) == 2  # LSTM: h and c
    for colour in colours:
        assert min(_rgb(colour)) >= 235, f"0 is drawn as {colour}, not white"


def test_typed_html_is_shown_as_text(tab):
    page = tab.page
    payload = "<img src=x onerror=alert(1)>"
    tokens = ["<", "img", "src", "=", "x", "onerror", "=", "alert", "(", "1", ")", ">"]
    page.goto("/memory")
    type_sentence(page, payload)
    page.wait_for_function("want => new URLSearchParams(location.search).get('text') === want", arg=payload)
    shared = page.url  # the same payload again, arriving through a shared link
    for attempt in ("typed", "link"):
        if attempt == "link":
            page.goto(shared)
        wait_for_ticks(page, tokens)  # the chart shows "<" and ">" as text, not "&lt;"
        expect(page.locator(".rl-chip")).to_have_text(tokens)  # so do the chips
        page.wait_for_timeout(300)  # an injected <img> would have failed to load and fired onerror by now
        for frame in page.frames:  # st.html might one day render in an iframe: look everywhere
            assert frame.locator('img[src="x"], [onerror]').count() == 0, f"{attempt}: an element was injected"
        verdict = page.get_by_role("heading", level=3).filter(has_text=t("probability", "en") + " =")
        expect(verdict).to_be_visible()  # the label and probability line still shows
        assert_clean(tab)


def test_url_round_trip(tab):
    page = tab.page
    page.goto("/memory?text=это%20отличный%20фильм&cell=GRU&ui=RU")
    expect(page.locator("h1")).to_have_text(t("page_memory", "ru"))  # «Тональность и память»
    wait_for_ticks(page, ["это", "отличный", "фильм"])
    expect(page.locator("strong", has_text="ru-gru")).to_be_visible()  # Cyrillic text → the Russian model, GRU cell
    assert_clean(tab)

    page.goto("/memory")
    type_sentence(page, "great fun")
    page.wait_for_function("() => new URLSearchParams(location.search).get('text') === 'great fun'")
    assert parse_qs(urlsplit(page.url).query)["text"] == ["great fun"]
    page.goto(page.url)  # a new session from the link alone
    expect(page.locator(TEXT_AREA)).to_have_value("great fun")
    wait_for_ticks(page, ["great", "fun"])
    assert_clean(tab)


def test_compare_tab_runs_when_opened(tab):
    page = tab.page
    page.goto("/memory?text=good%20movie")
    wait_for_ticks(page, ["good", "movie"])
    plots = page.locator(".js-plotly-plot")
    # memory, readout, the followed unit, the opened step; the tab is lazy: a visitor who never opens it does not pay
    expect(plots).to_have_count(4)
    page.get_by_role("tab", name=t("tab_compare", "en")).click()
    expect(plots).to_have_count(8)  # compare curves and one heatmap per cell
    expect(page.locator('[data-testid="stMetric"]')).to_have_count(3)
    assert_clean(tab)


NAV_CUT = """() => [...document.querySelectorAll('[data-testid="stSidebarNav"] a span')]
    .filter(s => s.textContent.trim() && s.scrollWidth > s.clientWidth + 1).map(s => s.textContent)"""


@pytest.mark.parametrize("ui", ["RU", "EN"])
def test_navigation_titles_fit_the_sidebar(tab, ui):
    """No page title in the sidebar is cut short with an ellipsis (it once read «Исчезающий и взрывающийс…»)."""
    page = tab.page
    page.goto(f"/?ui={ui}")
    nav = page.locator('[data-testid="stSidebarNav"] a')
    expect(nav.first).to_be_visible()
    assert nav.count() == 9
    expect(nav.nth(7)).to_contain_text(t("nav_gradients", ui.lower()))
    assert page.evaluate(NAV_CUT) == []
    assert_clean(tab)
