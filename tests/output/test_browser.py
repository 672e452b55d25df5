"""TensorBoard's page, in headless Chromium, over the three models of one experiment: the run
filter the README gives draws one model's scratch and torch runs in their own colours; the
page opens on accuracy and the check's step error and drift; `nncompare --tensorboard`'s
URL pins loss, accuracy, step error and drift above everything.

Skipped, naming what is missing, where Chromium or its driver is not installed (`.ci/run`
installs Debian's `chromium` and `chromium-driver`); the browser is driven by Selenium, as
DEVELOPERS.md and `tests/output/chromium.py` describe.
"""

from __future__ import annotations

import re
import time

import numpy as np
import pytest
from PIL import Image

from compare.output.tensorboard import server as tb_server
from compare.output.tensorboard.logger import Cadence
from tests.output.chromium import Browser, missing, pids_using, tensorboard_page
from tests.output.tb_helpers import logged_run, served

pytestmark = [pytest.mark.slow, pytest.mark.skipif(missing() is not None, reason=str(missing()))]

MODELS = ("logistic", "shallow", "deep")
RUNS = {f"{model}/{run}" for model in MODELS for run in ("scratch", "torch", "diff")}
WIDTH, HEIGHT = 1400, 900
ONE_MODEL = "^deep/"          # the README's run filter for one model's runs (test_tblog.py)
GROUPS = ("Array.from(document.querySelectorAll('metrics-card-group-toolbar-component'))"
          ".map(g => [g.querySelector('.group-title').title,"
          " g.querySelector('mat-icon').getAttribute('svgicon') === 'expand_less_24px'])")
PINNED = ("Array.from(document.querySelectorAll('metrics-pinned-view tb-truncated-path.tag'))"
          ".map(t => t.title)")


def rgb(css: str) -> tuple[int, int, int]:
    """'rgb(66, 81, 99)' -> (66, 81, 99)."""
    r, g, b = (int(v) for v in re.findall(r"\d+", css)[:3])
    return r, g, b


def shown(browser: Browser, url: str, expression: str, count: int) -> list:
    """The value of `expression` (a list) on `url`, once it has `count` entries."""
    browser.open(url, WIDTH, HEIGHT)
    browser.wait_for(f"{expression}.length >= {count}")
    time.sleep(1.0)                                   # groups and pins still arriving
    return list(browser.evaluate(expression))         # type: ignore[arg-type]


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    """The loss/train chart filtered to one model (DOM, stroke colours, screenshot path), the
    default Time Series page's tag groups and the pinned page's cards."""
    folder = tmp_path_factory.mktemp("browser")
    experiment = folder / "exp"
    for model in MODELS:
        logged_run(experiment / model, model, 30, Cadence(1, 0, 0))
    with served(experiment, RUNS) as server, Browser(folder / "profile") as browser:
        colours = tensorboard_page(browser, server.url, tags="^loss/train$", runs=ONE_MODEL,
                                   series=2, width=WIDTH, height=HEIGHT)
        dom = browser.dom()
        browser.screenshot(folder / "scalars.png")
        groups = shown(browser, server.url + "?forceSVG=true#timeseries", GROUPS, 8)
        pinned = shown(browser, tb_server.pinned(server.url), PINNED, 6)
    assert not pids_using(folder / "profile"), "a browser process outlived the test"
    return {"dom": dom, "colours": colours, "png": folder / "scalars.png", "groups": groups,
            "pinned": pinned}


def test_the_filtered_page_names_that_models_runs_and_the_chart(page):
    for run in ("deep/scratch", "deep/torch"):
        assert run in page["dom"]
    assert "loss/train" in page["dom"]


def test_scratch_and_torch_are_both_drawn_on_the_loss_chart_in_their_own_colours(page):
    assert len(set(page["colours"])) == 2             # one model's pair; the diff run has no loss


def test_the_screenshot_is_the_rendered_page_with_both_runs_colours(page):
    image = np.asarray(Image.open(page["png"]).convert("RGB"))
    assert image.shape == (HEIGHT, WIDTH, 3)
    assert page["png"].stat().st_size > 20_000
    assert len(np.unique(image.reshape(-1, 3), axis=0)) > 200       # text, charts, not blank
    for colour in set(page["colours"]):                             # legend dots and lines
        assert np.sum(np.all(image == rgb(colour), axis=2)) >= 20, colour


def test_time_series_opens_on_accuracy_and_the_checks_step_error_and_drift(page):
    names = [name for name, _ in page["groups"]]
    assert [name for name, opened in page["groups"] if opened] == ["accuracy", "check"]
    assert names[:2] == ["accuracy", "check"] and "loss" in names


def test_the_served_url_pins_loss_accuracy_step_error_and_drift_in_that_order(page):
    assert page["pinned"] == ["loss/train", "loss/test", "accuracy/train", "accuracy/test",
                              "check/step_error", "check/drift"]
