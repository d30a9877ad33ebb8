"""Linked views in a real browser (Playwright + Debian's Chromium, tiny random bundles): a click on a column of the
readout heatmap frames that word in the memory chart and the unit chart, a click on a row follows that unit, and
nothing logs an error. Fixtures (server, browser) come from tests/test_browser.py."""
from __future__ import annotations

from tests.test_browser import assert_clean, browser, server, tab  # noqa: F401 -- shared fixtures

try:
    from playwright.sync_api import expect
except ImportError:
    expect = None

TEXT = "good movie but boring plot"
# The page position of a heatmap cell (word k, row r) in the chart with key `key`, from plotly's own axes.
CELL_XY = """([key, k, r]) => {
  const gd = document.querySelector(`.st-key-${key} .js-plotly-plot`);
  const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, box = gd.getBoundingClientRect();
  return [box.left + xa._offset + xa.l2p(k), box.top + ya._offset + ya.l2p(r)];
}"""
# The word framed in a chart (the x-anchored rectangle) and the rows outlined (paper-wide rectangles), as drawn.
FRAMED = """(key) => {
  const gd = document.querySelector(`.st-key-${key} .js-plotly-plot`);
  const shapes = (gd && gd.layout.shapes) || [];
  return {word: shapes.filter(s => s.type === 'rect' && s.xref === 'x').map(s => s.x0 + 0.5),
          rows: shapes.filter(s => s.type === 'rect' && s.xref === 'paper').map(s => s.y0 + 0.5)};
}"""


def _ready(page):
    page.wait_for_function("() => document.querySelector('[data-testid=\"stApp\"]')"
                           ".getAttribute('data-test-script-state') === 'notRunning'")
    for key in ("memory_chart", "readout_chart", "unit_chart"):
        expect(page.locator(f".st-key-{key} .js-plotly-plot")).to_be_visible()


def _framed(page, key):
    return page.evaluate(FRAMED, key)


def test_a_click_on_a_heatmap_column_frames_that_word_everywhere(tab):  # noqa: F811
    page = tab.page
    page.goto(f"/memory?text={TEXT.replace(' ', '%20')}")
    _ready(page)
    start = _framed(page, "memory_chart")["word"]
    assert len(start) == 1
    target = 0 if start[0] != 0 else 3
    page.locator(".st-key-readout_chart .js-plotly-plot").scroll_into_view_if_needed()
    page.mouse.click(*page.evaluate(CELL_XY, ["readout_chart", target, 2]))
    page.wait_for_function(f"() => ({FRAMED})('unit_chart').word[0] === {target}")
    for key in ("memory_chart", "readout_chart", "unit_chart"):
        assert _framed(page, key)["word"] == [target], key
    # the row clicked is the unit followed: outlined in the readout heatmap and in both memory panels (h and c)
    assert _framed(page, "readout_chart")["rows"] == [2]
    assert len(_framed(page, "memory_chart")["rows"]) == 2
    word = TEXT.split()[target]
    expect(page.get_by_text(f"Word {target + 1} of 5: “{word}”")).to_be_visible()
    page.get_by_role("button", name="▶").first.click()  # one word on, by the step button
    page.wait_for_function(f"() => ({FRAMED})('memory_chart').word[0] === {target + 1}")
    expect(page.get_by_text(f"Word {target + 2} (“{TEXT.split()[target + 1]}”)", exact=False)).to_be_visible()
    # clicks the moment the charts are redrawn are not lost (the listener binds a new chart as soon as it appears)
    page.locator(".st-key-readout_chart .js-plotly-plot").scroll_into_view_if_needed()
    for k in (4, 1, 3):
        page.mouse.click(*page.evaluate(CELL_XY, ["readout_chart", k, 2]))
        page.wait_for_function(f"() => ({FRAMED})('unit_chart').word[0] === {k}", timeout=10_000)
    assert_clean(tab)
