#!/usr/bin/python3
"""PyTorch reference fixtures for Sinapse's batch normalisation.

How to run (from the repository root):

    apt-get install -y python3-torch          # PyTorch 1.13 (Debian)
    /usr/bin/python3 tools/make_norm_fixtures.py

What it writes, into tests/Sinapse.Tests/Fixtures/:

    batchnorm.json    torch.nn.BatchNorm1d ([N, C] and [N, C, L]) and BatchNorm2d ([N, C, H, W]),
                      with and without affine parameters, several momentums (None, the cumulative
                      average, among them), eps, and a channel whose mean is large against its
                      spread. For each case: the weight and bias, then three training steps, each
                      with its input, its output and the running mean/variance after it; the
                      gradients of the first step for a fixed upstream gradient (input, weight,
                      bias); and an evaluation-mode input and output after the three steps.

Every input is drawn from a fixed seed as float32 (so the C# side holds exactly the same numbers)
and the references are computed in float64, so the fixtures carry PyTorch's exact-arithmetic answer
rather than its float32 rounding. Numbers have 9 significant digits, enough to round-trip a float32.

The C# test that reads this file is tests/Sinapse.Tests/Layers/NormalizationTests.cs.
"""

import torch

from fixture_io import header, randn, rounded, write


def case(name, kind, shape, seed, momentum=0.1, eps=1e-5, affine=True, scale=1.0, shift=0.0):
    generator = torch.Generator().manual_seed(seed)
    channels = shape[1]
    module_type = torch.nn.BatchNorm1d if kind == "BatchNorm1d" else torch.nn.BatchNorm2d
    bn = module_type(channels, eps=eps, momentum=momentum, affine=affine).double()
    result = {"name": name, "kind": kind, "shape": list(shape), "momentum": momentum, "eps": eps, "affine": affine}
    if affine:
        with torch.no_grad():
            bn.weight.copy_(randn(generator, channels, scale=0.5, shift=1.0))
            bn.bias.copy_(randn(generator, channels, scale=0.5))
        result["weight"] = rounded(bn.weight)
        result["bias"] = rounded(bn.bias)

    bn.train()
    steps = []
    for step in range(3):
        x = randn(generator, *shape, scale=scale, shift=shift).requires_grad_(True)
        y = bn(x)
        steps.append({
            "input": rounded(x),
            "output": rounded(y),
            "running_mean": rounded(bn.running_mean),
            "running_var": rounded(bn.running_var),
        })
        if step == 0:
            upstream = randn(generator, *shape)
            y.backward(upstream)
            result["upstream"] = rounded(upstream)
            result["grad_input"] = rounded(x.grad)
            if affine:
                result["grad_weight"] = rounded(bn.weight.grad)
                result["grad_bias"] = rounded(bn.bias.grad)
    result["steps"] = steps

    bn.eval()
    x = randn(generator, *shape, scale=scale, shift=shift)
    with torch.no_grad():
        result["eval_input"] = rounded(x)
        result["eval_output"] = rounded(bn(x))
    return result


def main():
    torch.set_default_dtype(torch.float64)
    cases = [
        case("dense", "BatchNorm1d", (6, 4), seed=1),
        case("dense_no_affine", "BatchNorm1d", (5, 3), seed=2, affine=False, momentum=0.3),
        case("dense_cumulative", "BatchNorm1d", (4, 5), seed=3, momentum=None),
        case("sequence", "BatchNorm1d", (3, 4, 5), seed=4, scale=2.0, shift=0.5),
        case("conv", "BatchNorm2d", (3, 4, 3, 5), seed=5, eps=1e-3),
        case("conv_no_affine", "BatchNorm2d", (2, 3, 4, 4), seed=6, affine=False),
        case("conv_shifted", "BatchNorm2d", (2, 2, 3, 3), seed=7, scale=0.5, shift=50.0, momentum=0.5),
    ]
    write("batchnorm.json", {**header(__file__), "cases": cases})


if __name__ == "__main__":
    main()
