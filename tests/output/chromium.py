"""Headless Chromium driven by Selenium through Debian's `chromedriver`: load a page, wait for
a condition, read the DOM, take a screenshot.

    with Browser(user_data_dir) as browser:
        browser.open(url, width=1400, height=900)
        browser.wait_for("document.body.innerText.includes('deep/scratch')", timeout=60)
        html = browser.dom()
        browser.screenshot("shot.png")

Why not `chromium --screenshot --virtual-time-budget=...`: TensorBoard fetches its data
after the page's load event, and a virtual-time budget sometimes ends before the
charts are drawn; here the test waits, in real time, for what it asserts.

Nothing is downloaded: the paths of `chromium` and `chromedriver` (Debian's packages
`chromium` and `chromium-driver`) are given to Selenium, so Selenium Manager, which would
otherwise look for (and fetch) a driver, is never run. `scripts/tensorboard_screenshot.py`
uses this module to write the README's screenshot; run as a script, it still does that
for an existing logdir:

    python tests/output/chromium.py LOGDIR OUT.png [TAG_REGEX] [RUN_REGEX] [WIDTHxHEIGHT]
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterable
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.wait import WebDriverWait

# Selenium Manager only runs when no driver path is given (we always give one); should it
# run anyway, it must not go to the network
os.environ.setdefault("SE_OFFLINE", "true")

# the flags of DEVELOPERS.md: headless, no sandbox (root in CI containers), no GPU, and no
# network but 127.0.0.1 (every other host name fails to resolve), no first-run or sync traffic
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-quic", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1")

INSTALL = "apt-get install chromium chromium-driver; .ci/run installs them"


def chromium_path() -> str | None:
    """Debian's `chromium` (or another Chromium/Chrome on PATH), or None."""
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def chromedriver_path() -> str | None:
    """Debian's `chromedriver` (package chromium-driver, /usr/bin/chromedriver), or None."""
    found = shutil.which("chromedriver")
    if found:
        return found
    for path in ("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"):
        if os.access(path, os.X_OK):
            return path
    return None


def missing() -> str | None:
    """Why the browser cannot be driven here (what is missing, how to install it), or None."""
    absent = [name for name, path in (("chromium", chromium_path()),
                                      ("chromedriver", chromedriver_path())) if path is None]
    if not absent:
        return None
    return f"{' and '.join(absent)} not installed ({INSTALL})"


def pids_using(user_data_dir: str | os.PathLike) -> list[int]:
    """The processes whose command line names this profile (Linux's /proc; [] elsewhere)."""
    flag = f"--user-data-dir={Path(user_data_dir).resolve()}".encode()
    pids = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if flag in (entry / "cmdline").read_bytes().split(b"\0"):
                pids.append(int(entry.name))
        except OSError:
            pass
    return pids


