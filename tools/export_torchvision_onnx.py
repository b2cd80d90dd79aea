#!/usr/bin/python3
"""torchvision models exported by torch.onnx.export, for Sinapse's ONNX import tests.

How to run (from the repository root):

    apt-get install -y python3-torchvision    # torchvision 0.14 with PyTorch 1.13 (Debian)
    /usr/bin/python3 tools/export_torchvision_onnx.py

What it writes, into tests/Sinapse.Tests/Fixtures/torchvision_onnx/:

    mobilenet_v2.onnx, mobilenet_v3_small.onnx, mobilenet_v3_large.onnx, resnet18.onnx,
    squeezenet1_1.onnx
                  torchvision 0.14's models (1000 classes) as torch.onnx.export writes them with
                  its defaults at opset 17 for an input [1, 3, 224, 224] named "input" (output
                  "output"): batch norm folded into the convolutions, equal initializers
                  deduplicated behind Identity nodes, Clip bounds as Constant nodes, ceil-mode
                  max pooling (SqueezeNet). The weights are NOT stored (see below): every float
                  initializer keeps its name, dims and data type but has no data.
    view_flatten.onnx
                  a small network whose forward flattens with x.view(x.size(0), -1), exported
                  with a dynamic batch axis, so the graph holds the shape arithmetic
                  Shape -> Gather -> Unsqueeze -> Concat -> Reshape; weights stripped likewise.
    expected.json "input": how the input is made, and for each file its input shape and
                  PyTorch's output (computed in float64, 9 significant digits).

The weights: a formula that C# reproduces bitwise ("sinapse-hash-uniform-v1", recorded in each
file's metadata under "sinapse.weights"). Element i (row-major) of the initializer named n is

    h = fmix32((i * 0x9E3779B1 + fnv1a32(utf8(n))) mod 2^32)     (MurmurHash3's finaliser)
    u = (h >> 8) * 2^-23 - 1                                        (exact in float32, [-1, 1))
    value = u * s  in float32, with s = sqrt(6 / fan_in) in float32 for tensors of rank 2 or
            more (fan_in = the product of all dims but the first: He-uniform), s = 0.2 for
            vectors (biases); the input image is the tensor named "input" with s = 1.

Storing the five models' weights would take ~100 MB; the formula takes none, and the test
(tests/Sinapse.Tests/Serialization/TorchvisionOnnxTests.cs) fills the initializers with it
before importing, so it imports exactly the graph PyTorch exported, with bitwise the weights
PyTorch used for the reference output.

Why the formula fills the *initializers* (and not the state_dict before export): the exporter
folds batch norm into the convolutions (W * gamma / sqrt(var + eps), beta - mean * scale), so
the file's weights are PyTorch's arithmetic on the parameters, not the parameters. To make the
file hold formula values, the script builds each model a second time with every convolution
and linear weight and bias set to the formula value of the initializer the graph gives it, and
every batch norm set to the identity (gamma = 1, mean = 0, var + eps = 1 exactly in float32,
beta = the formula value of the folded bias), which the exporter folds without rounding. It
exports that model again and checks that the graph is the same node for node and that every
float initializer is bitwise the formula's value; the reference output is that model's, in
float64. Batch norm's running statistics thus stay at the identity: the exported graph has no
batch norm, and its folded weights and biases, which are what the file holds, are random.

The graph is the one torch.onnx.export writes for torchvision's own initialisation (first
export), so the Identity nodes it writes for equal initializers (zero biases) are kept: the
second model gives those convolutions one shared formula tensor, which the exporter
deduplicates the same way (checked).
"""

import json
import os

import numpy as np
import torch
import torchvision

from fixture_io import OUT, header, rounded

FIXTURES = os.path.join(OUT, "torchvision_onnx")
FORMULA = "sinapse-hash-uniform-v1"
OPSET = 17
BIAS_SCALE = 0.2
MODELS = ["mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large", "resnet18", "squeezenet1_1"]


