"""Helpers shared by the fixture scripts in tools/ (make_*_fixtures.py): where fixtures go, how
inputs are drawn, and how numbers and files are written. Import it as `import fixture_io` (or
`from fixture_io import ...`): Python puts a script's own directory on sys.path, so this works
however tools/<script>.py is started.

    OUT                       tests/Sinapse.Tests/Fixtures/, the directory every script writes into.
    f32(t)                    t rounded to float32 and back to float64: the exact value the C# side
                              will hold.
    randn(generator, *shape, scale=1.0, shift=0.0)
                              normal values from generator, drawn in float64, times scale plus
                              shift, then rounded to float32 (held as float64). References are then
                              computed from these in float64, so the fixtures carry PyTorch's
                              exact-arithmetic answer for the very inputs the tests use.
    rounded(t)                a tensor as a flat list of numbers with 9 significant digits, enough
                              for a float32 to round-trip.
    number(x)                 one number (a float or a one-element tensor) likewise.
    script_name(script)       "tools/<script>.py" for a script's __file__: how fixtures name their
                              generator.
    header(script)            {"generator": script_name(script), "torch": <version>}, the first keys
                              of every JSON fixture; pass the script's __file__.
    write(name, content)      writes content as compact JSON (plus a final newline) to OUT/name and
                              prints its path and size.
    weighted_case(generator, name, parameters, x, w, b, function)
                              one forward and backward of a weighted op (convolution, transposed
                              convolution) as a fixture case: y = function(x, w, b), an upstream
                              gradient g drawn from generator, and the gradients of sum(g * y) with
                              respect to x, w and b (b may be None; then the case has no bias).
    write_safetensors(path, tensors, metadata=None)
                              the safetensors format written by hand (no extra package needed): an
                              8-byte little-endian header length, a JSON header {name: {dtype,
                              shape, data_offsets}} (and "__metadata__" if given) padded with spaces
                              to a multiple of 8 bytes, then each tensor's little-endian bytes in
                              order. Tensors keep their dtype: float16, float32 or int64.

A change here reaches every fixture written with the helper: after one, run all the scripts (each
docstring says how) and check that `git status tests/Sinapse.Tests/Fixtures` is clean, or that
every file that changed was meant to.
"""

import json
import os
import struct

import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "Sinapse.Tests", "Fixtures")


def f32(t):
    """Rounds to float32 and back to float64: the exact value the C# side will hold."""
    return t.float().double()


def randn(generator, *shape, scale=1.0, shift=0.0):
    """Normal values (float64, from generator) times scale plus shift, rounded to float32."""
    return f32(torch.randn(*shape, generator=generator, dtype=torch.float64) * scale + shift)


def rounded(t):
    """A tensor as a flat list of numbers with 9 significant digits (a float32 round-trips)."""
    return [float(f"{v:.9g}") for v in t.detach().double().flatten().tolist()]


def number(x):
    """One number (a float or a one-element tensor) with 9 significant digits."""
    return float(f"{float(x):.9g}")


def weighted_case(generator, name, parameters, x, w, b, function):
    """Runs y = function(x, w, b) and its backward for an upstream gradient drawn from generator, and
    returns name, parameters, the shapes, x, w, the upstream, y, the gradients and (unless b is None)
    b and its gradient, in that order."""
    for t in (x, w, b):
        if t is not None:
            t.requires_grad_(True)
    y = function(x, w, b)
    g = randn(generator, *y.shape)
    (y * g).sum().backward()
    case = {
        "name": name,
        "parameters": parameters,
        "input_shape": list(x.shape),
        "weight_shape": list(w.shape),
        "output_shape": list(y.shape),
        "input": rounded(x),
        "weight": rounded(w),
        "upstream": rounded(g),
        "output": rounded(y),
        "grad_input": rounded(x.grad),
        "grad_weight": rounded(w.grad),
    }
    if b is not None:
        case["bias"] = rounded(b)
        case["grad_bias"] = rounded(b.grad)
    return case


def script_name(script):
    """"tools/<name>.py" for a script's __file__: how the fixtures name their generator."""
    return "tools/" + os.path.basename(script)


def header(script):
    """The keys every JSON fixture starts with; script is the generating script's __file__."""
    return {"generator": script_name(script), "torch": torch.__version__}


def write(name, content):
    """Writes content as compact JSON and a newline to OUT/name."""
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, name)
    with open(path, "w") as f:
        json.dump(content, f, separators=(",", ":"))
        f.write("\n")
    print(f"{path}: {os.path.getsize(path)} bytes")


SAFETENSORS_DTYPES = {torch.float16: ("F16", "<f2"), torch.float32: ("F32", "<f4"), torch.int64: ("I64", "<i8")}


def write_safetensors(path, tensors, metadata=None):
    """The safetensors layout: u64 LE header length, JSON header, then each tensor's bytes in order."""
    index, blobs, offset = {}, [], 0
    if metadata:
        index["__metadata__"] = metadata
    for name, tensor in tensors.items():
        if tensor.dtype not in SAFETENSORS_DTYPES:
            raise ValueError(f"{name}: dtype {tensor.dtype} is not one of {list(SAFETENSORS_DTYPES)}")
        dtype, layout = SAFETENSORS_DTYPES[tensor.dtype]
        data = tensor.detach().contiguous().numpy().astype(layout).tobytes()
        index[name] = {"dtype": dtype, "shape": list(tensor.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    encoded = json.dumps(index, separators=(",", ":")).encode("utf-8")
    encoded += b" " * (-len(encoded) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(encoded)))
        f.write(encoded)
        for blob in blobs:
            f.write(blob)
