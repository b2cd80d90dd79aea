#!/usr/bin/python3
"""PyTorch reference fixtures for Sinapse's probability-space cross-entropy (F.ProbabilityCrossEntropy).

PyTorch has no such loss; the reference is the composition Keras's categorical_crossentropy performs
on probabilities, written with PyTorch 1.13's ops:

    p = probabilities / probabilities.sum(1, keepdim=True)
    loss = F.nll_loss(p.clamp(eps, 1 - eps).log(), target, weight, ignore_index, reduction)

How to run (from the repository root):

    apt-get install -y python3-torch          # PyTorch 1.13 (Debian)
    /usr/bin/python3 tools/make_probability_cross_entropy_fixtures.py

What it writes, into tests/Sinapse.Tests/Fixtures/: probability_cross_entropy.json, random cases
from one seed: probabilities [N, C], [C] or [N, C, d] (sizes 1 to 6, N = 0 once), the softmax of
logits of scale 1, 4 or 12 (12 saturates it, so that targets fall under the clip) or positive rows
that do not sum to 1; eps 1e-7 (Keras's), 1e-3 or 0.1 (0.1 clips confident rows at the top); with
or without class weights and an ignored index. For each case: the parameters, the input and target
with their shapes (and the weight, if any), and for the reductions "mean" and "sum" the loss "value"
and its input gradient "grad"; for "none" the per-position losses, an upstream gradient and the
input gradient of sum(upstream * losses). The layout is tools/make_loss_option_fixtures.py's, read by
the same test helper (tests/Sinapse.Tests/Support/LossFixture.cs).

Inputs are float32 (the C# side holds the same numbers) and references are computed in float64;
the clip bounds are the float32 values eps and 1 - eps, as the C# side computes them. A draw whose
rescaled probabilities come within a rounding error of a bound (where float32 and float64 could
clip differently) is drawn again. JSON has no NaN (the mean over an empty batch), so it is written
as the string "NaN". The C# test that reads this file is tests/Sinapse.Tests/Ops/ProbabilityCrossEntropyTests.cs.
"""

import math

import torch
import torch.nn.functional as F

from fixture_io import f32, header, randn, write


def values(t):
    return ["NaN" if math.isnan(v) else float(f"{v:.9g}") for v in t.detach().double().flatten().tolist()]


def bounds(eps):
    low = torch.tensor(eps, dtype=torch.float32)
    return float(low), float(torch.tensor(1.0, dtype=torch.float32) - low)


def reference(p, target, eps, weight, ignore_index, reduction):
    low, high = bounds(eps)
    rescaled = p / p.sum(1 if p.dim() > 1 else 0, keepdim=True)
    log = rescaled.clamp(low, high).log()
    if p.dim() == 1:
        log, target = log.unsqueeze(0), target.unsqueeze(0)
    loss = F.nll_loss(log, target, weight=weight, ignore_index=ignore_index, reduction=reduction)
    return loss.squeeze(0) if p.dim() == 1 and reduction == "none" else loss


def near_bound(p, eps):
    low, high = bounds(eps)
    rescaled = p / p.sum(1 if p.dim() > 1 else 0, keepdim=True)
    return bool(((rescaled - low).abs() < 1e-4 * low).any() or ((rescaled - high).abs() < 1e-7).any())


def draw(generator, shape, kind, eps):
    for _ in range(1000):
        if kind == "positive":
            p = f32(torch.rand(*shape, generator=generator, dtype=torch.float64) * 2 + 0.01)
        else:
            p = f32(torch.softmax(randn(generator, *shape, scale=kind), dim=1 if len(shape) > 1 else 0))
        if not near_bound(p, eps):
            return p
    raise RuntimeError("no draw away from the clip bounds")


def main():
    generator = torch.Generator().manual_seed(20261205)
    cases = []
    shapes = [[4, 5], [1, 1], [3, 1], [5], [2, 3, 4], [6, 2], [0, 3], [3, 6], [4, 3], [2, 4, 1]]
    for index, shape in enumerate(shapes + shapes):
        classes = shape[0] if len(shape) == 1 else shape[1]
        eps = [1e-7, 1e-3, 0.1][index % 3]
        kind = ["positive", 1.0, 4.0, 12.0][index % 4]
        p = draw(generator, shape, kind, eps)
        positions = [] if len(shape) == 1 else [shape[0]] + shape[2:]
        target = torch.randint(0, classes, positions, generator=generator)
        weight = f32(torch.rand(classes, generator=generator, dtype=torch.float64) + 0.5) if index % 2 else None
        ignore_index = -100
        if index % 5 == 4 and target.numel() > 0:
            ignore_index = int(target.flatten()[0])
        case = {
            "name": f"case{index}",
            "parameters": {"eps": eps, "ignore_index": ignore_index, "kind": str(kind)},
            "input_shape": shape,
            "input": values(p),
            "target_shape": positions,
            "target": target.flatten().tolist(),
        }
        if weight is not None:
            case["weight"] = values(weight)
            case["weight_shape"] = [classes]
        for reduction in ("mean", "sum", "none"):
            x = p.clone().requires_grad_(True)
            loss = reference(x, target, eps, weight, ignore_index, reduction)
            if reduction == "none":
                upstream = randn(generator, max(loss.numel(), 1))[: loss.numel()].reshape(loss.shape)
                (loss * upstream).sum().backward()
                case["none"] = {"value": values(loss), "upstream": values(upstream), "grad": values(x.grad)}
            else:
                loss.backward()
                case[reduction] = {"value": values(loss)[0], "grad": values(x.grad)}
        cases.append(case)
    write("probability_cross_entropy.json", {**header(__file__), "cases": cases})


if __name__ == "__main__":
    main()
