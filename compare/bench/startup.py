"""How long a user waits before `nncompare` shows anything: its time to first output.

Each command runs in a fresh process on a pseudo-terminal, as in a user's shell (so the
progress bar is drawn, as it is on a terminal); the clock runs from the start of the
process to the first byte it writes, and to its end. Linux and macOS (the `pty` module);
elsewhere the section is left out.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time

COMMANDS = (("--help",), ("--model", "deep", "--iterations", "2000", "--no-log"),
            ("--model", "deep", "--iterations", "2000", "--no-log", "--no-progress"))
QUICK_COMMANDS = (("--help",), ("--model", "logistic", "--iterations", "20", "--no-log"))


def first_output(argv: tuple[str, ...], timeout_s: float = 600) -> dict:
    """{'command', 'first_output_s', 'total_s', 'rc'} of `python -m compare <argv>` on a pty."""
    import pty

    leader, follower = pty.openpty()
    _set_size(follower, 24, 100)                       # a fresh pty is 0 x 0: no bar fits
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "compare", *argv], stdin=subprocess.DEVNULL,
                            stdout=follower, stderr=follower, close_fds=True)
    os.close(follower)
    first: float | None = None
    try:
        while time.perf_counter() - t0 < timeout_s:
            ready, _, _ = select.select([leader], [], [], 0.5)
            if ready and not _drain(leader):
                break                                  # the process closed the terminal
            if ready and first is None:
                first = time.perf_counter() - t0
        rc = proc.wait(timeout=max(1.0, timeout_s - (time.perf_counter() - t0)))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
        os.close(leader)
    total = time.perf_counter() - t0
    return {"command": " ".join(("nncompare", *argv)), "first_output_s": first,
            "total_s": total, "rc": rc}


def _set_size(fd: int, rows: int, columns: int) -> None:
    import fcntl
    import struct
    import termios

    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))


def _drain(fd: int) -> bool:
    """Read what is there; False once the other end is closed."""
    try:
        return bool(os.read(fd, 65536))
    except OSError:                                    # EIO: the process has exited
        return False


def measure(quick: bool, log=print) -> dict | None:
    """Every command's time to first output (None where there is no pty module)."""
    if not hasattr(os, "openpty"):
        return None
    log("bench: time to first output ...")
    return {"rows": [first_output(argv) for argv in (QUICK_COMMANDS if quick else COMMANDS)]}


def lines(result: dict) -> list[str]:
    """The Markdown section ([] if not measured)."""
    from compare import table

    found = result.get("startup")
    if not found:
        return []
    rows = [[f"`{r['command']}`", "-" if r["first_output_s"] is None else f"{r['first_output_s']:.2f}",
             f"{r['total_s']:.2f}", str(r["rc"])] for r in found["rows"]]
    return ["### Time to first output", "",
            "A fresh process on a pseudo-terminal, as in a shell: seconds from its start to the "
            "first byte it writes (the progress bar, where one is drawn), and to its end.", "",
            table.markdown(["command", "first output s", "total s", "exit"], rows), ""]
