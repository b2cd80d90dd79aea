#!/usr/bin/python3
"""PyTorch reference fixtures for the options of Sinapse's classification losses and GELU's tanh form.

How to run (from the repository root):

    apt-get install -y python3-torch          # PyTorch 1.13 (Debian)
    /usr/bin/python3 tools/make_loss_option_fixtures.py

What it writes, into tests/Sinapse.Tests/Fixtures/: loss_options.json, random configurations
drawn from one seed, each a case with a "family":

    cross_entropy   F.cross_entropy on class indices: logits [N, C], [N, C, d1], [N, C, d1, d2]
                    or one example [C] (sizes 1 to 6, N = 0 now and then), with or without class
                    weights, ignore_index absent (-100, never hit), -1 or a class index, and then
                    no target, some targets or every target set to it; label_smoothing 0, 0.1 or
                    0.3; logits of scale 1, 2 or 4 (4 makes one class dominate, where 1 - p must
                    keep its digits).
    cross_entropy_probabilities
                    F.cross_entropy on class probabilities of the logits' shape (soft, one-hot,
                    or soft and not summing to 1), with or without weights, the same smoothings.
    nll             F.nll_loss on log-probabilities of the same shapes, with or without weights,
                    ignore_index as above.
    bce_with_logits F.binary_cross_entropy_with_logits of ranks 1 to 3 (an empty batch among
                    them), binary or soft targets, pos_weight absent, [last axis], [1], the full
                    shape or a middle axis [d, 1], weight absent, [last axis], [N, 1, ...] or full.
    bce             F.binary_cross_entropy with the same weights.

and gelu_tanh.json, F.gelu(approximate="tanh") on 500 values of scale 3 and 10 and a few chosen
ones from -100 to 100.

For each loss case: the parameters, the input and target with their shapes, the weights, and for
the reductions "mean" and "sum" the loss and its input gradient; for "none" the per-element
losses, an upstream gradient and the input gradient of sum(upstream * losses). The GELU case has,
as in activations.json, the input, an upstream gradient, the output and the input gradient.

Inputs are drawn as float32 (so the C# side holds exactly the same numbers) and the references
are computed in float64, so the fixtures carry PyTorch's exact-arithmetic answer. JSON has no NaN
(the mean over only ignored targets, or over an empty batch), so it is written as the string
"NaN". The C# tests that read this file are tests/Sinapse.Tests/Ops/CrossEntropyTests.cs,
LossesTests.cs and ActivationsTests.cs.
"""

import math
import random

import torch
import torch.nn.functional as F

from fixture_io import f32, header, randn, write

REDUCTIONS = ("mean", "sum", "none")


def values(t):
    """A tensor as a flat list: numbers with 9 significant digits, NaN as the string "NaN"."""
    return ["NaN" if math.isnan(v) else float(f"{v:.9g}") for v in t.detach().double().flatten().tolist()]


def normal(generator, shape, scale=1.0):
    """fixture_io.randn for any shape, the scalar shape [] and empty ones included."""
    return randn(generator, max(math.prod(shape), 0), scale=scale).reshape(shape)


def positive(generator, shape, low=0.2, high=2.0):
    """Uniform float32 values in [low, high): weights."""
    return f32(torch.rand(*shape, generator=generator, dtype=torch.float64) * (high - low) + low)


def loss_case(family, function, prediction, target, generator, parameters, **tensors):
    """The three reductions of function(x, target, reduction) with their input gradients."""
    case = {
        "family": family,
        "parameters": parameters,
        "input_shape": list(prediction.shape),
        "input": values(prediction),
        "target_shape": list(target.shape),
        "target": values(target),
    }
    for name, tensor in tensors.items():
        if tensor is not None:
            case[name + "_shape"] = list(tensor.shape)
            case[name] = values(tensor)
    for reduction in REDUCTIONS:
        x = prediction.clone().requires_grad_(True)
        loss = function(x, target, reduction)
        if reduction == "none":
            upstream = normal(generator, list(loss.shape))
            (loss * upstream).sum().backward()
            case[reduction] = {"value": values(loss), "upstream": values(upstream), "grad": values(x.grad)}
        else:
            loss.backward()
            case[reduction] = {"value": values(loss)[0], "grad": values(x.grad)}
    return case


