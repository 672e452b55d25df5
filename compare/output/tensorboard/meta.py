"""What each run of a model holds once, written at the start: the config as text, the
hparams (scratch and torch, same keys), the custom-scalars layout (diff), the graph (torch)."""

from __future__ import annotations

import json
import warnings

import torch
from tensorboard.compat.proto.summary_pb2 import Summary
from torch.utils.tensorboard import SummaryWriter
from torch.utils.tensorboard.summary import hparams

from compare.proof.protocol import ScratchSide
from compare.proof.result import SIDES
from torch_ref.models import Net

METRICS = ("loss/train", "loss/test", "accuracy/train", "accuracy/test")


def add_summary(writer: SummaryWriter, summary: Summary, step: int | None = None) -> None:
    """`summary` as one event of `writer`'s open event file, at `step`."""
    # torch infers SummaryWriter.file_writer as None (its __init__ sets it so before opening
    # the FileWriter); it is the open FileWriter here
    writer.file_writer.add_summary(summary, step)  # type: ignore[attr-defined]


def markdown(text: str) -> str:
    """`text` as a preformatted block for TensorBoard's text plugin (Markdown)."""
    return "\n".join("    " + line for line in text.splitlines())


def architecture(name: str, side: ScratchSide, reference: Net, lr: float,
                 iterations: int) -> dict:
    """The model's hparams: name, layer sizes, activations, output, init, alpha, lr, steps."""
    spec = reference.spec
    return {"model": name, "layers": "-".join(map(str, spec.layer_dims)),
            "activation": "/".join(dict.fromkeys(spec.activations)) or "none",
            "output": spec.output, "alpha": float(spec.alpha),
            "init": spec.init if hasattr(side.model, "spec") else "the model's own",
            "lr": float(lr), "iterations": int(iterations)}


def write(writers: dict[str, SummaryWriter], name: str, side: ScratchSide, reference: Net,
          lr: float, iterations: int, config: dict, example: torch.Tensor) -> None:
    """Config text in every run; hparams in scratch and torch, each in its own folder (the
    stock `add_hparams` would make a timestamped sub-run); the layout; the graph.

    Args:
        config: the run's settings; its str/number/bool values become hparams too.
        example: a batch [m, n] for tracing the torch model's graph.
    """
    arch = architecture(name, side, reference, lr, iterations)
    text = markdown(json.dumps({**config, **arch}, indent=2, default=str))
    for run, writer in writers.items():
        writer.add_text("config", text)
        if run in SIDES:
            values = {**{k: v for k, v in config.items()          # the same keys in both runs
                         if isinstance(v, (int, float, str, bool))}, **arch, "side": run}
            for summary in hparams(values, dict.fromkeys(METRICS, 0.0)):
                add_summary(writer, summary)
    writers["diff"].add_custom_scalars(layout(list(side.params)))
    with warnings.catch_warnings():   # add_graph traces with torch.jit.trace, deprecated in torch
        warnings.filterwarnings("ignore", message=r"`torch\.jit\.trace\w*` is (deprecated|not sup)",
                                category=DeprecationWarning)
        writers["torch"].add_graph(reference, example)


def layout(params: list[str]) -> dict:
    """Custom-scalars charts, each overlaying every run (scratch, torch, all models) that
    has the tag. Every model's diff run holds one; TensorBoard merges them, dropping
    charts already shown."""
    def lines(*tags: str) -> list:
        return ["Multiline", [f"^{tag}$" for tag in tags]]

    return {
        "scratch vs torch": {
            **{metric: lines(metric) for metric in METRICS},
            **{f"grad_norm/{p}": lines(f"grad_norm/{p}") for p in params},
        },
        "diff": {
            "loss_abs and step_error": lines("diff/loss_abs", "diff/step_error"),
            "param_max_rel": ["Multiline", ["^diff/param_max_rel/"]],
            "grad_max_rel": ["Multiline", ["^diff/grad_max_rel/"]],
        },
    }
