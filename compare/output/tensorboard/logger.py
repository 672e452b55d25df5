"""TensorBoard logs of one model's lockstep training: three runs, overlaid tag by tag.

    <experiment>/<model>/scratch    the scratch side
    <experiment>/<model>/torch      the torch side, with the same tags, so charts overlay
    <experiment>/<model>/diff       how far apart the two are

Tags of the scratch and torch runs (`<param>` is W1, b1, ..., WL, bL):
    loss/train, grad_norm/<param>, update_ratio/<param>   each step t, from the harness's record
    weight_norm/<param>, accuracy/train, loss/test,       each state s, each side computing
    accuracy/test                                          them with its own code
    weights/<param>, grads/<param>                        histograms (compact: `Cadence.bins`)
    decision_boundary                                     image, 2-D datasets only
    hparams; the torch run also holds the model's graph
Tags of the diff run, every one measured as the harness measures what it judges (a
difference against the scale of the quantity, `compare.proof.lockstep`), so no chart
shows a number the verdict contradicts:
    check/step_error        the record's step error: what the trajectory check judges
    check/drift             the largest free-running drift of J and the parameters
    diff_drift/cost, diff_drift/<param>   the record's drift of each (J against the cost's
                            scale, a parameter against its layer's size, at least lr)
    diff_grad/<param>       lr max|dW_s - dW_t| against the same layer size: the error the
                            gradients' difference puts into one update
    diff_test/loss          the test loss's difference against the cost's scale
    diff_test/pred_mismatch the share of test samples the sides label differently
    texts parity (the report's diagnosis and table) and settings (a table), the
    custom-scalars layout. `compare.output.tensorboard.tags` says why the names sort so.

Steps: step s is the state after s updates. J, the gradients and the update ratio
(lr |dW| / |W|) of step t are those of state t, the one the update starts from,
so every chart shares one axis. Scalars are written every `Cadence.scalars`
steps, histograms and images at their own cadence, and all of them at the end.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tensorboard.compat.proto.summary_pb2 import Summary
from torch.utils.tensorboard import SummaryWriter

from compare import adapter
from compare.output import report
from compare.output.tensorboard import meta as tb_meta
from compare.output.tensorboard import tags
from compare.output.tensorboard.evaluate import Evaluator
from compare.proof.lockstep import StepRecord, layer_scales
from compare.proof.metric import relative_error
from compare.proof.protocol import ScratchSide, raised
from compare.proof.result import SIDES, ModelReport
from scratch.datasets import Dataset
from scratch.spec import check_int
from torch_ref.models import Net

RUNS = (*SIDES, "diff")


@dataclass(frozen=True)
class Cadence:
    """How often each kind of entry is written, in steps (0 turns histograms or images off).

    `Cadence.auto(5000)`, the main job's: scalars every 50 steps (101 points a chart),
    histograms every 500 (11 snapshots), images every 1,250 (5 pictures a side); logging
    then adds about 10% to the main job's time (DEVELOPERS.md, "What logging costs").
    """

    scalars: int = 50
    histograms: int = 500
    images: int = 1250
    bins: int = 30           # histogram bins (the stock binning is ~16x larger on disk)

    @classmethod
    def auto(cls, iterations: int, scalars: int | None = None, histograms: int | None = None,
             images: int | None = None) -> Cadence:
        """~100 scalar points, ~10 histograms and ~4 images over the run, where not given."""
        return cls(max(1, iterations // 100) if scalars is None else scalars,
                   max(1, iterations // 10) if histograms is None else histograms,
                   max(1, iterations // 4) if images is None else images).validate()

    def validate(self) -> Cadence:
        check_int("log_every", self.scalars, 1)
        check_int("hist_every", self.histograms, 0)
        check_int("image_every", self.images, 0)
        check_int("hist_bins", self.bins, 1)
        return self


def due(s: int, every: int, last: int) -> bool:
    """Whether step `s` is logged at cadence `every` (0: never); the `last` one always is."""
    return every > 0 and (s % every == 0 or s == last)


def frobenius(a: np.ndarray) -> float:
    """||a||_F; scaled by max|a| where the sum of squares overflows or underflows (a diverging
    run's gradients reach 1e160 while still finite)."""
    squares = float(np.vdot(a, a))
    if 1e-290 < squares < math.inf:
        return math.sqrt(squares)
    big = float(np.max(np.abs(a))) if np.size(a) else 0.0
    if big == 0.0 or not math.isfinite(big):
        return big
    return big * math.sqrt(float(np.vdot(a / big, a / big)))


def norms(params: dict[str, np.ndarray]) -> dict[str, float]:
    """Frobenius norm of each array, by name."""
    return {name: frobenius(p) for name, p in params.items()}


class ModelLogger:
    """The three runs of one model. Its `start` and `step` are the harness's `on_start`
    and `on_step` hooks; `finish` adds the report; `close` (or `with`) flushes the files.

    Args:
        folder: `<experiment>/<model>`; the runs go to its `scratch`, `torch`, `diff`.
        name: the model's name (an hparam).
        data: the dataset (scratch layout); test metrics use its test split.
        lr, iterations: of the lockstep training (lr gives the update size lr |dW|).
        config: the run's settings, written (with the architecture) as a text table and
            as hparams.
        cadence: how often to write scalars, histograms and images.
        start_step: steps already taken by the run being resumed: its runs go on from that
            step (events a stopped run wrote at or after it are purged, so no step appears
            twice) and the config, hparams, layout and graph, already there, are not rewritten.

    Attributes:
        seconds: time spent logging so far (wall clock, in the hooks).
    """

    def __init__(self, folder: str | Path, name: str, data: Dataset, *, lr: float,
                 iterations: int, config: dict, cadence: Cadence = Cadence(),
                 start_step: int = 0) -> None:
        self.folder, self.name, self.data = Path(folder), name, data
        self.lr, self.iterations, self.config = lr, iterations, config
        self.cadence = cadence.validate()
        self.first = check_int("start_step", start_step, 0)
        self.end = self.first + iterations      # the state after the last step
        self.seconds = 0.0
        self.last_step = self.first - 1          # the last training step seen
        self.statuses: list[str] = []
        self.test_scale: float | None = None     # the cost's scale on the test split
        c, T = self.cadence, self.end
        self.busy = {t for t in range(self.first, T)
                     if due(t, c.scalars, T - 1) or due(t, c.histograms, T - 1)
                     or any(due(t + 1, every, last) for every in (c.scalars, c.histograms, c.images)
                            for last in (T - 1, T))}   # the steps whose hook writes something
        self.writers: dict[str, SummaryWriter] = {}
        try:
            for run in RUNS:
                self.writers[run] = SummaryWriter(str(self.folder / run),
                                                  purge_step=self.first if self.first else None)
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> ModelLogger:
        return self

    def __exit__(self, kind: type | None, exc: BaseException | None, tb: object) -> None:
        try:
            if isinstance(exc, KeyboardInterrupt) and self.last_step < self.first:
                self._status(f"interrupted during the checks, before training step {self.first}")
            elif isinstance(exc, KeyboardInterrupt):
                self._status(f"interrupted after step {self.last_step}")
            elif exc is not None:
                self._status(f"stopped after step {self.last_step} by {type(exc).__name__}: {exc}")
        finally:
            self.close()

    def close(self) -> None:
        """Flush and close every writer (safe to call twice)."""
        for writer in self.writers.values():
            writer.close()

    # ---- the harness's hooks ----------------------------------------------------------

    @contextlib.contextmanager
    def _hook(self) -> Iterator[None]:
        """Time a hook; NumPy overflow in it gives inf in the log (the harness, which raises on
        overflow during training, judges divergence, not the logger)."""
        t0 = time.perf_counter()
        try:
            with np.errstate(all="ignore"):
                yield
        finally:
            self.seconds += time.perf_counter() - t0

    def start(self, side: ScratchSide, reference: Net) -> None:
        """on_start: the config, hparams, layout and graph, then state 0."""
        with self._hook():
            self._start(side, reference)

    def step(self, record: StepRecord) -> None:
        """on_step: step t's cost, gradients and differences; then state t + 1."""
        self.last_step = record.step
        if record.step in self.busy:          # most steps write nothing: return at once
            with self._hook():
                self._step(record)

    def finish(self, result: ModelReport) -> None:
        """The parity report (diagnosis and table) as text in the diff run."""
        with self._hook():
            verdict = "PASS" if result.passed else "FAIL"
            table = tb_meta.markdown(report.table([result]))
            self.writers["diff"].add_text(tags.REPORT, f"**{verdict}**: {result.diagnosis}\n\n{table}")
            if result.error:
                self._status(result.error)
            elif self.first:                  # a resumed run: its status says so, at its end
                self._status(f"resumed at step {self.first}, trained to step {self.end}", self.end)
            for writer in self.writers.values():
                writer.flush()

    def _start(self, side: ScratchSide, reference: Net) -> None:
        self.side, self.reference, self.spec = side, reference, reference.spec
        self.eval = Evaluator(side, reference, self.data)
        if self.first == 0:
            tb_meta.write(self.writers, self.name, side, reference, self.lr, self.iterations,
                          self.config, self.eval.example)
        self.norms = {s: norms(p) for s, p in
                      (("scratch", side.params), ("torch", adapter.params_from_torch(reference)))}
        self._state(self.first, {"scratch": side.params, "torch": adapter.params_from_torch(reference)})

    def _step(self, record: StepRecord) -> None:
        t, last = record.step, self.end - 1
        if due(t, self.cadence.scalars, last):
            self._step_scalars(record)
        if due(t, self.cadence.histograms, last):
            for s in SIDES:
                self._histograms(s, "grads", {n[1:]: g for n, g in record.grads[s].items()}, t)
        if due(t + 1, self.cadence.scalars, last) or due(t + 1, self.cadence.scalars, last + 1):
            self.norms = {s: norms(record.params[s]) for s in SIDES}    # state t + 1's
        self._state(t + 1, record.params)

    # ---- what is written ----------------------------------------------------------------

    def _scalars(self, run: str, values: dict[str, float], step: int) -> None:
        """All of a run's scalars of one step as one event (one record and checksum, not one
        per tag: a third of the bytes, and TensorBoard's pure-Python CRC costs per byte)."""
        summary = Summary(value=[Summary.Value(tag=tag, simple_value=float(v))
                                 for tag, v in values.items()])
        tb_meta.add_summary(self.writers[run], summary, step)

    def _step_scalars(self, r: StepRecord) -> None:
        t = r.step
        for s in SIDES:
            values = {tags.LOSS_TRAIN: r.cost[s]}
            for dname, g in r.grads[s].items():
                name, g_norm = dname[1:], frobenius(g)
                values[f"grad_norm/{name}"] = g_norm
                if self.norms[s][name] > 0:     # the weights the update starts from
                    values[f"update_ratio/{name}"] = self.lr * g_norm / self.norms[s][name]
            self._scalars(s, values, t)
        self._scalars("diff", self._differences(r), t)

    def _differences(self, r: StepRecord) -> dict[str, float]:
        """Step t's differences, in the units of the trajectory check: the record's step error
        and drift as they are, and the gradients' difference as that of the update lr dW,
        against the layer scales the drift is measured with (`lockstep.layer_scales` of
        torch's parameters after the step, at least lr). A plug-in's gradient that is not
        of its parameter's shape has no difference to chart: the gradient check has judged it
        (a FAIL naming the shape), and nothing here broadcasts it into a number."""
        values = {tags.STEP_ERROR: r.step_error, tags.DRIFT: max(r.drift.values())}
        values.update({tags.drift(name): err for name, err in r.drift.items()})
        scales = layer_scales(r.params["torch"], self.lr)
        for name in self.side.params:
            g_s, g_t = r.grads["scratch"].get("d" + name), r.grads["torch"].get("d" + name)
            if g_s is not None and g_t is not None and np.shape(g_s) == np.shape(g_t):
                values[tags.grad_diff(name)] = relative_error(self.lr * np.asarray(g_s),
                                                              self.lr * g_t, scales[name])[0]
        return values

    def _test_differences(self, m_s: dict[str, float], m_t: dict[str, float]) -> dict[str, float]:
        """The test losses' difference against the cost's scale, as the trajectory check
        measures J's: max(|J_torch|, |J_torch of the first state logged|, 1)."""
        J_s, J_t = m_s[tags.LOSS_TEST], m_t[tags.LOSS_TEST]
        if self.test_scale is None and math.isfinite(J_t):
            self.test_scale = max(abs(J_t), 1.0)
        scale = max(abs(J_t), self.test_scale or 1.0)      # (a NaN or inf J gives inf anyway)
        return {tags.TEST_LOSS: relative_error(np.float64(J_s), np.float64(J_t), scale)[0]}

    def _state(self, s: int, params: Mapping[str, dict[str, np.ndarray]]) -> None:
        """State s (after s updates): norms, train/test metrics, histograms, images."""
        last = self.end
        if due(s, self.cadence.scalars, last):
            found = {side: self._metrics(side) for side in SIDES}
            for side in SIDES:
                values = {f"weight_norm/{name}": v for name, v in self.norms[side].items()}
                self._scalars(side, {**values, **found[side][0]}, s)
            if found["scratch"][0] and found["torch"][0]:
                (m_s, lab_s), (m_t, lab_t) = found["scratch"], found["torch"]
                self._scalars("diff", {**self._test_differences(m_s, m_t),
                                       tags.TEST_MISMATCH: float(np.mean(lab_s != lab_t))}, s)
        if due(s, self.cadence.histograms, last):
            for side in SIDES:
                self._histograms(side, "weights", params[side], s)
        if self.eval.grid is not None and due(s, self.cadence.images, last):
            for side in SIDES:
                self.writers[side].add_image("decision_boundary", self.eval.picture(side), s,
                                             dataformats="HWC")

    def _histograms(self, side: str, kind: str, arrays: dict[str, np.ndarray], step: int) -> None:
        for name, given in arrays.items():
            values = np.asarray(given)          # (a plug-in's gradient may be a list)
            if values.dtype.kind in "biuf" and np.all(np.isfinite(values)):   # no NaN, inf
                self.writers[side].add_histogram(f"{kind}/{name}", values, step,
                                                 bins=self.cadence.bins)

    # ---- each side's own code ---------------------------------------------------------

    def _metrics(self, side: str) -> tuple[dict[str, float], np.ndarray | None]:
        """Test and train metrics of one side (`Evaluator.metrics`); ({}, None) when the
        scratch model raises, which the status says."""
        try:
            return self.eval.metrics(side)
        except Exception as exc:                # a user's scratch model failing off the training set
            self._status(f"evaluating {side} on the train and test splits: {raised(exc)}")
            return {}, None

    def _status(self, text: str, step: int | None = None) -> None:
        """A line in every run's `status` text (why the run stopped, what failed), once."""
        if text in self.statuses:
            return
        self.statuses.append(text)
        for writer in self.writers.values():
            writer.add_text(tags.STATUS, text, step)
            writer.flush()