def class_shapes(choose):
    """(input shape, position shape): [C], [N, C], [N, C, d1] or [N, C, d1, d2]."""
    classes = choose.randint(1, 6)
    if choose.random() < 0.1:
        return [classes], []
    batch = 0 if choose.random() < 0.05 else choose.randint(1, 4)
    extra = choose.choice([[], [], [choose.randint(1, 3)], [choose.randint(1, 3), choose.randint(1, 3)]])
    return [batch, classes] + extra, [batch] + extra


def class_indices(choose, generator, classes, shape):
    """Random class indices and an ignore_index set on none, some or all of them."""
    target = torch.randint(0, classes, shape, generator=generator)
    ignore_index = choose.choice([-100, -100, -1, choose.randrange(classes)])
    hits = choose.choice(["none", "some", "all"]) if ignore_index != -100 else "none"
    if hits == "all":
        target = torch.full(shape, ignore_index, dtype=torch.long)
    elif hits == "some" and target.numel() > 0:
        mask = torch.rand(shape, generator=generator) < 0.4
        target = torch.where(mask, torch.full_like(target, ignore_index), target)
    return target, ignore_index, hits


def cross_entropy_cases(choose, generator, count):
    cases = []
    for _ in range(count):
        shape, positions = class_shapes(choose)
        classes = shape[0] if len(shape) == 1 else shape[1]
        logits = normal(generator, shape, choose.choice([1.0, 2.0, 4.0]))
        target, ignore_index, hits = class_indices(choose, generator, classes, positions)
        weight = positive(generator, [classes]) if choose.random() < 0.5 else None
        smoothing = choose.choice([0.0, 0.1, 0.3])
        function = lambda x, t, r, w=weight, i=ignore_index, s=smoothing: F.cross_entropy(x, t, weight=w, ignore_index=i, reduction=r, label_smoothing=s)
        cases.append(loss_case("cross_entropy", function, logits, target, generator,
                               {"ignore_index": ignore_index, "ignored": hits, "label_smoothing": smoothing}, weight=weight))
    return cases


def cross_entropy_probability_cases(choose, generator, count):
    cases = []
    for _ in range(count):
        shape, positions = class_shapes(choose)
        classes = shape[0] if len(shape) == 1 else shape[1]
        axis = 0 if len(shape) == 1 else 1
        logits = normal(generator, shape, choose.choice([1.0, 2.0, 4.0]))
        kind = choose.choice(["soft", "one_hot", "unnormalised"])
        if kind == "one_hot":
            target = F.one_hot(torch.randint(0, classes, positions, generator=generator), classes).double().movedim(-1, axis)
        else:
            target = f32(torch.softmax(normal(generator, shape, 2.0), dim=axis))
            if kind == "unnormalised":
                target = f32(target * 1.7)
        weight = positive(generator, [classes]) if choose.random() < 0.5 else None
        smoothing = choose.choice([0.0, 0.1, 0.3])
        function = lambda x, t, r, w=weight, s=smoothing: F.cross_entropy(x, t, weight=w, reduction=r, label_smoothing=s)
        cases.append(loss_case("cross_entropy_probabilities", function, logits, target, generator,
                               {"target_kind": kind, "label_smoothing": smoothing}, weight=weight))
    return cases


def nll_cases(choose, generator, count):
    cases = []
    for _ in range(count):
        shape, positions = class_shapes(choose)
        classes = shape[0] if len(shape) == 1 else shape[1]
        axis = 0 if len(shape) == 1 else 1
        log_probabilities = f32(torch.log_softmax(normal(generator, shape, 2.0), dim=axis))
        target, ignore_index, hits = class_indices(choose, generator, classes, positions)
        weight = positive(generator, [classes]) if choose.random() < 0.5 else None
        function = lambda x, t, r, w=weight, i=ignore_index: F.nll_loss(x, t, weight=w, ignore_index=i, reduction=r)
        cases.append(loss_case("nll", function, log_probabilities, target, generator,
                               {"ignore_index": ignore_index, "ignored": hits}, weight=weight))
    return cases