# ---------------------------------------------------------------- the formula

def fnv1a32(text):
    h = 0x811C9DC5
    for byte in text.encode("utf-8"):
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return h


def fmix32(h):
    """MurmurHash3's 32-bit finaliser on a uint64 array holding 32-bit values."""
    mask = np.uint64(0xFFFFFFFF)
    h = h ^ (h >> np.uint64(16))
    h = (h * np.uint64(0x85EBCA6B)) & mask
    h = h ^ (h >> np.uint64(13))
    h = (h * np.uint64(0xC2B2AE35)) & mask
    return h ^ (h >> np.uint64(16))


def formula(name, dims, scale=None):
    """The float32 values of the initializer `name` with shape `dims` (see the docstring)."""
    count = int(np.prod(dims, dtype=np.int64))
    index = np.arange(count, dtype=np.uint64)
    h = fmix32((index * np.uint64(0x9E3779B1) + np.uint64(fnv1a32(name))) & np.uint64(0xFFFFFFFF))
    u = (h >> np.uint64(8)).astype(np.float32) * np.float32(2.0 ** -23) - np.float32(1)
    if scale is None:
        fan_in = int(np.prod(dims[1:], dtype=np.int64)) if len(dims) >= 2 else 0
        scale = np.sqrt(np.float32(6) / np.float32(fan_in)) if len(dims) >= 2 else np.float32(BIAS_SCALE)
    return (u * np.float32(scale)).astype(np.float32).reshape(dims)


# ---------------------------------------------------------------- ONNX protobuf, by hand
# (no onnx package needed: the wire format of the few messages touched)

def read_varint(data, i):
    value = shift = 0
    while True:
        byte = data[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, i


def fields(data):
    """(field number, wire type, value or bytes, raw bytes of the whole field) for each field of a message."""
    i = 0
    while i < len(data):
        start = i
        key, i = read_varint(data, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = read_varint(data, i)
        elif wire == 2:
            length, i = read_varint(data, i)
            value = bytes(data[i:i + length])
            i += length
        elif wire == 5:
            value, i = bytes(data[i:i + 4]), i + 4
        elif wire == 1:
            value, i = bytes(data[i:i + 8]), i + 8
        else:
            raise ValueError(f"wire type {wire}")
        yield number, wire, value, bytes(data[start:i])


def varint(value):
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field(number, payload):
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def packed_ints(values):
    out = []
    for number, wire, value, _ in values:
        if wire == 0:
            out.append(value)
        else:
            i = 0
            while i < len(value):
                v, i = read_varint(value, i)
                out.append(v)
    return [v - (1 << 64) if v >= 1 << 63 else v for v in out]


class Tensor:
    """An initializer: TensorProto fields name (8), dims (1), data_type (2), raw_data (9)."""

    def __init__(self, data):
        parts = list(fields(data))
        self.data = data
        self.name = next(v for n, _, v, _ in parts if n == 8).decode()
        self.dims = packed_ints([p for p in parts if p[0] == 1])
        self.dtype = next((v for n, _, v, _ in parts if n == 2), 0)
        self.raw = next((v for n, _, v, _ in parts if n == 9), None)

    def stripped(self):
        """The TensorProto without its raw_data: names, dims and data type stay."""
        return b"".join(raw for n, _, _, raw in fields(self.data) if n != 9)


class Node:
    def __init__(self, data):
        parts = list(fields(data))
        self.inputs = [v.decode() for n, _, v, _ in parts if n == 1]
        self.outputs = [v.decode() for n, _, v, _ in parts if n == 2]
        self.name = next((v.decode() for n, _, v, _ in parts if n == 3), "")
        self.op = next(v.decode() for n, _, v, _ in parts if n == 4)
        self.data = data


class Model:
    """ModelProto: graph (7) holding nodes (1) and initializers (5); metadata_props (14)."""

    def __init__(self, data):
        self.data = data
        self.graph = next(v for n, _, v, _ in fields(data) if n == 7)
        self.nodes = [Node(v) for n, _, v, _ in fields(self.graph) if n == 1]
        self.initializers = [Tensor(v) for n, _, v, _ in fields(self.graph) if n == 5]

    def stripped(self, names, metadata):
        """The model with the raw data of the initializers in `names` removed and metadata_props added."""
        graph = b""
        for number, _, value, raw in fields(self.graph):
            tensor = Tensor(value) if number == 5 else None
            graph += field(5, tensor.stripped()) if tensor and tensor.name in names else raw
        model = b""
        for number, _, value, raw in fields(self.data):
            model += field(7, graph) if number == 7 else raw
        for key, value in metadata.items():
            model += field(14, field(1, key.encode()) + field(2, value.encode()))
        return model


# ---------------------------------------------------------------- export

FLOAT = 1


def export(model, example, dynamic_batch=False):
    path = os.path.join(FIXTURES, "_export.onnx")
    torch.onnx.export(model, example, path, opset_version=OPSET, input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}} if dynamic_batch else None)
    with open(path, "rb") as f:
        data = f.read()
    os.remove(path)
    return Model(data)


