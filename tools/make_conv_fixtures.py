#!/usr/bin/python3
"""PyTorch reference fixtures for Sinapse's convolution and pooling tests.

How to run (from the repository root):

    apt-get install -y python3-torch          # PyTorch 1.13 (Debian); use /usr/bin/python3
    /usr/bin/python3 tools/make_conv_fixtures.py

What it writes, into tests/Sinapse.Tests/Fixtures/ (small JSON files, a few KB each):

    conv2d.json   F.conv2d forward and backward on [2, C_in, H, W] inputs: stride, padding,
                  dilation, groups (depthwise with and without a channel multiplier), 1x1, no bias,
                  odd and non-square sizes.
    conv1d.json   F.conv1d likewise on [2, C_in, L], and the course's 4-point moving average.
                  For each convolution case: "parameters" {stride, padding, dilation, groups},
                  input, weight, bias (absent when the case has none), the upstream gradient g,
                  the output y and the gradients of sum(g * y) with respect to input, weight, bias.
    pooling.json  max_pool1d/2d, avg_pool1d/2d (count_include_pad = true, ceil_mode = false, as
                  PyTorch's defaults) with varied kernel, stride and padding, and
                  adaptive_avg_pool2d to 1x1: "op", "parameters" {kernel, stride, padding} (per
                  axis for 2-D), input, upstream g, output y and the input gradient.
    pooling_options.json
                  the pooling options, on random configurations: 30 cases each of max_pool2d and
                  max_pool1d (random dilation and ceil_mode), avg_pool2d and avg_pool1d (random
                  ceil_mode and count_include_pad) with random kernel, stride, padding (at most
                  half the kernel, PyTorch's limit) and input sizes, and adaptive_avg_pool2d to
                  random output sizes (smaller, equal and larger than the input, dividing it or
                  not). Same fields as pooling.json; "parameters" adds dilation, ceil_mode and
                  count_include_pad, or holds output_size [OH, OW]. Configurations PyTorch refuses
                  (output size under 1) and max windows whose dilated taps all miss the input
                  (PyTorch returns -inf there; Sinapse refuses them) are drawn again.

Every input is drawn from a fixed seed as float32 (so the C# side holds exactly the same numbers)
and every reference is computed in float64. Numbers are written with 9 significant digits, enough
to round-trip a float32. Max-pooling inputs are continuous random values, so no window holds a tie.

The C# tests that read these files: tests/Sinapse.Tests/Ops/{ConvolutionFixtureTests,PoolingFixtureTests}.cs.
(tools/make_fixtures.py writes the loss, activation, linear and optimizer fixtures.)
"""

import random

import torch
import torch.nn.functional as F

from fixture_io import header, randn, rounded, weighted_case, write


# ---------------------------------------------------------------- convolution

