#!/usr/bin/python3
"""PyTorch reference fixtures for Sinapse's autoencoder building blocks.

How to run (from the repository root):

    apt-get install -y python3-torch          # PyTorch 1.13 (Debian); use /usr/bin/python3
    /usr/bin/python3 tools/make_autoencoder_fixtures.py

What it writes, into tests/Sinapse.Tests/Fixtures/:

    conv_transpose2d.json  F.conv_transpose2d forward and backward (about 600 KB). "cases":
                           named cases on [2, C_in, H, W] inputs with weight
                           [C_in, C_out/groups, k, k] (stride, padding, output padding,
                           dilation, groups, no bias); then a sweep on random small shapes
                           (batch 1 or 2, kernels 1 to 3 per axis, each input axis from the
                           smallest size with an output to two more, groups 1 to 3, a bias on
                           about two cases in three): every stride 1..3, dilation 1..3, padding
                           0..3 and EVERY output padding PyTorch allows (smaller than the stride
                           or the dilation) with the same value on both axes ("uniform ..."),
                           then every (stride, dilation, output padding) on one axis with random
                           other values on the other axis ("per-axis ..."); then corner cases
                           ("corner ...": an empty batch, 1x1 inputs, no input reaching the
                           output). Per case: "parameters" {stride, padding, output_padding,
                           dilation, groups}, each a number or a [height, width] pair, input,
                           weight, bias (absent when the case has none), the upstream gradient,
                           the output and the gradients of sum(upstream * output) with respect to
                           input, weight and bias. "rejected": configurations PyTorch refuses,
                           with their shapes and PyTorch's message.
    upsample.json          F.interpolate(mode="nearest", scale_factor=s) forward and input gradient.

Inputs are drawn from a fixed seed as float32 (so the C# side holds exactly the same numbers);
references are computed in float64 and written with 9 significant digits. The integer choices of
the sweep come from Python's random.Random with a fixed seed.

The C# tests that read these files: tests/Sinapse.Tests/Ops/ConvTransposeTests.cs.
"""

import random

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
    return named_cases(c) + sweep()


def named_cases(c):
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


def pair(value):
    """A per-axis hyper-parameter as written to the fixture: one number when both axes agree."""
    return value[0] if value[0] == value[1] else list(value)