def execution_order(model, example):
    """The Conv2d and Linear modules in the order the forward pass calls them, and the batch norm reading each convolution's output."""
    calls, norms, outputs = [], {}, {}

    def record(module, inputs, output):
        if isinstance(module, torch.nn.BatchNorm2d):
            norms[outputs[id(inputs[0])][0]] = module
        else:
            calls.append(module)
            outputs[id(output)] = (module, output)  # the output kept alive, so its id is not reused

    hooks = [m.register_forward_hook(record) for m in model.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear, torch.nn.BatchNorm2d))]
    with torch.no_grad():
        model(example)
    for hook in hooks:
        hook.remove()
    assert len(set(map(id, calls))) == len(calls), "a module runs twice"
    return calls, norms


def identity_norm(norm):
    """gamma = 1, mean = 0 and var with var + eps == 1 exactly in float32: the exporter folds it into the convolution without rounding."""
    eps = np.float32(norm.eps)
    var = np.float32(1) - eps
    while np.float32(var + eps) != np.float32(1):
        var = np.nextafter(var, np.float32(2) if np.float32(var + eps) < 1 else np.float32(0))
    norm.weight.data.fill_(1.0)
    norm.running_mean.zero_()
    norm.running_var.fill_(float(var))


def with_formula_weights(build, graph, example):
    """The model `build` makes, with every weight the graph's initializers hold set to the formula's value for that initializer."""
    model = build().eval()
    calls, norms = execution_order(model, example)
    identities = {n.outputs[0]: n.inputs[0] for n in graph.nodes if n.op == "Identity"}
    dims = {t.name: t.dims for t in graph.initializers}

    def value(name):
        name = identities.get(name, name)
        return torch.from_numpy(formula(name, dims[name]).copy())

    operators = [n for n in graph.nodes if n.op in ("Conv", "Gemm")]
    assert [n.op for n in operators] == ["Conv" if isinstance(m, torch.nn.Conv2d) else "Gemm" for m in calls], "graph and modules differ"
    with torch.no_grad():
        for node, module in zip(operators, calls):
            module.weight.copy_(value(node.inputs[1]))
            bias = value(node.inputs[2]) if len(node.inputs) > 2 else None
            if module in norms:
                identity_norm(norms[module])
                norms[module].bias.copy_(bias)
            elif module.bias is not None:
                module.bias.copy_(bias)
    return model


def check_same_graph(first, second):
    a = [(n.op, n.inputs, n.outputs) for n in first.nodes]
    b = [(n.op, n.inputs, n.outputs) for n in second.nodes]
    assert a == b, "the second export's graph differs from the first's"
    assert [t.name for t in first.initializers] == [t.name for t in second.initializers]


