"""Headless Chromium driven over the DevTools protocol on a pipe: load a page, wait for a
condition, read the DOM, take a screenshot. No package beyond the standard library.

    with Browser(user_data_dir) as browser:
        browser.open(url, width=1400, height=900)
        browser.wait_for("document.body.innerText.includes('deep/scratch')", timeout=60)
        html = browser.dom()
        browser.screenshot("shot.png")

Why not `chromium --screenshot --virtual-time-budget=...`: TensorBoard fetches its data
after the page's load event, and a virtual-time budget sometimes ends before the
charts are drawn; here the test waits, in real time, for what it asserts.

`--remote-debugging-pipe` makes Chromium read commands from fd 3 and write replies to
fd 4, each a JSON message ended by a NUL byte; bash maps our pipe ends onto 3 and 4.
Run as a script, this module writes the README's screenshot:

    python tests/output/chromium.py LOGDIR OUT.png [TAG_REGEX] [RUN_REGEX] [WIDTHxHEIGHT]
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

# the flags of DEVELOPERS.md: headless, no sandbox (root in CI containers), no GPU, and no
# network but 127.0.0.1 (every other host name fails to resolve), no first-run or sync traffic
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1")


def chromium_path() -> str | None:
    """Debian's `chromium` (or another Chromium/Chrome on PATH), or None."""
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


class Browser:
    """One headless Chromium process with a fresh profile in `user_data_dir`."""

    def __init__(self, user_data_dir: str | os.PathLike, executable: str | None = None) -> None:
        executable = executable or chromium_path()
        if executable is None:
            raise FileNotFoundError("no chromium on PATH")
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()
        command = ["bash", "-c", f'exec "$0" "$@" 3<&{to_chrome_r} 4>&{from_chrome_w}', executable,
                   *FLAGS, f"--user-data-dir={user_data_dir}", "--remote-debugging-pipe",
                   "--hide-scrollbars", "about:blank"]
        self.process = subprocess.Popen(command, pass_fds=(to_chrome_r, from_chrome_w),
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buffer = b""
        self._next_id = 0
        self.session: str | None = None

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Ask Chromium to quit, then make sure it did (by PID)."""
        try:
            if self.process.poll() is None:
                self.send("Browser.close", session=False, timeout=5)
        except (OSError, TimeoutError, RuntimeError):
            pass
        finally:
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
            for fd in (self._to_chrome, self._from_chrome):
                try:
                    os.close(fd)
                except OSError:
                    pass

    def _read_message(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_chrome], [], [], left)[0]:
                raise TimeoutError("chromium did not answer in time")
            chunk = os.read(self._from_chrome, 1 << 16)
            if not chunk:
                raise RuntimeError("chromium closed its DevTools pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def send(self, method: str, params: dict | None = None, session: bool = True,
             timeout: float = 30.0) -> dict:
        """Send one DevTools command and return its result (events in between are dropped)."""
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session and self.session is not None:
            message["sessionId"] = self.session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    def open(self, url: str, width: int = 1400, height: int = 900) -> None:
        """A new tab of width x height CSS pixels showing `url`."""
        target = self.send("Target.createTarget", {"url": "about:blank"}, session=False)
        self.session = self.send("Target.attachToTarget",
                                 {"targetId": target["targetId"], "flatten": True},
                                 session=False)["sessionId"]
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
        self.send("Page.navigate", {"url": url})

    def evaluate(self, expression: str) -> object:
        """The value of a JavaScript expression in the page."""
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        return result.get("result", {}).get("value")

    def wait_for(self, expression: str, timeout: float = 60.0, poll: float = 0.25) -> None:
        """Poll until the expression is truthy; TimeoutError (with the page's text) if not."""
        deadline = time.monotonic() + timeout
        while not self.evaluate(expression):
            if time.monotonic() > deadline:
                text = self.evaluate("document.body ? document.body.innerText : ''")
                raise TimeoutError(f"page never had {expression}; its text: {str(text)[:500]!r}")
            time.sleep(poll)

    def dom(self) -> str:
        """The rendered DOM, as `chromium --dump-dom` prints it."""
        return str(self.evaluate("document.documentElement.outerHTML"))

    def screenshot(self, path: str | os.PathLike) -> bytes:
        """A PNG of the viewport, written to `path` and returned."""
        data = base64.b64decode(self.send("Page.captureScreenshot", {"format": "png"})["data"])
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
    return list(browser.evaluate(SERIES_COLOURS) or [])


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from compare import tb_server

    logdir, out = sys.argv[1], sys.argv[2]
    tags = sys.argv[3] if len(sys.argv) > 3 else "loss"
    runs = sys.argv[4] if len(sys.argv) > 4 else ""
    width, height = (int(v) for v in (sys.argv[5] if len(sys.argv) > 5 else "1400x900").split("x"))
    server = tb_server.start(logdir)
    try:
        with tempfile.TemporaryDirectory() as profile, Browser(profile) as browser:
            tensorboard_page(browser, server.url, tags, runs, width=width, height=height)
            browser.screenshot(out)
        print(f"wrote {out}")
    finally:
        server.stop()
