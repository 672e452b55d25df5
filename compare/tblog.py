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
    config (text), hparams; the torch run also holds the model's graph
Tags of the diff run:
    diff/loss_abs = |J_scratch - J_torch|, diff/step_error (what the trajectory check judges),
    diff/param_max_rel/<param>, diff/loss_rel (the harness's free-running drift),
    diff/grad_max_rel/<param> = max|dW_s - dW_t| / max|dW_t|,
    diff/loss_test_abs, diff/pred_mismatch_test (share of test samples labelled differently);
    parity (text: the report's diagnosis and table), and the custom-scalars layout.

Steps: step s is the state after s updates. J, the gradients and the update ratio
(lr |dW| / |W|) of step t are those of state t, the one the update starts from,
so every chart shares one axis. Scalars are written every `Cadence.scalars`
steps, histograms and images at their own cadence, and all of them at the end.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.tensorboard import SummaryWriter

from compare import adapter, report, tb_images, tb_meta
from compare.harness import ModelReport
from compare.lockstep import StepRecord
from compare.metric import relative_error
from compare.protocol import ScratchSide, raised
from scratch.datasets import Dataset
from scratch.model import accuracy_of, labels_from_output
from scratch.spec import check_int
from scratch.validate import check_Y
from torch_ref.models import Net

SIDES = ("scratch", "torch")
RUNS = (*SIDES, "diff")


@dataclass(frozen=True)
class Cadence:
    """How often each kind of entry is written, in steps (0 turns histograms or images off).

    `Cadence.auto(5000)`, the main job's: scalars every 10 steps (501 points a chart),
    histograms every 500 (11 snapshots), images every 1,250 (5 pictures a side).
    """

    scalars: int = 10
    histograms: int = 500
    images: int = 1250
    bins: int = 30           # histogram bins (the stock binning is ~10x larger on disk)

    @classmethod
    def auto(cls, iterations: int, scalars: int | None = None, histograms: int | None = None,
             images: int | None = None) -> Cadence:
        """~500 scalar points, ~10 histograms and ~4 images over the run, where not given."""
        return cls(max(1, iterations // 500) if scalars is None else scalars,
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
    """||a||_F, scaled by max|a| where the squares would overflow or underflow (a diverging
    run's gradients reach 1e160 while still finite)."""
    big = float(np.max(np.abs(a))) if np.size(a) else 0.0
    if big == 0.0 or not np.isfinite(big) or 1e-150 < big < 1e150:
        return float(np.linalg.norm(a)) if np.isfinite(big) else big
    return big * float(np.linalg.norm(np.asarray(a) / big))


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
        config: the run's settings, written as text and, with the architecture, as hparams.
        cadence: how often to write scalars, histograms and images.

    Attributes:
        seconds: time spent logging so far (wall clock, in the hooks).
    """

    def __init__(self, folder: str | Path, name: str, data: Dataset, *, lr: float,
                 iterations: int, config: dict, cadence: Cadence = Cadence()) -> None:
        self.folder, self.name, self.data = Path(folder), name, data
        self.lr, self.iterations, self.config = lr, iterations, config
        self.cadence = cadence.validate()
        self.seconds = 0.0
        self.last_step = -1          # the last training step seen
        self.statuses: list[str] = []
        self.writers: dict[str, SummaryWriter] = {}
        try:
            for run in RUNS:
                self.writers[run] = SummaryWriter(str(self.folder / run))
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> ModelLogger:
        return self

    def __exit__(self, kind: type | None, exc: BaseException | None, tb: object) -> None:
        try:
            if isinstance(exc, KeyboardInterrupt):
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
        with self._hook():
            self._step(record)

    def finish(self, result: ModelReport) -> None:
        """The parity report (diagnosis and table) as text in the diff run."""
        with self._hook():
            verdict = "PASS" if result.passed else "FAIL"
            self.writers["diff"].add_text(
                "parity", f"**{verdict}**: {result.diagnosis}\n\n" + tb_meta.markdown(report.table([result])))
            if result.error:
                self._status(result.error)
            for writer in self.writers.values():
                writer.flush()

    def _start(self, side: ScratchSide, reference: Net) -> None:
        self.side, self.reference, self.spec = side, reference, reference.spec
        dtype = np.asarray(side.params["W1"]).dtype
        self.sets = {}                    # split -> (X, Y for the cost, X torch, y torch)
        for split, X, Y in (("train", self.data.X_train, self.data.Y_train),
                            ("test", self.data.X_test, self.data.Y_test)):
            X = np.ascontiguousarray(X, dtype=dtype)                                  # [n, m]
            Y = check_Y(Y, self.spec, X.shape[1], dtype, f"Y_{split}")               # [K, m]
            self.sets[split] = (X, Y, adapter.batch_to_torch(X, reference.device, reference.dtype),
                                adapter.targets_to_torch(Y, self.spec.output, reference.device,
                                                         reference.dtype))
        self.grid = tb_images.grid(self.data.X_train).astype(dtype) if self.data.n_x == 2 else None
        tb_meta.write(self.writers, self.name, side, reference, self.lr, self.iterations,
                      self.config, self.sets["train"][2][:1])
        self.norms = {s: norms(p) for s, p in
                      (("scratch", side.params), ("torch", adapter.params_from_torch(reference)))}
        self._state(0, {"scratch": side.params, "torch": adapter.params_from_torch(reference)})

    def _step(self, record: StepRecord) -> None:
        t, last = record.step, self.iterations - 1
        self.last_step = t
        if due(t, self.cadence.scalars, last):
            self._step_scalars(record)
        if due(t, self.cadence.histograms, last):
            for s in SIDES:
                self._histograms(s, "grads", {n[1:]: g for n, g in record.grads[s].items()}, t)
        self.norms = {s: norms(record.params[s]) for s in SIDES}
        self._state(t + 1, record.params)

    # ---- what is written ----------------------------------------------------------------

    def _step_scalars(self, r: StepRecord) -> None:
        t = r.step
        for s in SIDES:
            w = self.writers[s]
            w.add_scalar("loss/train", r.cost[s], t)
            for dname, g in r.grads[s].items():
                name, g_norm = dname[1:], frobenius(g)
                w.add_scalar(f"grad_norm/{name}", g_norm, t)
                if self.norms[s][name] > 0:     # the weights the update starts from
                    w.add_scalar(f"update_ratio/{name}", self.lr * g_norm / self.norms[s][name], t)
        d = self.writers["diff"]
        d.add_scalar("diff/loss_abs", abs(r.cost["scratch"] - r.cost["torch"]), t)
        d.add_scalar("diff/loss_rel", r.drift["cost"], t)
        d.add_scalar("diff/step_error", r.step_error, t)
        for name in self.side.params:
            d.add_scalar(f"diff/param_max_rel/{name}", r.drift[name], t)
            g_s, g_t = r.grads["scratch"].get("d" + name), r.grads["torch"].get("d" + name)
            if g_s is not None and g_t is not None:
                d.add_scalar(f"diff/grad_max_rel/{name}", relative_error(g_s, g_t)[0], t)

    def _state(self, s: int, params: dict[str, dict[str, np.ndarray]]) -> None:
        """State s (after s updates): norms, train/test metrics, histograms, images."""
        last = self.iterations
        if due(s, self.cadence.scalars, last):
            found = {side: self._evaluate(side) for side in SIDES}
            for side in SIDES:
                w = self.writers[side]
                for name, value in self.norms[side].items():
                    w.add_scalar(f"weight_norm/{name}", value, s)
                for tag, value in found[side][0].items():
                    w.add_scalar(tag, value, s)
            if found["scratch"][0] and found["torch"][0]:
                (m_s, lab_s), (m_t, lab_t) = found["scratch"], found["torch"]
                d = self.writers["diff"]
                d.add_scalar("diff/loss_test_abs", abs(m_s["loss/test"] - m_t["loss/test"]), s)
                d.add_scalar("diff/pred_mismatch_test", float(np.mean(lab_s != lab_t)), s)
        if due(s, self.cadence.histograms, last):
            for side in SIDES:
                self._histograms(side, "weights", params[side], s)
        if self.grid is not None and due(s, self.cadence.images, last):
            for side in SIDES:
                picture = tb_images.render(self._grid_output(side), self.data.X_train,
                                           self.data.Y_train)
                self.writers[side].add_image("decision_boundary", picture, s, dataformats="HWC")

    def _histograms(self, side: str, kind: str, arrays: dict[str, np.ndarray], step: int) -> None:
        for name, values in arrays.items():
            if np.all(np.isfinite(values)):     # np.histogram cannot bin NaN or inf
                self.writers[side].add_histogram(f"{kind}/{name}", values, step,
                                                 bins=self.cadence.bins)

    # ---- each side's own code ---------------------------------------------------------

    def _evaluate(self, side: str) -> tuple[dict[str, float], np.ndarray | None]:
        """({'accuracy/train', 'loss/test', 'accuracy/test'}, test labels [1, m]) of one side,
        computed by that side; ({}, None) when the scratch model raises (said in the status)."""
        metrics: dict[str, float] = {}
        labels = None
        for split in ("train", "test"):
            X, Y, Xt, yt = self.sets[split]
            try:
                J, labels = self._cost_and_labels(side, X, Y, Xt, yt)
            except Exception as exc:            # a user's scratch model failing off the training set
                self._status(f"evaluating {side} on the {split} split: {raised(exc)}")
                return {}, None
            metrics[f"accuracy/{split}"] = accuracy_of(labels, Y, self.spec.output)
            if split == "test":
                metrics["loss/test"] = J
        return metrics, labels

    def _cost_and_labels(self, side: str, X: np.ndarray, Y: np.ndarray, Xt: torch.Tensor,
                         yt: torch.Tensor) -> tuple[float, np.ndarray]:
        if side == "scratch":
            AL, caches = self.side.forward(X)                                       # [K, m]
            J = self.side.cost(AL, Y, caches)
            return J, labels_from_output(AL, self.spec.output)
        with torch.no_grad():
            J = self.reference.loss(self.reference(Xt), yt).item()
            return J, adapter.labels_to_scratch(self.reference.predict(Xt))        # [1, m]

    def _grid_output(self, side: str) -> np.ndarray:
        """A[L] [K, size^2] of one side on the image grid, by that side's code."""
        if side == "scratch":
            return self.side.forward(self.grid)[0]
        G = adapter.batch_to_torch(self.grid, self.reference.device, self.reference.dtype)
        return adapter.batch_to_scratch(self.reference.predict_proba(G))

    def _status(self, text: str) -> None:
        """A line in every run's `status` text (why the run stopped, what failed), once."""
        if text in self.statuses:
            return
        self.statuses.append(text)
        for writer in self.writers.values():
            writer.add_text("status", text)
            writer.flush()
