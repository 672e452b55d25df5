"""What each run of a model holds once, written at the start: the settings as a text table
and the custom-scalars layout (diff), the hparams (scratch and torch, same keys), the graph
(torch)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
from tensorboard.compat.proto.summary_pb2 import Summary, SummaryMetadata
from tensorboard.compat.proto.tensor_pb2 import TensorProto
from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
from tensorboard.plugins.custom_scalar import layout_pb2
from tensorboard.plugins.hparams import api_pb2, plugin_data_pb2
from tensorboard.plugins.hparams import metadata as hp_metadata
from torch.utils.tensorboard import SummaryWriter
from torch.utils.tensorboard.summary import hparams

from compare.output.tensorboard import tags
from compare.output.tensorboard.graph import graph_of
from compare.proof.protocol import ScratchSide
from compare.proof.result import SIDES
from torch_ref.models import Net

METRICS = tags.METRICS
ARCHITECTURE = ("model", "layers", "activation", "output", "init", "alpha", "lr", "iterations")
# the HParams tab shows five hparams at first: those marked `differs`, by name, then the rest
SHOWN = ("activation", "init", "iterations", "layers", "lr")
TYPES = {str: api_pb2.DATA_TYPE_STRING, float: api_pb2.DATA_TYPE_FLOAT64,
         bool: api_pb2.DATA_TYPE_BOOL}


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
    """The model's hparams: name, layer sizes, activations, output, init, lr, steps, and
    alpha where a layer is a Leaky ReLU (nowhere else does it apply)."""
    spec = reference.spec
    arch = {"model": name, "layers": "-".join(map(str, spec.layer_dims)),
            "activation": "/".join(dict.fromkeys(spec.activations)) or "none",
            "output": spec.output,
            "init": spec.init if hasattr(side.model, "spec") else "the model's own",
            "lr": float(lr), "iterations": int(iterations)}
    if "leaky_relu" in spec.activations:
        arch["alpha"] = float(spec.alpha)
    return {key: arch[key] for key in ARCHITECTURE if key in arch}


def hparam(value: object) -> str | float | bool | None:
    """A setting as the HParams tab should show it: an int as text ('320': TensorBoard prints
    every number to 5 digits, '320.00'), a float, bool or string as it is; None for what
    is not a single value (None, lists, dicts)."""
    if isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return float(value)
    return None


def hparam_values(arch: dict, config: dict, side: str) -> dict[str, str | float | bool]:
    """The hparams of one side's run: the config's single values, the architecture, the side."""
    found = {key: hparam(v) for key, v in {**config, **arch}.items()}
    return {**{key: v for key, v in found.items() if v is not None}, "side": side}


def experiment(values: dict[str, str | float | bool]) -> Summary:
    """The HParams tab's columns and metrics. TensorBoard reads them from one run of the
    logdir, so they do not depend on the model (alpha is a column even where a model has
    none); the settings in SHOWN are marked `differs`, which it lists first and shows."""
    names = dict.fromkeys([*ARCHITECTURE, "side", *values])
    infos = [api_pb2.HParamInfo(name=name, type=TYPES[type(values.get(name, 0.0))],
                                differs=name in SHOWN) for name in names]
    metrics = [api_pb2.MetricInfo(name=api_pb2.MetricName(tag=tag)) for tag in METRICS]
    content = plugin_data_pb2.HParamsPluginData(
        experiment=api_pb2.Experiment(hparam_infos=infos, metric_infos=metrics),
        version=hp_metadata.PLUGIN_DATA_VERSION)
    data = SummaryMetadata.PluginData(plugin_name=hp_metadata.PLUGIN_NAME,
                                      content=content.SerializeToString())
    return Summary(value=[Summary.Value(tag=hp_metadata.EXPERIMENT_TAG,
                                        metadata=SummaryMetadata(plugin_data=data))])


def flat(config: dict, prefix: str = "") -> Iterator[tuple[str, object]]:
    """(key, value) of every setting, nested dicts as 'outer.inner'."""
    for key, value in config.items():
        if isinstance(value, dict) and value:
            yield from flat(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def cell(value: object) -> str:
    """A value in a Markdown table cell."""
    if value is None:
        return "(unset)"
    if isinstance(value, (list, tuple, dict)):
        text = ", ".join(map(str, value)) if value else "(none)"
    else:
        text = repr(value) if isinstance(value, float) else str(value)
    return text.replace("|", "\\|")


def settings_table(arch: dict, config: dict) -> str:
    """The model's settings, then the run's, as a Markdown table (the text tab renders it)."""
    rows = [f"| `{key}` | {cell(value)} |" for key, value in flat({**arch, **config})]
    return "\n".join(["| setting | value |", "|---|---|", *rows])


def write(writers: dict[str, SummaryWriter], name: str, side: ScratchSide, reference: Net,
          lr: float, iterations: int, config: dict, example: torch.Tensor) -> None:
    """The settings table and the layout in the diff run; hparams in scratch and torch, each in
    its own folder (the stock `add_hparams` would make a timestamped sub-run); the graph.

    Args:
        config: the run's settings; its str/number/bool values become hparams too.
        example: a batch [m, n]: the graph's shapes are for its m samples.
    """
    arch = architecture(name, side, reference, lr, iterations)
    writers["diff"].add_text(tags.SETTINGS, settings_table(arch, config))
    for run in SIDES:
        values = hparam_values(arch, config, run)
        _, start, end = hparams(values, dict.fromkeys(METRICS, 0.0))
        for summary in (experiment(values), start, end):
            add_summary(writers[run], summary)
    add_summary(writers["diff"], layout(list(side.params)))
    writers["torch"].file_writer.add_graph(graph_of(reference, example.shape[0]))  # type: ignore[attr-defined]


def chart(title: str, *patterns: str) -> layout_pb2.Chart:
    """A chart overlaying every run's tags that match one of `patterns` (regexes)."""
    return layout_pb2.Chart(title=title, multiline=layout_pb2.MultilineChartContent(tag=patterns))


