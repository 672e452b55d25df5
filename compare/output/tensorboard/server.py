"""Start TensorBoard on a finished logdir, bound to 127.0.0.1, and stop it by its PID.

    server = start("runs/flower-20250101-120000")     # port 0: a free port, read from its output
    print(server.url)                                 # http://127.0.0.1:40123/
    server.stop()

`nncompare --tensorboard` calls `serve`, which prints the URL and waits for Ctrl-C; the URL
opens the Time Series page with the loss, accuracy, step error and drift charts pinned
above every group (`pinned`).
The server runs TensorBoard's Python loader (`--load_fast=false`), so it is one
process with no data-server child left behind when it stops.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from compare.output.tensorboard import tags

URL = re.compile(r"(http://[^\s/]+:\d+/)")


@dataclass
class Server:
    """A running `tensorboard` process and the address it serves."""

    process: subprocess.Popen
    url: str = ""
    output: list[str] = field(default_factory=list)   # every line it printed so far

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self, timeout: float = 10.0) -> None:
        """Terminate the process (SIGTERM, then SIGKILL after `timeout` s) and reap it."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        if self.process.stdout is not None:
            self.process.stdout.close()


def _read_lines(server: Server, found: threading.Event) -> None:
    """Collect the server's output; set `found` once its URL is known or the output ends."""
    assert server.process.stdout is not None
    for line in server.process.stdout:
        server.output.append(line.rstrip())
        match = URL.search(line)
        if match and not server.url:
            server.url = match.group(1)
            found.set()
    found.set()


def start(logdir: str | os.PathLike, host: str = "127.0.0.1", port: int = 0,
          timeout: float = 60.0, reload_interval: float = 5.0) -> Server:
    """Start `tensorboard --logdir logdir` on host:port (0: any free port) and return once
    it says where it listens.

    Raises:
        RuntimeError: it exited or did not print its URL within `timeout` s (its output
            is in the message); the process is stopped first.
    """
    command = [sys.executable, "-m", "tensorboard.main", "--logdir", str(Path(logdir)),
               "--host", host, "--port", str(port), "--load_fast", "false",
               "--reload_interval", str(reload_interval)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, text=True, bufsize=1)
    server = Server(process)
    found = threading.Event()
    threading.Thread(target=_read_lines, args=(server, found), daemon=True).start()
    deadline = time.monotonic() + timeout
    while not found.wait(0.1):
        if time.monotonic() > deadline or process.poll() is not None:
            break
    if not server.url:
        server.stop()
        found.wait(1.0)
        raise RuntimeError("tensorboard did not start: " + " | ".join(server.output[-10:]))
    return server


def serve(logdir: str | os.PathLike) -> None:
    """Start TensorBoard on `logdir`, print its URL, and wait until Ctrl-C, then stop it."""
    server = start(logdir, port=6006 if port_free(6006) else 0)
    try:
        print(f"TensorBoard on {logdir}: {pinned(server.url)}  (Ctrl-C to stop)", flush=True)
        server.process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether nothing listens on host:port (TensorBoard's usual 6006 is preferred)."""
    with socket.socket() as s:
        return s.connect_ex((host, port)) != 0


def pinned(url: str, cards: tuple[str, ...] = tags.PINNED) -> str:
    """The Time Series page of the TensorBoard at `url` with the scalar charts `cards` pinned,
    in that order, above the tag groups (which TensorBoard orders by name, opening two)."""
    value = json.dumps([{"plugin": "scalars", "tag": tag} for tag in cards], separators=(",", ":"))
    return f"{url}?{urllib.parse.urlencode({'pinnedCards': value})}#timeseries"
