"""The torch model's graph for TensorBoard's Graphs tab, written from its layers.

`SummaryWriter.add_graph` traces the model with `torch.jit.trace` (deprecated in torch), half
a second for the first model of a process, for a graph the architecture already says:
X -> Linear -> g -> ... -> Linear -> Z[L]. Here the same nodes are made directly, named as
the notes name them, each with its output's shape for m samples:

    input/X [m, n0] -> Net/Z1 (aten::linear of X, Net/Z1/W1, Net/Z1/b1) [m, n1]
                    -> Net/A1 (aten::relu) [m, n1] -> ... -> Net/ZL [m, nL] -> output/ZL
"""

from __future__ import annotations

from tensorboard.compat.proto.attr_value_pb2 import AttrValue
from tensorboard.compat.proto.config_pb2 import RunMetadata
from tensorboard.compat.proto.graph_pb2 import GraphDef
from tensorboard.compat.proto.node_def_pb2 import NodeDef
from tensorboard.compat.proto.step_stats_pb2 import DeviceStepStats, StepStats
from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
from tensorboard.compat.proto.versions_pb2 import VersionDef
from torch import nn

from compare.adapter import modules_in_order
from torch_ref.models import Net

ATEN = {"ReLU": "aten::relu", "LeakyReLU": "aten::leaky_relu", "Tanh": "aten::tanh",
        "Sigmoid": "aten::sigmoid"}


def node(name: str, op: str, inputs: list[str], shape: list[int] | None = None,
         attr: str = "{}") -> NodeDef:
    """One node; `shape` is its output's, shown on the edges it feeds."""
    found = NodeDef(name=name, op=op, input=inputs, attr={"attr": AttrValue(s=attr.encode())})
    if shape is not None:
        dims = [TensorShapeProto.Dim(size=d) for d in shape]
        found.attr["_output_shapes"].CopyFrom(
            AttrValue(list=AttrValue.ListValue(shape=[TensorShapeProto(dim=dims)])))
    return found


def graph_of(net: Net, m: int) -> tuple[GraphDef, RunMetadata]:
    """(the graph, its run metadata), as `SummaryWriter.add_graph` would write them."""
    width = net.linears()[0].in_features                  # n[l] of the last node's output
    nodes, last = [node("input/X", "IO Node", [], [m, width], attr="")], "input/X"
    for name, module in modules_in_order(net):
        here = f"Net/{name}"
        if isinstance(module, nn.Linear):
            W, b, width = f"{here}/W{name[1:]}", f"{here}/b{name[1:]}", module.out_features
            nodes += [node(W, "prim::GetAttr", [], attr="{ name :  weight }"),
                      node(b, "prim::GetAttr", [], attr="{ name :  bias }"),
                      node(here, "aten::linear", [last, W, b], [m, width])]
        else:
            op = ATEN.get(type(module).__name__, f"aten::{type(module).__name__.lower()}")
            nodes.append(node(here, op, [last], [m, width]))
        last = here
    nodes.append(node(f"output/{name}", "IO Node", [last], [m, width], attr=""))
    stats = RunMetadata(step_stats=StepStats(dev_stats=[DeviceStepStats(device="/device:CPU:0")]))
    return GraphDef(node=nodes, versions=VersionDef(producer=22)), stats
