"""The README's screenshots come from scripts/screenshot.py, run here on the shipped models in Debian's Chromium:
the main page at 1400×1000, the lesson's memory step on the desktop and on a 390 px phone (at device scale 2).
The images the README shows were made by this same script; here they go to a temporary folder and are checked for
their size and for being real pages (not blank, not an error box)."""
import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bench.browser import CHROMIUM
from tests.test_browser import _unavailable

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_screenshot_script_makes_the_three_readme_images(tmp_path):
    if importlib.util.find_spec("playwright") is None or not os.access(CHROMIUM, os.X_OK):
        _unavailable("playwright or Chromium missing")
    spec = importlib.util.spec_from_file_location("screenshot", ROOT / "scripts" / "screenshot.py")
    shot = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(shot)
    assert shot.main(["--out", str(tmp_path / "screenshot.png")]) == 0
    sizes = {"screenshot.png": (1400, 1000), "lesson.png": (1400, 1000), "lesson-phone.png": (780, 1688)}
    for name, size in sizes.items():
        im = Image.open(tmp_path / name).convert("RGB")
        assert im.size == size, name
        px = np.asarray(im).reshape(-1, 3)
        # a page with heatmaps has thousands of colours; a blank or half-loaded page a handful
        assert len(np.unique(px[:: 7], axis=0)) > 500, name
        # the sentiment palette is there: some clearly blue and some clearly orange pixels (the heatmap cells)
        blue = (px[:, 2] > px[:, 0] + 60).mean()
        orange = (px[:, 0] > px[:, 2] + 60).mean()
        assert blue > 0.003 and orange > 0.003, (name, blue, orange)