class Browser:
    """One headless Chromium, with a fresh profile in `user_data_dir`, run by chromedriver."""

    def __init__(self, user_data_dir: str | os.PathLike, executable: str | None = None,
                 driver: str | None = None, timeout: float = 60.0) -> None:
        executable = executable or chromium_path()
        driver = driver or chromedriver_path()
        if executable is None or driver is None:
            raise FileNotFoundError(missing() or "chromium or chromedriver not found")
        self.user_data_dir = str(Path(user_data_dir).resolve())
        self.timeout = timeout
        options = Options()
        options.binary_location = executable
        for flag in (*FLAGS, f"--user-data-dir={self.user_data_dir}", "--hide-scrollbars"):
            options.add_argument(flag)
        service = Service(executable_path=driver, log_output=subprocess.DEVNULL)
        self.driver = webdriver.Chrome(options=options, service=service)
        try:
            self.driver.set_page_load_timeout(timeout)
            self.driver.set_script_timeout(timeout)
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Quit the browser and chromedriver, then kill (by PID) any process left with
        this profile."""
        try:
            self.driver.quit()
        except Exception:       # chromedriver gone, or not answering: the PIDs below still go
            pass
        finally:
            service_process = getattr(self.driver.service, "process", None)
            if service_process is not None and service_process.poll() is None:
                service_process.kill()
                service_process.wait(10)
            deadline = time.monotonic() + 5
            while pids_using(self.user_data_dir) and time.monotonic() < deadline:
                time.sleep(0.1)
            for pid in pids_using(self.user_data_dir):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass

    def open(self, url: str, width: int = 1400, height: int = 900) -> None:
        """Show `url` in a viewport of width x height CSS pixels (returns after its load event)."""
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                    {"width": width, "height": height, "deviceScaleFactor": 1,
                                     "mobile": False})
        self.driver.get(url)

    def evaluate(self, expression: str) -> object:
        """The value of a JavaScript expression in the page."""
        return self.driver.execute_script(f"return ({expression});")

    def wait_for(self, expression: str, timeout: float | None = None, poll: float = 0.25) -> None:
        """Poll until the expression is truthy; TimeoutError (with the page's text) if not."""
        try:
            WebDriverWait(self.driver, self.timeout if timeout is None else timeout,
                          poll_frequency=poll).until(lambda _: self.evaluate(expression))
        except TimeoutException:
            text = self.evaluate("document.body ? document.body.innerText : ''")
            raise TimeoutError(f"page never had {expression}; its text: {str(text)[:500]!r}") from None

    def dom(self) -> str:
        """The rendered DOM, as `chromium --dump-dom` prints it."""
        return str(self.evaluate("document.documentElement.outerHTML"))

    def screenshot(self, path: str | os.PathLike) -> bytes:
        """A PNG of the viewport, written to `path` and returned."""
        data = self.driver.get_screenshot_as_png()
        Path(path).write_bytes(data)
        return data


# TensorBoard's Time Series page drawn as SVG (its WebGL charts need a GPU), filtered
CHART_QUERY = "?forceSVG=true&tagFilter={tags}&runFilter={runs}#timeseries"
# the stroke colour of every series line drawn in a chart (axes and icons have no stroke style)
SERIES_COLOURS = ("Array.from(document.querySelectorAll('line-chart path'))"
                  ".filter(p => p.style.stroke && (p.getAttribute('d') || '').length > 50)"
                  ".map(p => p.style.stroke)")


def tensorboard_page(browser: Browser, url: str, tags: str = "loss", runs: str = "",
                     series: int = 2, width: int = 1400, height: int = 900) -> list[str]:
    """Open TensorBoard's scalars (Time Series) at `url` filtered to `tags` and `runs`
    (regexes), wait until `series` lines are drawn; return their stroke colours."""
    query = CHART_QUERY.format(tags=urllib.parse.quote(tags, safe=""),
                               runs=urllib.parse.quote(runs, safe=""))
    browser.open(url + query, width, height)
    browser.wait_for(f"{SERIES_COLOURS}.length >= {series}")
    time.sleep(0.5)      # let the last animation frame land before a screenshot
    colours = browser.evaluate(SERIES_COLOURS)
    return [str(c) for c in colours] if isinstance(colours, list) else []


def screenshot(logdir: str | os.PathLike, out: str | os.PathLike, tags: str = "loss",
               runs: str = "", width: int = 1400, height: int = 900, series: int = 2,
               expect: Iterable[str] = ()) -> list[str]:
    """Serve `logdir` with the project's TensorBoard starter (`tb_helpers.served`: stopped by
    PID afterwards) once it lists `expect` (run names), write the filtered Time Series page
    to `out` (PNG); return the drawn lines' colours."""
    from tests.output.tb_helpers import served

    with served(Path(logdir), set(expect)) as server, \
            tempfile.TemporaryDirectory() as profile, Browser(profile) as browser:
        colours = tensorboard_page(browser, server.url, tags, runs, series, width, height)
        browser.screenshot(out)
    return colours


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit("usage: python tests/output/chromium.py LOGDIR OUT.png [TAG_REGEX] [RUN_REGEX] "
                 "[WIDTHxHEIGHT]\n(the README's screenshot: python scripts/tensorboard_screenshot.py)")
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))     # the repository root
    logdir, out = sys.argv[1], sys.argv[2]
    tags = sys.argv[3] if len(sys.argv) > 3 else "loss"
    runs = sys.argv[4] if len(sys.argv) > 4 else ""
    width, height = (int(v) for v in (sys.argv[5] if len(sys.argv) > 5 else "1400x900").split("x"))
    screenshot(logdir, out, tags, runs, width, height)
    print(f"wrote {out}")