def check_formula(graph):
    """Every float initializer holds bitwise the formula's values; returns their names."""
    names = set()
    for tensor in graph.initializers:
        if tensor.dtype != FLOAT:
            continue
        values = np.frombuffer(tensor.raw, dtype="<f4").reshape(tensor.dims)
        expected = formula(tensor.name, tensor.dims)
        assert values.tobytes() == expected.tobytes(), f"{tensor.name}: not the formula's values"
        names.add(tensor.name)
    return names


def write_model(name, graph, formula_names):
    data = graph.stripped(formula_names, {"sinapse.weights": FORMULA})
    path = os.path.join(FIXTURES, name + ".onnx")
    with open(path, "wb") as f:
        f.write(data)
    print(f"{path}: {len(data)} bytes ({len(formula_names)} initializers without data)")


def reference(model, example):
    with torch.no_grad():
        return model.double()(example.double())


def torchvision_model(name, example):
    build = getattr(torchvision.models, name)
    torch.manual_seed(0)
    default = export(build().eval(), example)
    model = with_formula_weights(build, default, example)
    graph = export(model, example)
    check_same_graph(default, graph)
    write_model(name, graph, check_formula(graph))
    return reference(model, example)


class ViewFlatten(torch.nn.Module):
    """Conv -> ReLU -> x.view(x.size(0), -1) -> Linear: the view becomes shape arithmetic in the graph."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3, stride=2)
        self.fc = torch.nn.Linear(4 * 7 * 7, 5)

    def forward(self, x):
        x = torch.relu(self.conv(x))
        return self.fc(x.view(x.size(0), -1))


def view_flatten(example):
    model = ViewFlatten().eval()
    with torch.no_grad():
        for parameter_name, parameter in model.named_parameters():
            parameter.copy_(torch.from_numpy(formula(parameter_name, list(parameter.shape)).copy()))
    graph = export(model, example, dynamic_batch=True)
    assert {"Shape", "Gather", "Unsqueeze", "Concat", "Reshape"} <= {n.op for n in graph.nodes}, "no shape arithmetic"
    write_model("view_flatten", graph, check_formula(graph))
    return reference(model, example)


def main():
    os.makedirs(FIXTURES, exist_ok=True)
    image = torch.from_numpy(formula("input", [1, 3, 224, 224], scale=1).copy())
    cases = {name: (list(image.shape), torchvision_model(name, image)) for name in MODELS}
    small = torch.from_numpy(formula("input", [2, 3, 16, 16], scale=1).copy())
    cases["view_flatten"] = (list(small.shape), view_flatten(small))
    content = {
        **header(__file__),
        "torchvision": torchvision.__version__,
        "weights": FORMULA,
        "input": "the formula's tensor named \"input\" with scale 1, of the case's input_shape",
        "cases": [{"name": name, "input_shape": shape, "output_shape": list(output.shape), "output": rounded(output)} for name, (shape, output) in cases.items()],
        # A few of the formula's values as float32 bit patterns, for a bitwise check of the C# formula on its own.
        "formula_samples": [{"name": name, "dims": dims, "scale": scale, "bits": formula(name, dims, scale).reshape(-1)[:6].view(np.uint32).tolist()}
                            for name, dims, scale in [("fc.weight", [1000, 512], None), ("onnx::Conv_497", [16], None), ("input", [1, 3, 224, 224], 1)]],
    }
    path = os.path.join(FIXTURES, "expected.json")
    with open(path, "w") as f:
        json.dump(content, f, separators=(",", ":"))
        f.write("\n")
    print(f"{path}: {os.path.getsize(path)} bytes")
    for name, (_, output) in cases.items():
        print(f"{name}: output std {output.std().item():.4g}, mean |output| {output.abs().mean().item():.4g}")


if __name__ == "__main__":
    main()
