"""Shared by the TensorBoard tests: a logged lockstep run whose history is kept for comparison,
the event files read back with TensorBoard's own reader, a served logdir."""

from __future__ import annotations

import contextlib
import json
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import scratch
from compare.output.tensorboard import server as tb_server
from compare.output.tensorboard.logger import Cadence, ModelLogger
from compare.proof.harness import check_model
from compare.proof.lockstep import StepRecord
from compare.proof.result import ModelReport
from scratch import datasets

# keep every event of every kind (the default keeps a sample of 10,000 scalars, 500 histograms...)
KEEP_ALL = {"scalars": 0, "histograms": 0, "compressedHistograms": 0, "images": 0,
            "audio": 0, "tensors": 0}
LR = {"logistic": 1.2, "shallow": 1.2, "deep": 0.3}


@dataclass
class Logged:
    """A logged run and what the harness handed to the hooks, copied as it went."""

    folder: Path                       # <experiment>/<model>
    report: ModelReport
    logger: ModelLogger
    data: datasets.Dataset
    model: object
    lr: float
    iterations: int
    cadence: Cadence
    records: list[StepRecord] = field(default_factory=list)        # copies, one per step
    params: list[dict[str, dict[str, np.ndarray]]] = field(default_factory=list)  # per state s


def build(kind: str, data: datasets.Dataset, layers: list[int] | None = None) -> object:
    if kind == "logistic":
        return scratch.LogisticRegression(data.n_x, 1, init="zeros", seed=1)
    if kind == "shallow":
        return scratch.ShallowNet(data.n_x, 4, 1, activation="tanh", init="small", seed=1)
    return scratch.DeepNet(layers or [data.n_x, 10, 5, 1], activation="relu", init="he", seed=1)


def logged_run(folder: Path, kind: str, iterations: int, cadence: Cadence, lr: float | None = None,
               layers: list[int] | None = None, stop_at: int | None = None,
               model: object | None = None, dataset: str = "flower") -> Logged:
    """check_model on `dataset` (flower) with a ModelLogger writing to `folder`, recording every
    step; `model` (default: `build(kind)`) is trained at `lr` (default: LR[kind]); `stop_at`
    raises KeyboardInterrupt in the hook after that step (like Ctrl-C)."""
    data = datasets.load(dataset, seed=1)
    model = build(kind, data, layers) if model is None else model
    lr = LR.get(kind, 1.2) if lr is None else lr
    config = {"dataset": dataset, "m_train": data.X_train.shape[1],
              "batch_size": data.X_train.shape[1], "seed": 1, "dtype": "float64", "device": "cpu",
              "requested": {"models": [kind], "lr": None}}
    logger = ModelLogger(folder, kind, data, lr=lr, iterations=iterations, config=config,
                         cadence=cadence)
    logged = Logged(folder, None, logger, data, model, lr, iterations, cadence)  # type: ignore[arg-type]

    def copy(params: dict) -> dict:
        return {name: np.array(p, copy=True) for name, p in params.items()}

    def on_start(side, reference) -> None:
        from compare import adapter
        logged.params.append({"scratch": copy(side.params),
                              "torch": copy(adapter.params_from_torch(reference))})
        logger.start(side, reference)

    def on_step(record: StepRecord) -> None:
        logger.step(record)
        logged.records.append(StepRecord(
            record.step, dict(record.cost), {s: copy(g) for s, g in record.grads.items()},
            {s: copy(p) for s, p in record.params.items()}, dict(record.drift), record.step_error))
        logged.params.append(logged.records[-1].params)
        if stop_at is not None and record.step == stop_at:
            raise KeyboardInterrupt

    with logger:
        logged.report = check_model(model, data, lr=lr, iterations=iterations, seed=1, name=kind,
                                    on_start=on_start, on_step=on_step)
        logger.finish(logged.report)
    return logged


def read(run: Path) -> EventAccumulator:
    """All the events of one run folder, through TensorBoard's reader."""
    accumulator = EventAccumulator(str(run), size_guidance=KEEP_ALL)
    accumulator.Reload()
    return accumulator


def logged_steps(every: int, last: int) -> list[int]:
    """The steps 0..last written at cadence `every` (the last one always)."""
    return [s for s in range(last + 1) if s % every == 0 or s == last]


def f32(x: float) -> float:
    """What a TensorBoard scalar stores (simple_value is a float32; above its range, inf)."""
    with np.errstate(over="ignore"):
        return float(np.float32(x))


def get_json(url: str, timeout: float = 10.0) -> object:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.load(response)


def post_json(url: str, body: dict, timeout: float = 10.0) -> object:
    request = urllib.request.Request(url, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.load(response)


@contextlib.contextmanager
def served(logdir: Path, runs: set[str], timeout: float = 60.0) -> Iterator[tb_server.Server]:
    """A real TensorBoard on 127.0.0.1 (free port) over `logdir`, once it lists `runs`;
    stopped by PID afterwards, whatever happens."""
    server = tb_server.start(logdir, port=0, reload_interval=1)
    try:
        deadline = time.monotonic() + timeout
        while not runs <= set(get_json(server.url + "data/runs")):
            assert time.monotonic() < deadline, f"tensorboard never listed {runs}: {server.output}"
            time.sleep(0.2)
        yield server
    finally:
        server.stop()


def scalars_url(server: tb_server.Server, run: str, tag: str) -> str:
    query = urllib.parse.urlencode({"run": run, "tag": tag})
    return f"{server.url}data/plugin/scalars/scalars?{query}"
