#!/usr/bin/python3
"""PyTorch reference fixtures for Sinapse's tensor creation (arange, linspace) and printing.

How to run (from the repository root):

    apt-get install -y python3-torch          # PyTorch 1.13 (Debian)
    /usr/bin/python3 tools/make_tensor_fixtures.py

What it writes, into tests/Sinapse.Tests/Fixtures/:

    tensor_creation.json   torch.arange(start, end, step) and torch.linspace(start, end, steps) in
                           float32: ascending and descending ranges, steps that do not divide the
                           range, empty ranges, one step, and lengths around the 16-element blocks
                           the CPU kernel fills (15, 16, 17, 31, 32, 33, ...). Each case has its
                           arguments (as the float64 numbers Python passes) and torch's values.
                           The C# side compares them bit for bit: both functions are defined by
                           the float32 arithmetic torch's kernel does, not by exact arithmetic.
    tensor_printing.json   repr() of float32 tensors with the default print options: scalars,
                           1-D to 4-D, integer-valued, negative, scientific notation (wide ratio,
                           large, small), nan/inf, negative zero, rounding ties, long rows that
                           wrap at 80 columns, summarised tensors (more than 1000 elements),
                           empty tensors, requires_grad=True, and the output of a custom
                           torch.autograd.Function (grad_fn=<SwishBackward>). Each case has the
                           shape, the values and the exact string torch prints.

torch's CPU kernels run with one thread here: above 32768 elements linspace and arange split the
output between threads and each thread restarts the block pattern, so their last bits depend on
the thread count.

Values are written as the shortest decimals that round-trip their float32 (0.1 rather than
0.100000001); nan and infinities, which JSON has no numbers for, are written as the strings "NaN",
"Infinity" and "-Infinity".

The C# tests that read these files are tests/Sinapse.Tests/Tensors/TensorCreationTests.cs and
tests/Sinapse.Tests/Tensors/TensorFormattingTests.cs (and, for grad_fn, Autograd/FunctionTests.cs).
"""

import math

import torch

from fixture_io import header, write


def values_of(t):
    """Flat values as the shortest decimals that round-trip their float32; nan and infinities as
    the strings .NET's float.Parse reads."""
    special = {math.inf: "Infinity", -math.inf: "-Infinity"}
    out = []
    for v in t.detach().float().flatten().numpy():
        if math.isnan(v):
            out.append("NaN")
        else:
            out.append(special.get(float(v), float(str(v))))
    return out


def creation_cases():
    cases = []
    for start, end, step in [
        (0.0, 10.0, 1.0), (0.0, 1.0, 0.1), (-3.0, 3.0, 0.7), (1.5, -2.0, -0.25), (0.0, 0.3, 0.1),
        (-50.0, 50.0, 1 / 3), (10.0, 10.0, 1.0), (0.0, 17.0, 1.0), (2.0, 2.5, 1.0),
        (-50.0, 0.5, 1 / 3), (123.456, 987.654, 2.345), (1e6, 1e6 + 100.0, 0.37), (0.0, -1.0, -0.01), (-7.25, 40.0, 0.9),
    ]:
        values = torch.arange(start, end, step, dtype=torch.float32)
        cases.append({"name": "arange", "start": start, "end": end, "step": step, "values": values_of(values)})
    for start, end, steps in [
        (0.0, 1.0, 5), (0.0, 1.0, 2), (3.0, 3.0, 4), (-1.0, 1.0, 1), (0.0, 1.0, 0), (0.1, 10.0, 64),
        (-0.9129825816, -10.1017870423, 63), (45.1705202893, 5.5258828725, 100), (-62.8187468211, 98.5086824352, 32),
        (0.0, 1.0, 15), (0.0, 1.0, 16), (0.0, 1.0, 17), (-2.0, 7.0, 31), (-2.0, 7.0, 33), (1e-3, 1e4, 48),
        (0.0, 2 * math.pi, 1000), (5.0, -5.0, 257), (-1e30, 1e30, 7),
    ]:
        values = torch.linspace(start, end, steps, dtype=torch.float32)
        cases.append({"name": "linspace", "start": start, "end": end, "steps": steps, "values": values_of(values)})
    return cases


