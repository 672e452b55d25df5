"""N ranks on this machine through PyTorch's own launcher: `elastic_launch` with a static
rendezvous on 127.0.0.1 (what `torchrun --standalone --nproc-per-node N` does), a free port,
no restarts. Each rank runs `fn(*args)` inside the default group (`group.ensure`, torn down
after it); the launcher returns every rank's return value, or, when a rank raised or was killed,
`RankFailed` naming the first to fail: the launcher's agent watches the ranks every
`MONITOR_S` and stops all the others (SIGTERM, then SIGKILL after `SHUTDOWN_S`).

Stop signals (`signals.Relay`): each rank sits in a process group of its own and dies with
this process (Linux), so that the terminal's Ctrl-C reaches this process alone; it passes the
signal on to rank 0, which stops after its step as one process does and tells the others;
every rank still alive `signals.GRACE_S` later is killed, and `Stopped` says what came back.
The ranks other than rank 0 write to log files in a temporary folder, removed afterwards:
what people see is rank 0's (and the one line a failure gives).

A multi-machine run needs none of this: `torchrun --nnodes 2 --nproc-per-node 4
--rdzv-backend c10d --rdzv-endpoint HOST:PORT -m compare ...` sets the same variables.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import socket
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from compare.distributed import group, signals
from scratch.errors import InvalidArgument

MONITOR_S = 0.1         # how often the agent looks at its ranks
SHUTDOWN_S = 5          # SIGTERM to SIGKILL, for the ranks left when one failed
STOP_WITHIN_S = MONITOR_S + SHUTDOWN_S + 1.0   # every other rank gone this long after a failure
AGENT_LOGGERS = ("torch.distributed.elastic", "torch.distributed.launcher", "torch.multiprocessing")

RankFailed = group.RankFailed
Stopped = group.Stopped


def port(host: str = "127.0.0.1") -> int:
    """MASTER_PORT when set (InvalidArgument if it is in use), else one the system says is free."""
    wanted = os.environ.get("MASTER_PORT")
    with socket.socket() as s:
        try:
            s.bind((host, int(wanted) if wanted else 0))
        except (OSError, ValueError) as exc:
            raise InvalidArgument(f"nproc: MASTER_PORT={wanted} cannot be used on {host} "
                                  f"({getattr(exc, 'strerror', None) or exc}); unset it to let "
                                  "nncompare choose a free port") from None
        return int(s.getsockname()[1])


def _in_group(backend: str, fn: Callable[..., Any], args: tuple, folder: str) -> Any:
    """One rank's work: detached from the terminal (`signals.detach`), the group up,
    `fn(*args)`, the group down (stop signals ignored from then on). A rank whose fn raised
    leaves the group as it is and exits: a barrier there would pair with whatever collective
    the other ranks wait in; the agent stops them (SIGTERM) once it sees this rank fail."""
    signals.detach(Path(folder))
    group.ensure(backend)
    try:
        result = fn(*args)
    except BaseException:
        group.abandon()
        raise
    signals.ignore()
    group.teardown()
    return result


@contextlib.contextmanager
def quiet_agent() -> Iterator[None]:
    """The agent's own log lines (start-up, a failed rank's traceback, the signals it saw) off
    while it runs: `RankFailed` and `Stopped` say what happened in one line. Its modules' loggers
    set their own levels, so each one is set, not only the parents."""
    names = [name for name in logging.root.manager.loggerDict
             if name.startswith(AGENT_LOGGERS)] + list(AGENT_LOGGERS)
    loggers = [logging.getLogger(n) for n in dict.fromkeys(names)]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def config(nproc: int, folder: Path) -> Any:
    """The launcher's settings: one node, `nproc` ranks, static rendezvous on 127.0.0.1, no
    restarts; the agent handles no stop signal (`signals.Relay` does); ranks 1.. logged to files."""
    from torch.distributed.elastic.multiprocessing import DefaultLogsSpecs, Std
    from torch.distributed.launcher.api import LaunchConfig

    logs = DefaultLogsSpecs(log_dir=str(folder / "logs"),
                            redirects={r: Std.ALL for r in range(1, nproc)})
    return LaunchConfig(min_nodes=1, max_nodes=1, nproc_per_node=nproc, rdzv_backend="static",
                        rdzv_endpoint=f"127.0.0.1:{port()}", rdzv_configs={"rank": 0},
                        run_id=f"nncompare-{uuid.uuid4().hex[:12]}", max_restarts=0,
                        monitor_interval=MONITOR_S, start_method="spawn", logs_specs=logs,
                        local_addr="127.0.0.1", shutdown_timeout=SHUTDOWN_S,
                        signals_to_handle="SIGQUIT")


def local(nproc: int, backend: str, fn: Callable[..., Any], *args: Any) -> dict[int, Any]:
    """{rank: fn(*args) of that rank} over `nproc` ranks on 127.0.0.1 (RankFailed if one failed;
    Stopped, with what came back, if a stop signal came while they ran)."""
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.launcher.api import elastic_launch

    folder = Path(tempfile.mkdtemp(prefix="nncompare-ranks-"))
    relay = signals.Relay(folder)
    try:
        with quiet_agent(), signals.agent_environment(), relay:
            values = elastic_launch(config(nproc, folder), _in_group)(backend, fn, args, str(folder))
    except ChildFailedError as exc:
        if relay.signum is not None:
            raise Stopped(relay.signum) from None
        raise RankFailed(failure_line(exc.failures)) from None
    except KeyboardInterrupt:
        raise Stopped(relay.signum or signals.SIGINT) from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if relay.signum is not None:
        raise Stopped(relay.signum, values)
    return values


def failure_line(failures: dict[int, Any]) -> str:
    """'rank 1 failed: RuntimeError: boom' (the first to fail; killed: its signal)."""
    rank, failure = min(failures.items(), key=lambda item: (item[1].timestamp, item[0]))
    message = failure.message
    if isinstance(message, dict):
        message = message.get("message", "")
    text = [line for line in str(message).strip().splitlines() if "enable traceback" not in line]
    what = text[0] if text else f"exit code {failure.exitcode}"
    if failure.exitcode < 0:
        what = f"killed by signal {-failure.exitcode} ({what})"
    others = sorted(set(failures) - {rank})
    also = f"; ranks {others} stopped after it" if others else ""
    return f"rank {rank} failed: {what}{also}"
