#!/usr/bin/python3
"""PyTorch reference fixtures for Sinapse's autoencoder building blocks.

How to run (from the repository root):

    apt-get install -y python3-torch          # PyTorch 1.13 (Debian); use /usr/bin/python3
    /usr/bin/python3 tools/make_autoencoder_fixtures.py

What it writes, into tests/Sinapse.Tests/Fixtures/:

    conv_transpose2d.json  F.conv_transpose2d forward and backward on [2, C_in, H, W] inputs with
                           weight [C_in, C_out/groups, k, k]: stride, padding, output padding,
                           dilation, groups, no bias. Per case: "parameters" {stride, padding,
                           output_padding, dilation, groups}, input, weight, bias (absent when the
                           case has none), the upstream gradient, the output and the gradients of
                           sum(upstream * output) with respect to input, weight and bias.
    upsample.json          F.interpolate(mode="nearest", scale_factor=s) forward and input gradient.

Inputs are drawn from a fixed seed as float32 (so the C# side holds exactly the same numbers);
references are computed in float64 and written with 9 significant digits.

The C# tests that read these files: tests/Sinapse.Tests/Ops/ConvTransposeTests.cs.
"""

import torch
import torch.nn.functional as F

from fixture_io import header, randn, rounded, weighted_case, write


def transpose_case(generator, name, input_shape, out_channels, kernel, stride=1, padding=0, output_padding=0,
                   dilation=1, groups=1, bias=True):
    in_channels = input_shape[1]
    weight_shape = [in_channels, out_channels // groups, kernel, kernel]
    x = randn(generator, *input_shape)
    w = randn(generator, *weight_shape) * 0.5
    b = randn(generator, out_channels) if bias else None
    parameters = {"stride": stride, "padding": padding, "output_padding": output_padding,
                  "dilation": dilation, "groups": groups}
    return weighted_case(generator, name, parameters, x, w, b, lambda x, w, b: F.conv_transpose2d(x, w, b, **parameters))


def conv_transpose2d():
    g = torch.Generator().manual_seed(2025)
    c = lambda *args, **kwargs: transpose_case(g, *args, **kwargs)
    return [
        c("k2 stride 2 (the decoder's doubling)", [2, 3, 4, 4], 2, 2, stride=2),
        c("k3 stride 1", [2, 2, 5, 5], 3, 3),
        c("k3 stride 2 padding 1 output padding 1", [2, 3, 4, 5], 4, 3, stride=2, padding=1, output_padding=1),
        c("k4 stride 2 padding 1", [2, 4, 3, 3], 2, 4, stride=2, padding=1),
        c("k3 dilation 2", [2, 2, 4, 4], 3, 3, dilation=2),
        c("groups 2", [2, 4, 3, 3], 6, 3, stride=2, groups=2),
        c("no bias", [2, 3, 3, 4], 2, 3, stride=3, bias=False),
        c("1x1", [2, 5, 3, 3], 4, 1),
    ]


def upsample():
    g = torch.Generator().manual_seed(2026)
    cases = []
    for name, shape, scale in [("x2", [2, 3, 3, 4], 2), ("x3", [1, 2, 2, 3], 3), ("x1", [1, 1, 2, 2], 1)]:
        x = randn(g, *shape).requires_grad_(True)
        y = F.interpolate(x, scale_factor=scale, mode="nearest")
        up = randn(g, *y.shape)
        (y * up).sum().backward()
        cases.append({"name": name, "parameters": {"scale": scale}, "input_shape": shape, "output_shape": list(y.shape),
                      "input": rounded(x), "upstream": rounded(up), "output": rounded(y), "grad_input": rounded(x.grad)})
    return cases


if __name__ == "__main__":
    write("conv_transpose2d.json", {**header(__file__), "cases": conv_transpose2d()})
    write("upsample.json", {**header(__file__), "cases": upsample()})
