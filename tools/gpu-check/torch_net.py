#!/usr/bin/env python3
"""Builds a torch.nn.Module from esm's network IR JSON (`esm describe --json`, `esm-gpu-bench
--export-json`), for latency comparisons with PyTorch on the same networks.

The module executes the IR's layers in their (topological) order, each from its recorded inputs.
Batch-norm after a conv is folded at inference, so such convs carry a bias and no BN module (the
same work as a deployed model); standalone batch_norm layers are eval-mode BatchNorm2d. Weights
are PyTorch's default initialisation: latency does not depend on them (outputs are not compared).

Average pools whose end padding exceeds the begin padding (PyTorch ceil_mode, used by the
downsampling shortcuts of OFA-ResNet50) become AvgPool2d(ceil_mode=True, count_include_pad=False)
when that reproduces the IR's output size, which the builder checks; anything it cannot express
exactly raises ValueError.

Usage as a script: python3 tools/gpu-check/torch_net.py NET.json [--device cpu|cuda] [--fp16]
builds the module, runs one forward pass and checks the output shape.
"""

import argparse
import json
import math
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

# Applied to a layer's fresh result, so in place is safe.
_ACTIVATIONS = {
    "none": None,
    "relu": lambda x: F.relu(x, inplace=True),
    "relu6": lambda x: F.relu6(x, inplace=True),
    "hswish": lambda x: F.hardswish(x, inplace=True),
    "hsigmoid": lambda x: F.hardsigmoid(x, inplace=True),
    "sigmoid": lambda x: x.sigmoid_(),
}


def _pool_out(size, kernel, stride, pad_begin, pad_end):
    return (size + pad_begin + pad_end - kernel) // stride + 1


def _torch_ceil_out(size, kernel, stride, pad):
    """PyTorch's ceil_mode output size (a last window starting in the end padding is dropped)."""
    out = math.ceil((size + 2 * pad - kernel) / stride) + 1
    if (out - 1) * stride >= size + pad:
        out -= 1
    return out


def _pool(layer):
    op, k, s = layer["op"], layer["kernel"], layer["stride"]
    pb, pe = layer["pad_begin"], layer["pad_end"]
    _, _, h, w = layer["in"]
    _, _, oh, ow = layer["out"]
    is_max = op == "max_pool"
    if pb == pe:
        if is_max:
            return nn.MaxPool2d(k, s, padding=pb)
        return nn.AvgPool2d(k, s, padding=pb, count_include_pad=False)
    if pe > pb and _torch_ceil_out(h, k, s, pb) == oh and _torch_ceil_out(w, k, s, pb) == ow:
        if is_max:
            return nn.MaxPool2d(k, s, padding=pb, ceil_mode=True)
        return nn.AvgPool2d(k, s, padding=pb, ceil_mode=True, count_include_pad=False)
    raise ValueError(f"layer {layer['name']}: pooling padding {pb}/{pe} has no exact PyTorch equivalent")


def _conv(layer):
    n, c, h, w = layer["in"]
    out = layer["out"][1]
    k, s, g = layer["kernel"], layer["stride"], layer["groups"]
    pb, pe = layer["pad_begin"], layer["pad_end"]
    bias = bool(layer["bias"] or layer["batch_norm"])
    if pb == pe:
        return nn.Conv2d(c, out, k, stride=s, padding=pb, groups=g, bias=bias)
    return nn.Sequential(nn.ZeroPad2d((pb, pe, pb, pe)), nn.Conv2d(c, out, k, stride=s, padding=0, groups=g, bias=bias))


