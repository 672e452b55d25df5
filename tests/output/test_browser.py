"""TensorBoard's page, in headless Chromium, draws the scratch and torch runs on one chart.

Skipped, naming what is missing, where Chromium or its driver is not installed (`.ci/run`
installs Debian's `chromium` and `chromium-driver`); the browser is driven by Selenium, as
DEVELOPERS.md and `tests/output/chromium.py` describe.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image

from compare.output.tensorboard.logger import Cadence
from tests.output.chromium import Browser, missing, pids_using, tensorboard_page
from tests.output.tb_helpers import logged_run, served

pytestmark = [pytest.mark.slow, pytest.mark.skipif(missing() is not None, reason=str(missing()))]

RUNS = {"shallow/scratch", "shallow/torch", "shallow/diff"}
WIDTH, HEIGHT = 1400, 900


def rgb(css: str) -> tuple[int, int, int]:
    """'rgb(66, 81, 99)' -> (66, 81, 99)."""
    r, g, b = (int(v) for v in re.findall(r"\d+", css)[:3])
    return r, g, b


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    """The loss/train chart of a logged shallow net: (DOM, stroke colours, screenshot path)."""
    folder = tmp_path_factory.mktemp("browser")
    experiment = folder / "exp"
    logged_run(experiment / "shallow", "shallow", 40, Cadence(1, 0, 0))
    with served(experiment, RUNS) as server, Browser(folder / "profile") as browser:
        colours = tensorboard_page(browser, server.url, tags="^loss/train$", series=2,
                                   width=WIDTH, height=HEIGHT)
        dom = browser.dom()
        browser.screenshot(folder / "scalars.png")
    assert not pids_using(folder / "profile"), "a browser process outlived the test"
    return dom, colours, folder / "scalars.png"


def test_the_page_names_every_run_and_the_chart(page):
    dom, _, _ = page
    for run in sorted(RUNS):
        assert run in dom
    assert "loss/train" in dom


def test_scratch_and_torch_are_both_drawn_on_the_loss_chart_in_their_own_colours(page):
    _, colours, _ = page
    assert len(set(colours)) == 2            # two runs have loss/train; diff has none


def test_the_screenshot_is_the_rendered_page_with_both_runs_colours(page):
    _, colours, path = page
    image = np.asarray(Image.open(path).convert("RGB"))
    assert image.shape == (HEIGHT, WIDTH, 3)
    assert path.stat().st_size > 20_000
    assert len(np.unique(image.reshape(-1, 3), axis=0)) > 200       # text, charts, not blank
    for colour in set(colours):                                     # legend dots and lines
        assert np.sum(np.all(image == rgb(colour), axis=2)) >= 20, colour