def conv_case(generator, function, name, input_shape, out_channels, kernel, stride=1, padding=0,
              dilation=1, groups=1, bias=True, values=None, weight_values=None):
    in_channels = input_shape[1]
    weight_shape = [out_channels, in_channels // groups] + [kernel] * (len(input_shape) - 2)
    x = values if values is not None else randn(generator, *input_shape)
    w = weight_values if weight_values is not None else randn(generator, *weight_shape) * 0.5
    b = randn(generator, out_channels) if bias else None
    parameters = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    return weighted_case(generator, name, parameters, x, w, b, lambda x, w, b: function(x, w, b, **parameters))


def conv2d():
    g = torch.Generator().manual_seed(2024)
    c = lambda *args, **kwargs: conv_case(g, F.conv2d, *args, **kwargs)
    cases = [
        c("basic 2->3 k3 on 5x4", [2, 2, 5, 4], 3, 3),
        c("stride 2 padding 1", [2, 2, 5, 5], 2, 3, stride=2, padding=1),
        c("dilation 2 padding 2", [2, 2, 6, 5], 2, 3, padding=2, dilation=2),
        c("groups 2", [2, 4, 4, 3], 4, 3, padding=1, groups=2),
        c("depthwise stride 2", [2, 3, 5, 5], 3, 3, stride=2, padding=1, groups=3),
        c("depthwise multiplier 2", [2, 2, 4, 5], 4, 3, padding=1, groups=2),
        c("pointwise 1x1", [2, 3, 3, 3], 2, 1),
        c("no bias k2 stride 3", [2, 2, 7, 5], 2, 2, stride=3, bias=False),
        c("k5 same padding odd size", [2, 1, 5, 4], 2, 5, padding=2),
        c("stride 2 dilation 2 groups 2", [2, 4, 7, 6], 2, 3, stride=2, padding=1, dilation=2, groups=2),
    ]
    write("conv2d.json", {**header(__file__), "cases": cases})


def conv1d():
    g = torch.Generator().manual_seed(2025)
    c = lambda *args, **kwargs: conv_case(g, F.conv1d, *args, **kwargs)
    series = torch.tensor([100, 120, 115, 200, 135, 130, 140], dtype=torch.float64).reshape(1, 1, 7)
    cases = [
        c("basic 2->3 k3 on 9", [2, 2, 9], 3, 3),
        c("stride 2 padding 1 dilation 2", [2, 2, 10], 2, 3, stride=2, padding=1, dilation=2),
        c("depthwise", [2, 3, 7], 3, 3, padding=1, groups=3),
        c("no bias k4 stride 3", [2, 2, 11], 2, 4, stride=3, bias=False),
        c("groups 2 padding 2", [2, 4, 6], 2, 5, padding=2, groups=2),
        # The course's moving average: filter [1/4, 1/4, 1/4, 1/4] (exact in float32).
        c("moving average", [1, 1, 7], 1, 4, bias=False, values=series,
          weight_values=torch.full((1, 1, 4), 0.25, dtype=torch.float64)),
    ]
    write("conv1d.json", {**header(__file__), "cases": cases})


# ---------------------------------------------------------------- pooling

def pool_case(generator, op, input_shape, kernel, stride, padding):
    x = randn(generator, *input_shape).requires_grad_(True)
    function = {
        "max_pool1d": F.max_pool1d, "max_pool2d": F.max_pool2d,
        "avg_pool1d": F.avg_pool1d, "avg_pool2d": F.avg_pool2d,
    }[op]
    y = function(x, kernel, stride, padding)
    g = randn(generator, *y.shape)
    (y * g).sum().backward()
    return {
        "name": f"{op} k{kernel} s{stride} p{padding} on {list(input_shape)}",
        "op": op,
        "parameters": {"kernel": kernel, "stride": stride, "padding": padding},
        "input_shape": list(x.shape),
        "output_shape": list(y.shape),
        "input": rounded(x),
        "upstream": rounded(g),
        "output": rounded(y),
        "grad_input": rounded(x.grad),
    }


def pooling():
    g = torch.Generator().manual_seed(2026)
    cases = [
        pool_case(g, "max_pool2d", [2, 2, 6, 6], [2, 2], [2, 2], [0, 0]),
        pool_case(g, "max_pool2d", [2, 1, 5, 7], [2, 2], [2, 2], [0, 0]),
        pool_case(g, "max_pool2d", [2, 1, 7, 6], [3, 3], [2, 2], [1, 1]),
        pool_case(g, "max_pool2d", [2, 1, 5, 7], [2, 3], [1, 2], [1, 1]),
        pool_case(g, "avg_pool2d", [2, 1, 5, 5], [2, 2], [1, 1], [0, 0]),
        pool_case(g, "avg_pool2d", [2, 1, 7, 6], [3, 3], [2, 2], [1, 1]),
        pool_case(g, "avg_pool2d", [2, 2, 5, 4], [3, 2], [2, 1], [1, 0]),
        pool_case(g, "max_pool1d", [2, 2, 11], 3, 2, 1),
        pool_case(g, "max_pool1d", [2, 2, 9], 2, 2, 0),
        pool_case(g, "avg_pool1d", [2, 2, 11], 4, 3, 2),
    ]
    x = randn(g, 2, 2, 3, 5).requires_grad_(True)
    y = F.adaptive_avg_pool2d(x, 1)
    upstream = randn(g, *y.shape)
    (y * upstream).sum().backward()
    cases.append({
        "name": "adaptive_avg_pool2d to 1x1 on [2, 2, 3, 5]",
        "op": "adaptive_avg_pool2d",
        "parameters": {"output_size": 1},
        "input_shape": list(x.shape),
        "output_shape": list(y.shape),
        "input": rounded(x),
        "upstream": rounded(upstream),
        "output": rounded(y),
        "grad_input": rounded(x.grad),
    })
    write("pooling.json", {**header(__file__), "cases": cases})


def backward_case(generator, name, op, parameters, x, function):
    """One forward and backward of a pooling op: y = function(x), upstream g, and dL/dx of sum(g * y)."""
    x.requires_grad_(True)
    y = function(x)
    g = randn(generator, *y.shape)
    (y * g).sum().backward()
    return {
        "name": name,
        "op": op,
        "parameters": parameters,
        "input_shape": list(x.shape),
        "output_shape": list(y.shape),
        "input": rounded(x),
        "upstream": rounded(g),
        "output": rounded(y),
        "grad_input": rounded(x.grad),
    }


def random_pool_case(rng, generator, op, index):
    """A random valid configuration of op (drawn again until PyTorch accepts it and every max window has a finite maximum)."""
    two_d = op.endswith("2d")
    is_max = op.startswith("max")
    while True:
        axes = 2 if two_d else 1
        kernel = [rng.randint(1, 4) for _ in range(axes)]
        stride = [rng.randint(1, 3) for _ in range(axes)]
        padding = [rng.randint(0, k // 2) for k in kernel]
        dilation = [rng.randint(1, 3) if is_max else 1 for _ in range(axes)]
        ceil_mode = rng.random() < 0.6
        count_include_pad = rng.random() < 0.5
        sizes = [rng.randint(1, 9) for _ in range(axes)]
        shape = [rng.randint(1, 2), rng.randint(1, 2)] + sizes
        x = randn(generator, *shape)
        k, s, p, d = (v if two_d else v[0] for v in (kernel, stride, padding, dilation))
        if is_max:
            parameters = {"kernel": k, "stride": s, "padding": p, "dilation": d, "ceil_mode": ceil_mode}
            function = (F.max_pool2d if two_d else F.max_pool1d)
            call = lambda t: function(t, k, s, p, d, ceil_mode)
        else:
            parameters = {"kernel": k, "stride": s, "padding": p, "ceil_mode": ceil_mode, "count_include_pad": count_include_pad}
            function = (F.avg_pool2d if two_d else F.avg_pool1d)
            call = lambda t: function(t, k, s, p, ceil_mode, count_include_pad)
        try:
            y = call(x)
        except RuntimeError:
            continue
        if y.numel() == 0 or not torch.isfinite(y).all():
            continue
        name = f"{op} #{index} " + " ".join(f"{key}={value}" for key, value in parameters.items()) + f" on {shape}"
        return backward_case(generator, name, op, parameters, x, call)


def random_adaptive_case(rng, generator, index):
    size = [rng.randint(1, 12), rng.randint(1, 12)]
    output_size = [rng.randint(1, 10), rng.randint(1, 10)]
    shape = [rng.randint(1, 2), rng.randint(1, 2)] + size
    x = randn(generator, *shape)
    return backward_case(generator, f"adaptive_avg_pool2d #{index} to {output_size} on {shape}", "adaptive_avg_pool2d",
                         {"output_size": output_size}, x, lambda t: F.adaptive_avg_pool2d(t, output_size))


def pooling_options(per_family=30):
    rng = random.Random(1913)
    g = torch.Generator().manual_seed(1913)
    cases = []
    for op in ("max_pool2d", "max_pool1d", "avg_pool2d", "avg_pool1d"):
        cases += [random_pool_case(rng, g, op, i) for i in range(per_family)]
    cases += [random_adaptive_case(rng, g, i) for i in range(per_family)]
    write("pooling_options.json", {**header(__file__), "cases": cases})


if __name__ == "__main__":
    torch.set_default_dtype(torch.float64)
    conv2d()
    conv1d()
    pooling()
    pooling_options()