def layout(params: list[str]) -> Summary:
    """The Custom Scalars page: loss, accuracy (each chart overlaying every run, scratch and
    torch of all models, that has the tag), then the check's step error and drift, open; the
    other differences and the gradient norms, closed. Every model's diff run holds one;
    TensorBoard merges them in order, dropping charts already shown."""
    def exact(*names: str) -> list[layout_pb2.Chart]:
        return [chart(tag, f"^{tag}$") for tag in names]

    categories = [
        layout_pb2.Category(title="loss: scratch vs torch", chart=exact(*METRICS[:2])),
        layout_pb2.Category(title="accuracy: scratch vs torch", chart=exact(*METRICS[2:])),
        layout_pb2.Category(title="check: step error and drift (diff)",
                            chart=exact(tags.STEP_ERROR, tags.DRIFT)),
        layout_pb2.Category(title="differences by quantity (diff)", closed=True, chart=[
            chart("drift of J and each parameter", "^diff_drift/"),
            chart("gradients, as one update's error", "^diff_grad/"),
            *exact(tags.TEST_LOSS, tags.TEST_MISMATCH)]),
        layout_pb2.Category(title="gradient norms: scratch vs torch", closed=True,
                            chart=exact(*(f"grad_norm/{p}" for p in params))),
    ]
    tensor = TensorProto(dtype="DT_STRING", tensor_shape=TensorShapeProto(),
                         string_val=[layout_pb2.Layout(category=categories).SerializeToString()])
    data = SummaryMetadata.PluginData(plugin_name="custom_scalars")
    return Summary(value=[Summary.Value(tag="custom_scalars__config__", tensor=tensor,
                                        metadata=SummaryMetadata(plugin_data=data))])
