"""ONNX export of esm's network IR (``esm describe --json``'s "network").

One IR layer becomes one ONNX operator (plus its fused activation); weights are esm's deterministic,
batch-norm-folded parameters (esm.parameters). The op semantics follow the IR contract in
include/esm/net/network.hpp and docs/spaces.md: pooling windows start at -pad_begin with pad_end
on the bottom/right, average pooling excludes padding from the divisor. tests/test_onnx.py checks the
exported model under onnxruntime against esm's reference executor, one network per space.
"""
from __future__ import annotations

from typing import Any, Dict, List, Sequence, Tuple

import numpy as np


def _activation(helper: Any, nodes: List[Any], act: str, x: str, out: str) -> None:
    """Appends `act` applied to `x` (writing `out`)."""
    if act == "relu":
        nodes.append(helper.make_node("Relu", [x], [out]))
    elif act == "relu6":
        nodes.append(helper.make_node("Clip", [x, "esm_zero", "esm_six"], [out]))
    elif act == "hswish":  # x * relu6(x + 3) / 6
        nodes.append(helper.make_node("HardSwish", [x], [out]))
    elif act == "hsigmoid":  # relu6(x + 3) / 6
        nodes.append(helper.make_node("HardSigmoid", [x], [out], alpha=1.0 / 6.0, beta=0.5))
    elif act == "sigmoid":
        nodes.append(helper.make_node("Sigmoid", [x], [out]))
    elif act == "none":
        nodes.append(helper.make_node("Identity", [x], [out]))
    else:
        raise ValueError(f"activation '{act}' has no ONNX export")


def build_model(net: Dict[str, Any], params: Sequence[Tuple[np.ndarray, np.ndarray]], opset: int = 17) -> Any:
    """The onnx.ModelProto of the IR `net` with per-layer (weight, bias) `params`."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    if opset < 17:
        raise ValueError(f"opset must be >= 17, got {opset}")
    layers = net["layers"]
    if len(params) != len(layers):
        raise ValueError(f"{len(params)} parameter sets for {len(layers)} layers")
    inp = net["input"]
    batch = _dims(inp)[0]
    nodes: List[Any] = []
    inits = [numpy_helper.from_array(np.array(0.0, np.float32), "esm_zero"),
             numpy_helper.from_array(np.array(6.0, np.float32), "esm_six")]

    def name_of(index: int) -> str:
        return "input" if index == -1 else f"l{index}"

    for layer in layers:
        i = layer["index"]
        op = layer["op"]
        xs = [name_of(k) for k in layer["inputs"]]
        pre = f"l{i}_pre"
        pb, pe, k, s = layer["pad_begin"], layer["pad_end"], layer["kernel"], layer["stride"]
        pads = [pb, pb, pe, pe]
        w, b = params[i]
        out_c = _dims(layer["out"])[1]
        if op == "conv":
            in_c = _dims(layer["in"])[1]
            g = layer["groups"]
            inits.append(numpy_helper.from_array(np.asarray(w, np.float32).reshape(out_c, in_c // g, k, k), f"l{i}_w"))
            inits.append(numpy_helper.from_array(np.asarray(b, np.float32), f"l{i}_b"))
            nodes.append(helper.make_node("Conv", [xs[0], f"l{i}_w", f"l{i}_b"], [pre], kernel_shape=[k, k],
                                          strides=[s, s], pads=pads, group=g))
        elif op == "batch_norm":
            inits.append(numpy_helper.from_array(np.asarray(w, np.float32).reshape(1, out_c, 1, 1), f"l{i}_scale"))
            inits.append(numpy_helper.from_array(np.asarray(b, np.float32).reshape(1, out_c, 1, 1), f"l{i}_shift"))
            nodes.append(helper.make_node("Mul", [xs[0], f"l{i}_scale"], [f"l{i}_scaled"]))
            nodes.append(helper.make_node("Add", [f"l{i}_scaled", f"l{i}_shift"], [pre]))
        elif op == "max_pool":
            nodes.append(helper.make_node("MaxPool", [xs[0]], [pre], kernel_shape=[k, k], strides=[s, s], pads=pads))
        elif op == "avg_pool":
            nodes.append(helper.make_node("AveragePool", [xs[0]], [pre], kernel_shape=[k, k], strides=[s, s], pads=pads,
                                          count_include_pad=0))
        elif op == "global_avg_pool":
            nodes.append(helper.make_node("GlobalAveragePool", [xs[0]], [pre]))
        elif op == "fully_connected":
            features = int(np.prod(_dims(layer["in"])[1:]))
            inits.append(numpy_helper.from_array(np.asarray(w, np.float32).reshape(out_c, features), f"l{i}_w"))
            inits.append(numpy_helper.from_array(np.asarray(b, np.float32), f"l{i}_b"))
            inits.append(numpy_helper.from_array(np.array([batch, out_c, 1, 1], np.int64), f"l{i}_shape"))
            nodes.append(helper.make_node("Flatten", [xs[0]], [f"l{i}_flat"], axis=1))
            nodes.append(helper.make_node("Gemm", [f"l{i}_flat", f"l{i}_w", f"l{i}_b"], [f"l{i}_gemm"], transB=1))
            nodes.append(helper.make_node("Reshape", [f"l{i}_gemm", f"l{i}_shape"], [pre]))
        elif op == "channel_scale":
            nodes.append(helper.make_node("Mul", [xs[0], xs[1]], [pre]))
        elif op == "add":
            nodes.append(helper.make_node("Add", [xs[0], xs[1]], [pre]))
        elif op == "concat":
            nodes.append(helper.make_node("Concat", xs, [pre], axis=1))
        else:
            raise ValueError(f"layer {layer['name']}: op '{op}' has no ONNX export")
        _activation(helper, nodes, layer["activation"], pre, name_of(i))

    last = name_of(len(layers) - 1)
    out_dims = _dims(layers[-1]["out"])
    classes = int(np.prod(out_dims[1:]))
    nodes.append(helper.make_node("Flatten", [last], ["logits"], axis=1))
    in_dims = _dims(inp)
    used = {name for node in nodes for name in node.input}
    inits = [t for t in inits if t.name in used]  # esm_zero / esm_six only where Clip needs them
    graph = helper.make_graph(
        nodes, "esm", [helper.make_tensor_value_info("input", TensorProto.FLOAT, in_dims)],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [batch, classes])], initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="esm")
    model.doc_string = net["arch"]
    onnx.checker.check_model(model)
    return model


def _dims(shape: Any) -> List[int]:
    """[n, c, h, w] of an IR shape (a JSON object or list)."""
    if isinstance(shape, dict):
        return [int(shape[key]) for key in ("n", "c", "h", "w")]
    return [int(v) for v in shape]
