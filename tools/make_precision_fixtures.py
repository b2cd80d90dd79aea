#!/usr/bin/python3
"""PyTorch reference fixtures for Sinapse's mixed precision: how float32 rounds to bfloat16 and float16.

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

torch 1.13 cannot run GradScaler's update (_amp_update_scale_) on the CPU, so the loss scaler's
rules are tested against their documented definition instead.

The C# test that reads this file is tests/Sinapse.Tests/Kernels/HalfPrecisionTests.cs.
"""

import struct

import torch

from fixture_io import header, write


def bits(value):
    return struct.unpack("<I", struct.pack("<f", value))[0]


def main():
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


if __name__ == "__main__":
    main()