class IRNet(nn.Module):
    """The IR's layers as one module; forward(x) returns the last layer's output flattened to
    (N, C*H*W), i.e. the logits (N, K)."""

    def __init__(self, ir):
        super().__init__()
        self.layers = ir["layers"]
        if not self.layers:
            raise ValueError("IR has no layers")
        self.input_shape = list(ir["input"])
        modules = []
        for layer in self.layers:
            op = layer["op"]
            if op == "conv":
                modules.append(_conv(layer))
            elif op == "fully_connected":
                _, c, h, w = layer["in"]
                modules.append(nn.Linear(c * h * w, layer["out"][1]))
            elif op == "batch_norm":
                modules.append(nn.BatchNorm2d(layer["out"][1]))
            elif op in ("max_pool", "avg_pool"):
                modules.append(_pool(layer))
                _, _, oh, ow = layer["out"]
                _, _, h, w = layer["in"]
                expected = (_pool_out(h, layer["kernel"], layer["stride"], layer["pad_begin"], layer["pad_end"]),
                            _pool_out(w, layer["kernel"], layer["stride"], layer["pad_begin"], layer["pad_end"]))
                if expected != (oh, ow):
                    raise ValueError(f"layer {layer['name']}: IR pool output {oh}x{ow} inconsistent")
            elif op == "global_avg_pool":
                modules.append(nn.AdaptiveAvgPool2d(1))
            elif op in ("channel_scale", "add", "concat"):
                modules.append(nn.Identity())  # placeholder: the op is computed in forward
            else:
                raise ValueError(f"layer {layer['name']}: unknown op '{op}'")
            if layer["activation"] not in _ACTIVATIONS:
                raise ValueError(f"layer {layer['name']}: unknown activation '{layer['activation']}'")
        self.ops = nn.ModuleList(modules)
        self.kinds = [layer["op"] for layer in self.layers]
        self.sources = [list(layer["inputs"]) for layer in self.layers]
        self.acts = [_ACTIVATIONS[layer["activation"]] for layer in self.layers]
        self.fc_shapes = [tuple(layer["out"][1:]) for layer in self.layers]
        # After layer i, the outputs read for the last time there can be dropped.
        last_use = {}
        for i, sources in enumerate(self.sources):
            for p in sources:
                if p >= 0:
                    last_use[p] = i
        self.release = [[p for p, i_last in last_use.items() if i_last == i and p != len(self.layers) - 1]
                        for i in range(len(self.layers))]

    def forward(self, x):
        outs = [None] * len(self.layers)
        for i, kind in enumerate(self.kinds):
            ins = [x if p < 0 else outs[p] for p in self.sources[i]]
            if kind in ("conv", "batch_norm", "max_pool", "avg_pool", "global_avg_pool"):
                y = self.ops[i](ins[0])
            elif kind == "fully_connected":
                y = self.ops[i](torch.flatten(ins[0], 1)).view(-1, *self.fc_shapes[i])
            elif kind == "channel_scale":
                y = ins[0] * ins[1]
            elif kind == "add":
                y = ins[0] + ins[1]
            else:  # concat
                y = torch.cat(ins, 1)
            if self.acts[i] is not None:
                y = self.acts[i](y)
            outs[i] = y
            for p in self.release[i]:
                outs[p] = None
        return torch.flatten(outs[-1], 1)


def load_ir(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def build(ir, device="cuda", dtype=torch.float32, channels_last=False):
    """IRNet in eval mode on `device` in `dtype`, and a random input of the IR's shape.

    channels_last: weights and input in torch.channels_last (NHWC), the layout esm's
    backend.layout = nhwc uses; PyTorch's convolutions then keep their outputs channels-last."""
    if isinstance(ir, str):
        ir = load_ir(ir)
    layout = torch.channels_last if channels_last else torch.contiguous_format
    net = IRNet(ir).eval().to(device=device, dtype=dtype, memory_format=layout)
    x = torch.randn(*ir["input"], device=device, dtype=dtype).contiguous(memory_format=layout)
    return net, x


def expected_output_shape(ir):
    n, c, h, w = ir["layers"][-1]["out"]
    return [n, c * h * w]


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("ir", help="IR JSON file (esm describe --json)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--fp16", action="store_true")
    parser.add_argument("--channels-last", action="store_true", help="NHWC weights and input")
    args = parser.parse_args(argv)
    ir = load_ir(args.ir)
    net, x = build(ir, args.device, torch.float16 if args.fp16 else torch.float32, args.channels_last)
    with torch.no_grad():
        y = net(x)
    want = expected_output_shape(ir)
    print(f"{ir['arch']}: {len(ir['layers'])} layers, output {list(y.shape)} (IR: {want})")
    return 0 if list(y.shape) == want else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