class Swish(torch.autograd.Function):
    """x * sigmoid(x); only its name matters here: torch prints grad_fn=<SwishBackward>."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * torch.sigmoid(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        s = torch.sigmoid(x)
        return grad * (s + x * s * (1 - s))


def printing_cases():
    generator = torch.Generator().manual_seed(7)

    def randn(*shape, scale=1.0):
        return (torch.randn(*shape, generator=generator) * scale).float()

    def thousandths(*shape, limit=20000):
        """Multiples of 0.001 (short decimals keep the summarised cases small)."""
        return torch.randint(-limit, limit, shape, generator=generator).float() / 1000

    nan, inf = math.nan, math.inf
    tensors = [
        ("scalar", torch.tensor(3.5)),
        ("scalar integer", torch.tensor(-2.0)),
        ("scalar scientific", torch.tensor(1.25e-5)),
        ("scalar nan", torch.tensor(nan)),
        ("vector", torch.tensor([0.1234, -1.0, 2.5])),
        ("vector integers", torch.tensor([1.0, 2.0, 30.0, -4.0])),
        ("zeros", torch.zeros(2, 3)),
        ("negative zero", torch.tensor([-0.0, 1.0, 0.0])),
        ("matrix", randn(3, 4)),
        ("matrix integers", torch.tensor([[1.0, -20.0], [300.0, 4.0]])),
        ("3-D", randn(2, 3, 4)),
        ("4-D", randn(2, 2, 2, 3, scale=10)),
        ("size-1 dims", randn(1, 3, 1)),
        ("scientific ratio", torch.tensor([1e-3, 1.5, 2000.0, -0.25])),
        ("scientific large", torch.tensor([1.5e9, 2.25, -3.0])),
        ("scientific large integers", torch.tensor([1e9, 2.0, -7.0])),
        ("scientific integers ratio", torch.tensor([1.0, 5000.0])),
        ("scientific small", torch.tensor([[1e-5, 0.5], [-0.25, 3e-7]])),
        ("nan and inf", torch.tensor([nan, inf, -inf, 1.5, 0.0])),
        ("nan and inf with integers", torch.tensor([nan, 1.0, -inf, 2.0])),
        ("only nan and inf", torch.tensor([nan, inf, 0.0])),
        ("nan in scientific", torch.tensor([nan, 1e-6, 1.0])),
        ("rounding ties", torch.tensor([0.03125, 0.09375, -0.15625, 2.5])),
        ("rounding ties scientific", torch.tensor([1.03125, 2e-5, -1.09375e10])),
        ("long row wraps", torch.arange(30, dtype=torch.float32) * 0.37 - 5),
        ("long rows wrap in a matrix", randn(2, 15)),
        ("long integer row", torch.arange(40, dtype=torch.float32)),
        ("summarised vector", torch.arange(1200, dtype=torch.float32) / 7),
        ("summarised matrix", thousandths(40, 30)),
        ("summarised 3-D", thousandths(11, 10, 10, limit=3000)),
        ("summarised one row", thousandths(1, 1001, limit=200000)),
        ("summarised short last axis", thousandths(350, 3)),
        ("empty vector", torch.zeros(0)),
        ("empty matrix", torch.zeros(0, 3)),
        ("empty 3-D", torch.zeros(2, 0, 4)),
        ("requires grad", randn(2, 2).requires_grad_()),
        ("requires grad scalar", torch.tensor(0.5, requires_grad=True)),
        ("requires grad after a long line", (torch.arange(11, dtype=torch.float32) * 1.5 - 4).requires_grad_()),
    ]
    cases = []
    for name, t in tensors:
        cases.append({"name": name, "shape": list(t.shape), "requires_grad": t.requires_grad,
                      "values": values_of(t), "text": repr(t)})
    x = randn(2, 3).requires_grad_()
    cases.append({"name": "custom function output", "shape": [2, 3], "requires_grad": True, "function": "Swish",
                  "input": values_of(x), "values": values_of(Swish.apply(x)), "text": repr(Swish.apply(x))})
    return cases


def main():
    torch.set_num_threads(1)
    write("tensor_creation.json", {**header(__file__), "cases": creation_cases()})
    write("tensor_printing.json", {**header(__file__), "cases": printing_cases()})


if __name__ == "__main__":
    main()