def output_size(size, kernel, stride, padding, output_padding, dilation):
    return (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


def smallest_input(kernel, stride, padding, output_padding, dilation):
    """The smallest input size whose output has at least one position."""
    size = 1
    while output_size(size, kernel, stride, padding, output_padding, dilation) < 1:
        size += 1
    return size


def random_case(g, choose, name, stride, padding, output_padding, dilation, batch=None, size=None, kernel=None):
    """A case on random small shapes that PyTorch accepts: each input axis is drawn from the
    smallest size that gives an output (1 unless the padding is large) to two more."""
    groups = choose.choice([1, 1, 2, 3])
    k = kernel or (choose.randint(1, 3), choose.randint(1, 3))
    if size is None:
        smallest = [smallest_input(k[a], stride[a], padding[a], output_padding[a], dilation[a]) for a in range(2)]
        size = tuple(choose.randint(m, m + 2) for m in smallest)
    hw = size
    in_channels, out_channels = groups * choose.randint(1, 2), groups * choose.randint(1, 2)
    n = choose.choice([1, 1, 2]) if batch is None else batch
    x = randn(g, n, in_channels, *hw)
    w = randn(g, in_channels, out_channels // groups, *k) * 0.5
    b = randn(g, out_channels) if choose.random() < 0.7 else None
    parameters = {"stride": pair(stride), "padding": pair(padding), "output_padding": pair(output_padding),
                  "dilation": pair(dilation), "groups": groups}
    return weighted_case(g, name, parameters, x, w, b, lambda x, w, b: F.conv_transpose2d(
        x, w, b, stride=stride, padding=padding, output_padding=output_padding, dilation=dilation, groups=groups))


def allowed(stride, dilation):
    """PyTorch's rule per axis: output padding smaller than the stride or the dilation."""
    return range(max(stride, dilation))


def sweep():
    g = torch.Generator().manual_seed(2027)
    choose = random.Random(2027)
    cases = []
    for s in range(1, 4):
        for d in range(1, 4):
            for p in range(0, 4):
                for op in allowed(s, d):
                    cases.append(random_case(g, choose, f"uniform stride {s} dilation {d} padding {p} output padding {op}",
                                             (s, s), (p, p), (op, op), (d, d)))
    for swept in (0, 1):
        axis = ["height", "width"][swept]
        for s in range(1, 4):
            for d in range(1, 4):
                for op in allowed(s, d):
                    other_s, other_d = choose.randint(1, 3), choose.randint(1, 3)
                    other_op = choose.choice(allowed(other_s, other_d))
                    values = [(s, other_s), (choose.randint(0, 3), choose.randint(0, 3)), (op, other_op), (d, other_d)]
                    if swept == 1:
                        values = [v[::-1] for v in values]
                    stride, padding, output_padding, dilation = values
                    cases.append(random_case(g, choose, f"per-axis {axis} stride {s} dilation {d} output padding {op}, "
                                             f"stride {pair(stride)} padding {pair(padding)} output padding {pair(output_padding)} "
                                             f"dilation {pair(dilation)}", stride, padding, output_padding, dilation))
    cases += [
        random_case(g, choose, "corner empty batch", (2, 1), (1, 0), (2, 1), (3, 2), batch=0),
        random_case(g, choose, "corner 1x1 input, output padding 2 > padding 0", (1, 1), (0, 0), (2, 2), (3, 3), size=(1, 1)),
        random_case(g, choose, "corner 1x1 input and kernel, stride 3 output padding 2", (3, 3), (0, 0), (2, 2), (1, 1), size=(1, 1), kernel=(1, 1)),
        # Dilation 5 with a 1-tap kernel: output = −2·2 + 4 + 1 = 1, and the only input lands in the padding.
        random_case(g, choose, "corner no input reaches the output", (1, 1), (2, 2), (4, 4), (5, 5), size=(1, 1), kernel=(1, 1)),
        random_case(g, choose, "corner no input reaches the output on one axis", (1, 2), (2, 0), (4, 1), (5, 1), size=(1, 3), kernel=(1, 2)),
    ]
    return cases


def rejected():
    """Configurations PyTorch refuses, each with PyTorch's message."""
    specs = [
        ("output padding equal to the stride", [1, 2, 4, 4], [2, 2, 3, 3], dict(stride=2, output_padding=2)),
        ("output padding equal to the dilation", [1, 2, 4, 4], [2, 2, 3, 3], dict(output_padding=2, dilation=2)),
        ("output padding too large on the width axis only", [1, 2, 4, 4], [2, 2, 3, 3], dict(stride=(1, 2), output_padding=(0, 2), dilation=(2, 1))),
        ("negative output padding", [1, 2, 4, 4], [2, 2, 3, 3], dict(output_padding=-1)),
        ("negative padding", [1, 2, 4, 4], [2, 2, 3, 3], dict(padding=(0, -1))),
        ("stride 0", [1, 2, 4, 4], [2, 2, 3, 3], dict(stride=(1, 0))),
        ("dilation 0", [1, 2, 4, 4], [2, 2, 3, 3], dict(dilation=0)),
        ("empty output", [1, 2, 4, 5], [2, 2, 3, 3], dict(padding=3)),
        ("empty input height", [1, 2, 0, 4], [2, 2, 3, 3], dict()),
        ("channels do not match the weight", [1, 3, 4, 4], [2, 2, 3, 3], dict()),
        ("groups do not divide the channels", [1, 3, 4, 4], [3, 2, 3, 3], dict(groups=2)),
        ("bias of the wrong size", [1, 2, 4, 4], [2, 2, 3, 3], dict(bias=3)),
    ]
    result = []
    for name, input_shape, weight_shape, options in specs:
        options = dict(options)
        bias = torch.zeros(options.pop("bias")) if "bias" in options else None
        try:
            F.conv_transpose2d(torch.zeros(input_shape), torch.zeros(weight_shape), bias, **options)
        except RuntimeError as error:
            message = str(error).splitlines()[0]
        else:
            raise AssertionError(f"PyTorch accepts '{name}'")
        parameters = {"stride": 1, "padding": 0, "output_padding": 0, "dilation": 1, "groups": 1}
        parameters.update({k: list(v) if isinstance(v, tuple) else v for k, v in options.items()})
        result.append({"name": name, "parameters": parameters, "input_shape": input_shape, "weight_shape": weight_shape,
                       "bias_shape": None if bias is None else list(bias.shape), "pytorch": message})
    return result


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
    write("conv_transpose2d.json", {**header(__file__), "cases": conv_transpose2d(), "rejected": rejected()})
    write("upsample.json", {**header(__file__), "cases": upsample()})
