"""The lesson in a real browser (Playwright + Debian's Chromium, tiny random bundles): walk every step with Next in
both UI languages, and check the phone layout at 390×844 — no chart shorter than 240 px, no two labels of a chart
on top of each other. Fixtures (server, browser) come from tests/test_browser.py."""
from __future__ import annotations

import pytest

from rnn_core import lesson
from rnn_core.i18n import t
from tests.test_browser import assert_clean, browser, server, tab  # noqa: F401 -- shared fixtures

try:
    from playwright.sync_api import expect
except ImportError:
    expect = None

PHONE = {"width": 390, "height": 844}
MIN_CHART_PX = 240
SUBHEADER = '[data-testid="stMain"] h3'
# Every text label of every Plotly chart: its bounding box, the chart it belongs to and its kind. Rotated tick labels
# have axis-aligned boxes that overlap their neighbours' even when the glyphs do not, so among tick labels only
# unrotated ones are compared (axis titles, rotated by 90°, have exact boxes and are all compared); labels of
# different kinds (a tick label and an axis title, a slider label and the axis above it) must never overlap.
LABELS = """() => {
  const out = [];
  document.querySelectorAll('.js-plotly-plot').forEach((g, k) => {
    const kinds = {'.xtick text': 'xtick', '.ytick text': 'ytick', '.g-xtitle text': 'title', '.g-ytitle text': 'title',
                   '.g-y2title text': 'title', '.g-y3title text': 'title', '.annotation-text': 'annotation',
                   '.legendtext': 'legend', '.slider-label': 'slider', '.slider-group text': 'slider',
                   '.updatemenu-item-text': 'button', '.cbtitle text': 'colorbar', '.cbaxis text': 'colorbar'};
    for (const [sel, kind] of Object.entries(kinds)) {
      g.querySelectorAll(sel).forEach(e => {
        const r = e.getBoundingClientRect();
        if (r.width === 0 || r.height === 0 || !e.textContent.trim()) return;
        const rotated = (e.getAttribute('transform') || '').includes('rotate');
        out.push({chart: k, kind, text: e.textContent, rotated, x0: r.left, y0: r.top, x1: r.right, y1: r.bottom});
      });
    }
  });
  return out;
}"""
CHART_HEIGHTS = """() => [...document.querySelectorAll('.js-plotly-plot')].map(g => g.getBoundingClientRect().height)"""


def overlaps(labels: list[dict], slack: float = 1.0) -> list[tuple[str, str]]:
    bad = []
    for i, a in enumerate(labels):
        for b in labels[i + 1:]:
            ticks = a["kind"] == b["kind"] and a["kind"] in ("xtick", "ytick")
            if a["chart"] != b["chart"] or (ticks and (a["rotated"] or b["rotated"])):
                continue
            if a["kind"] == b["kind"] and a["kind"] in ("slider", "colorbar"):
                continue  # a slider's tick labels and its current value; a colour bar's ticks and its title
            w = min(a["x1"], b["x1"]) - max(a["x0"], b["x0"])
            h = min(a["y1"], b["y1"]) - max(a["y0"], b["y0"])
            if w > slack and h > slack:
                bad.append((f"{a['kind']}:{a['text']}", f"{b['kind']}:{b['text']}"))
    return bad


def wait_for_step(page, k: int, lang: str) -> None:
    expect(page.locator(SUBHEADER).first).to_have_text(t(f"lesson_title_{lesson.STEPS[k]}", lang))
    page.wait_for_function("() => document.querySelector('[data-testid=\"stApp\"]')"
                           ".getAttribute('data-test-script-state') === 'notRunning'")


@pytest.mark.parametrize("ui", ["EN", "RU"])
def test_walk_the_whole_lesson_with_next(tab, ui):  # noqa: F811
    page, lang = tab.page, ui.lower()
    page.goto(f"/?ui={ui}")
    expect(page.locator("h1")).to_have_text(t("page_lesson", lang))
    for k in range(len(lesson.STEPS)):
        wait_for_step(page, k, lang)
        assert f"step={k + 1}" in page.url or k == 0
        if lesson.STEPS[k] not in ("words", "ids"):
            expect(page.locator(".js-plotly-plot").first).to_be_visible()
        if k < len(lesson.STEPS) - 1:
            page.get_by_role("button", name=t("lesson_next", lang)).click()
    expect(page.get_by_role("button", name=t("lesson_next", lang))).to_be_disabled()
    assert_clean(tab)


@pytest.fixture
def phone(browser, server):  # noqa: F811
    context = browser.new_context(viewport=PHONE, base_url=server.url, is_mobile=True, has_touch=True,
                                  device_scale_factor=2)
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


@pytest.mark.parametrize("where", [f"/?step={k + 1}" for k in range(2, len(lesson.STEPS))]
                         + ["/memory?text=the%20film%20is%20good%20but%20boring", "/gates", "/whatif", "/importance",
                            "/path", "/neurons", "/gradients"])
def test_phone_charts_are_tall_enough_and_labels_do_not_overlap(phone, where):
    phone.goto(where)
    phone.locator(".js-plotly-plot").first.wait_for()
    phone.wait_for_function("() => document.querySelector('[data-testid=\"stApp\"]')"
                            ".getAttribute('data-test-script-state') === 'notRunning'")
    phone.wait_for_timeout(400)  # Plotly's responsive relayout after the first draw
    heights = phone.evaluate(CHART_HEIGHTS)
    assert heights and min(heights) >= MIN_CHART_PX, heights
    bad = overlaps(phone.evaluate(LABELS))
    assert not bad, bad[:10]
    # the UI-language switch is reachable without opening the sidebar
    switch = phone.locator('[data-testid="stMain"] [data-testid="stButtonGroup"]').filter(has_text="RU").filter(
        has_not_text="AUTO")
    expect(switch.first).to_be_visible()
    box = switch.first.bounding_box()
    assert box["height"] >= 24 and box["width"] >= 48  # big enough to hit with a thumb
