#!/usr/bin/python3
"""PyTorch reference fixtures for Sinapse's mixed precision: how float32 rounds to bfloat16 and float16,
and what linear and convolution compute under torch.autocast("cpu", dtype=torch.bfloat16).

How to run (from the repository root):

    apt-get install -y python3-torch          # PyTorch 1.13 (Debian)
    /usr/bin/python3 tools/make_precision_fixtures.py

What it writes, into tests/Sinapse.Tests/Fixtures/:

    precision.json    float32 bit patterns (edge cases: ties to even at both formats' last bit,
                      ±0, ±Inf, NaNs with payloads, float32 and float16 subnormals, float16's
                      largest finite value and the first values that overflow it, bfloat16's
                      carry into the exponent and into infinity; then random values over many
                      magnitudes), each with the bit patterns of tensor.to(torch.bfloat16) and
                      tensor.to(torch.float16).
    autocast.json     linear (with and without bias), conv2d (padding; stride, padding and groups;
                      depthwise) and conv1d run under torch.autocast("cpu", dtype=torch.bfloat16)
                      on float32 input, weight and bias: "op", "parameters", those inputs, the
                      output (bfloat16 values written as numbers), a float32 upstream gradient g
                      and the gradients of sum(output.float() * g) with respect to input, weight
                      and bias (float32 tensors holding bfloat16 values).

torch 1.13's CPU autocast runs only bfloat16 (asked for float16 it warns and disables itself), so
there are no float16 autocast fixtures. It also has no lower-precision transposed convolution:
conv_transpose1d/2d are on its CPU float32 list (they cast bfloat16 inputs up and return float32),
so the transposed convolution has no autocast fixture either.

torch 1.13 cannot run GradScaler's update (_amp_update_scale_) on the CPU, so the loss scaler's
rules are tested against their documented definition instead.

The C# tests that read these files: tests/Sinapse.Tests/Kernels/HalfPrecisionTests.cs (precision.json)
and tests/Sinapse.Tests/Ops/WeightedFixtureTests.cs (autocast.json).
"""

import struct

import torch
import torch.nn.functional as F

from fixture_io import header, randn, weighted_case, write


def bits(value):
    return struct.unpack("<I", struct.pack("<f", value))[0]


def rounding():
    edges = [
        0x00000000, 0x80000000, 0x7F800000, 0xFF800000,  # zeros and infinities
        0x7FC00000, 0xFFC00000, 0x7F800001, 0x7FBFFFFF, 0xFFFFFFFF,  # NaNs, signalling and with payloads
        0x00000001, 0x807FFFFF, 0x00400000,  # float32 subnormals
        0x3F808000, 0x3F818000, 0x3F808001, 0x3F807FFF,  # bfloat16 ties to even (down, up) and either side
        0x3F7FFF80, 0x7F7FFFFF, 0x7F7F8000, 0xFF7F8000,  # carries into the exponent and into infinity
        bits(65504.0), bits(65519.99), bits(65520.0), bits(-65520.0), bits(1e6),  # float16 max, overflow
        bits(1.0 + 2 ** -11), bits(1.0 + 3 * 2 ** -11), bits(1.0 + 2 ** -11 + 2 ** -22),  # float16 ties
        bits(2 ** -14), bits(2 ** -15), bits(2 ** -24), bits(2 ** -25), bits(2 ** -25 + 2 ** -40),
        bits(3 * 2 ** -26), bits(2 ** -26), bits(-2 ** -24), bits(1e-8), bits(-1e-30),  # float16 subnormals, underflow to ±0
    ]
    generator = torch.Generator().manual_seed(7)
    magnitudes = torch.pow(10.0, torch.empty(200, dtype=torch.float64).uniform_(-12, 12, generator=generator))
    signs = torch.where(torch.rand(200, generator=generator) < 0.5, -1.0, 1.0).double()
    randoms = [bits(float(v)) for v in (magnitudes * signs).float()]
    patterns = edges + randoms
    values = torch.tensor(patterns, dtype=torch.int64).to(torch.int32).view(torch.float32)
    bf16 = values.to(torch.bfloat16).view(torch.int16).to(torch.int64) & 0xFFFF
    fp16 = values.to(torch.float16).view(torch.int16).to(torch.int64) & 0xFFFF
    write("precision.json", {
        **header(__file__),
        "float32": patterns,
        "bfloat16": bf16.tolist(),
        "float16": fp16.tolist(),
    })


def autocast_case(generator, name, op, input_shape, weight_shape, bias=True, **parameters):
    """One op under bfloat16 autocast on float32 tensors (autocast leaves float64 alone); output.float()
    keeps the bfloat16 values, and its backward rounds the float32 upstream to bfloat16 as the op sees it."""
    x = randn(generator, *input_shape).float()
    w = (randn(generator, *weight_shape) * 0.5).float()
    b = randn(generator, weight_shape[0]).float() if bias else None

    def function(x, w, b):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            y = getattr(F, op)(x, w, b, **parameters)
        assert y.dtype == torch.bfloat16, f"{op} is not a bfloat16 op under CPU autocast in torch {torch.__version__}"
        return y.float()

    return {"op": op, **weighted_case(generator, name, parameters, x, w, b, function)}


def autocast():
    g = torch.Generator().manual_seed(16)
    cases = [
        # 16 x 16 -> 17: each of linear's three matrix products is 16 * 16 * 17 > 4096 multiply-adds,
        # so torch 1.13 sends it to oneDNN, which accumulates in float32 as autocast means. Smaller
        # bfloat16 products go to torch's fallback GEMM (BLAS_INFO=generic in Debian's build), which
        # rounds every product and running sum to bfloat16 when the second matrix is contiguous, as
        # the weight is in grad_input = g @ w: on 16^3 products two thirds of the values differ from
        # float32 accumulation, near-cancelled sums by hundreds of ulps.
        autocast_case(g, "linear", "linear", [16, 16], [17, 16]),
        autocast_case(g, "linear no bias", "linear", [16, 16], [17, 16], bias=False),
        autocast_case(g, "conv2d padding 1", "conv2d", [1, 2, 4, 4], [3, 2, 3, 3], padding=1),
        autocast_case(g, "conv2d stride 2 padding 1 groups 2", "conv2d", [1, 4, 4, 4], [4, 2, 3, 3], stride=2, padding=1, groups=2),
        autocast_case(g, "conv2d depthwise", "conv2d", [1, 3, 4, 4], [3, 1, 3, 3], padding=1, groups=3),
        autocast_case(g, "conv1d stride 2", "conv1d", [2, 3, 7], [4, 3, 3], stride=2),
    ]
    write("autocast.json", {**header(__file__), "cases": cases})


if __name__ == "__main__":
    rounding()
    autocast()