def binary_shape(choose):
    rank = choose.randint(1, 3)
    shape = [choose.randint(1, 5) for _ in range(rank)]
    if choose.random() < 0.05:
        shape[0] = 0
    return shape


def broadcast_operand(choose, generator, shape, kinds, low, high):
    """A weight of one of the broadcasting kinds (None for none), and the kind."""
    kind = choose.choice(kinds)
    if kind == "middle" and len(shape) < 2:
        kind = "last"
    sizes = {
        "none": lambda: None,
        "last": lambda: [shape[-1]],
        "one": lambda: [1],
        "full": lambda: list(shape),
        "middle": lambda: [shape[-2], 1],
        "first": lambda: [shape[0]] + [1] * (len(shape) - 1),
    }[kind]()
    return (None if sizes is None else positive(generator, sizes, low, high)), kind


def binary_target(choose, generator, shape):
    if choose.random() < 0.5:
        return f32((torch.rand(shape, generator=generator) < 0.5).double())
    return f32(torch.rand(shape, generator=generator, dtype=torch.float64))


def bce_with_logits_cases(choose, generator, count):
    cases = []
    for _ in range(count):
        shape = binary_shape(choose)
        logits = normal(generator, shape, choose.choice([1.0, 3.0]))
        target = binary_target(choose, generator, shape)
        pos_weight, pos_kind = broadcast_operand(choose, generator, shape, ["none", "last", "last", "one", "full", "middle"], 0.2, 4.0)
        weight, weight_kind = broadcast_operand(choose, generator, shape, ["none", "none", "last", "first", "full"], 0.2, 2.0)
        function = lambda x, t, r, w=weight, p=pos_weight: F.binary_cross_entropy_with_logits(x, t, weight=w, pos_weight=p, reduction=r)
        cases.append(loss_case("bce_with_logits", function, logits, target, generator,
                               {"pos_weight": pos_kind, "weight": weight_kind}, weight=weight, pos_weight=pos_weight))
    return cases


def bce_cases(choose, generator, count):
    cases = []
    for _ in range(count):
        shape = binary_shape(choose)
        probability = f32(torch.rand(shape, generator=generator, dtype=torch.float64) * 0.96 + 0.02)
        target = binary_target(choose, generator, shape)
        weight, weight_kind = broadcast_operand(choose, generator, shape, ["none", "last", "first", "full", "one"], 0.2, 2.0)
        function = lambda x, t, r, w=weight: F.binary_cross_entropy(x, t, weight=w, reduction=r)
        cases.append(loss_case("bce", function, probability, target, generator, {"weight": weight_kind}, weight=weight))
    return cases


def gelu_tanh_case(generator):
    extremes = [0.0, 1e-4, -1e-4, 0.5, -0.5, 3.0, -3.0, 5.0, -5.0, 8.0, -8.0, 10.0, -10.0, 20.0, -20.0, 30.0, -30.0, 100.0, -100.0]
    x = torch.cat([f32(torch.tensor(extremes)), randn(generator, 400, scale=3.0), randn(generator, 80, scale=10.0)])
    upstream = randn(generator, x.numel())
    t = x.clone().requires_grad_(True)
    y = F.gelu(t, approximate="tanh")
    (y * upstream).sum().backward()
    return {"name": "gelu", "parameters": {"approximate": "tanh"}, "shape": [x.numel()], "input": values(x),
            "upstream": values(upstream), "output": values(y), "grad": values(t.grad)}


def main():
    torch.set_default_dtype(torch.float64)
    choose = random.Random(2025)
    generator = torch.Generator().manual_seed(2025)
    cases = (cross_entropy_cases(choose, generator, 160)
             + cross_entropy_probability_cases(choose, generator, 60)
             + nll_cases(choose, generator, 60)
             + bce_with_logits_cases(choose, generator, 90)
             + bce_cases(choose, generator, 30))
    write("loss_options.json", {**header(__file__), "cases": cases})
    write("gelu_tanh.json", {**header(__file__), "cases": [gelu_tanh_case(generator)]})


if __name__ == "__main__":
    main()
