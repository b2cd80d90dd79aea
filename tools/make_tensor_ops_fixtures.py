#!/usr/bin/python3
"""PyTorch reference fixtures for Sinapse's broadcasting tensor ops.

How to run (from the repository root):

    apt-get install -y python3-torch          # PyTorch 1.13 (Debian); use /usr/bin/python3
    /usr/bin/python3 tools/make_tensor_ops_fixtures.py

What it writes, into tests/Sinapse.Tests/Fixtures/:

    tensor_ops.json   one case per op call, each {"name", "op", "parameters", "inputs",
                      "output_shape", "output", "upstream", "grads"}: "inputs" is a list of
                      {"shape", "values", "grad"} ("grad" false for masks and for the operands of
                      comparisons, which carry no gradient); "upstream" is g, drawn for the output;
                      "grads" holds, per input, the gradient of sum(g * y) with respect to it, or
                      null where the input takes none. The ops:
        add sub mul div pow maximum minimum   torch's broadcasting binary ops over shape pairs
                      that cover the broadcasting corner cases: equal shapes, a size-1 axis on
                      either side, a rank difference either way, 0-d scalars on either side and on
                      both, both operands broadcast ([3, 1] + [1, 4]), 3-D and 4-D cases with
                      broadcast middle axes ([2, 1, 4, 1] * [3, 1, 5]), and empty axes
                      ([0, 3] + [3], [2, 0] * [1], [1, 0] + [3, 1]). Plus ties for maximum and
                      minimum (torch gives each side half the gradient), pow with negative bases
                      and integer exponents, pow with base 0, division by 0 and by numbers whose
                      square over- or underflows.
        add_scalar sub_scalar mul_scalar div_scalar pow_scalar   a tensor and a Python number,
                      with "parameters" {"scalar", "scalar_first"} (2 - x, 2 / x, ...).
        exp log log1p sqrt rsqrt abs sign square sin cos neg reciprocal erf   on 0-d to 3-D and
                      empty inputs inside each function's domain, plus its edge values
                      (log 0, sqrt 0, 1/±0, |0|, erf near 0 and in its tails).
        where         torch.where(mask, a, b) with the mask, a and b broadcasting together.
        clamp         min only, max only, both, min > max, and values exactly on the bounds.
        gt ge lt le eq ne   0/1 results on small integers (so ties occur), broadcasting.
        sum mean      over several axis sets, keepdim both ways, negative axes, all axes,
                      0-d and empty inputs ("dims" in parameters; [] means every axis).
        broadcast_to expand   to larger shapes with new leading axes, -1 and empty axes.
        masked_fill   with a mask that broadcasts to the input, values finite and -inf.
        softmax log_softmax   over every axis of 3-D and 4-D inputs (and a negative one), large
                      logits (levels -1000, 0, 1000; offset ±10000), -inf logits, size-1 and
                      empty axes.

Every input is drawn from a fixed seed as float32 (the C# side holds exactly those numbers) and
every reference is computed in float64. Inputs keep away from kinks and poles unless a case is
about them: positive bases for log/sqrt/pow with non-integer exponents, denominators away from 0,
no ties in maximum/minimum or at clamp's bounds except in the cases named "ties", positive inputs
to sum and mean (a sum that cancels to near 0 has only float32's absolute accuracy), and for the
softmaxes an upstream gradient that does not cancel (see conditioned_upstream). Numbers are
written with 9 significant digits (a float32 round-trips); the non-finite ones, which JSON cannot
hold, as the strings "inf", "-inf" and "nan".

The C# test that reads this file: tests/Sinapse.Tests/Ops/TensorOpsFixtureTests.cs.
"""

import math

import torch

from fixture_io import f32, header, write

DOUBLE = torch.float64


def normal(generator, shape, scale=1.0):
    return f32(torch.randn(tuple(shape), generator=generator, dtype=DOUBLE) * scale)


def uniform(generator, shape, low, high):
    return f32(torch.rand(tuple(shape), generator=generator, dtype=DOUBLE) * (high - low) + low)


def away_from_zero(generator, shape, low, high):
    """Magnitudes in [low, high] with random signs."""
    signs = torch.randint(0, 2, tuple(shape), generator=generator).to(DOUBLE) * 2 - 1
    return signs * uniform(generator, shape, low, high)


def integers(generator, shape, low, high):
    """Whole numbers in [low, high], as floats: comparisons and exponents that tie or are exact."""
    return torch.randint(low, high + 1, tuple(shape), generator=generator).to(DOUBLE)


def mask(generator, shape):
    return torch.randint(0, 2, tuple(shape), generator=generator).to(DOUBLE)


def values(t):
    """A flat list, 9 significant digits, non-finite values as strings."""
    out = []
    for v in t.detach().double().flatten().tolist():
        if math.isnan(v):
            out.append("nan")
        elif math.isinf(v):
            out.append("inf" if v > 0 else "-inf")
        else:
            out.append(float(f"{v:.9g}"))
    return out


def case(generator, name, op, inputs, function, parameters=None, differentiable=True, upstream=None):
    """inputs: list of (tensor, takes_gradient). Runs function(*inputs) and, when differentiable,
    the backward of sum(g * y) for the upstream g given, or else one drawn from generator."""
    leaves = [t.clone().requires_grad_(grad and differentiable) for t, grad in inputs]
    y = function(*leaves)
    entry = {
        "name": name,
        "op": op,
        "parameters": parameters or {},
        "inputs": [{"shape": list(t.shape), "values": values(t), "grad": grad and differentiable} for t, grad in inputs],
        "output_shape": list(y.shape),
        "output": values(y.double()),
    }
    if differentiable:
        g = upstream if upstream is not None else normal(generator, y.shape)
        (y * g).sum().backward()
        entry["upstream"] = values(g)
        entry["grads"] = [values(t.grad) if t.grad is not None else None for t in leaves]
    return entry


def shape_text(*shapes):
    return " ".join(str(list(s)).replace(" ", "") for s in shapes)


# Shape pairs covering the broadcasting corner cases.
PAIRS = [
    ([3, 4], [3, 4]),          # equal
    ([3, 4], [3, 1]),          # size-1 axis on the right operand
    ([1, 4], [3, 4]),          # size-1 axis on the left operand
    ([2, 3, 4], [4]),          # rank difference
    ([4], [2, 3, 1]),          # rank difference the other way, both broadcast
    ([], [3, 4]),              # 0-d on the left
    ([2, 3], []),              # 0-d on the right
    ([], []),                  # both 0-d
    ([3, 1], [1, 4]),          # both broadcast
    ([2, 1, 4, 1], [3, 1, 5]),  # 4-D, broadcast middle axes
    ([2, 3, 1, 5], [1, 1, 4, 1]),
    ([5, 1, 3], [4, 1]),
    ([0, 3], [3]),             # empty
    ([2, 0], [1]),
    ([1, 0], [3, 1]),
]

BINARY = {
    "add": torch.add,
    "sub": torch.sub,
    "mul": torch.mul,
    "div": torch.div,
    "pow": torch.pow,
    "maximum": torch.maximum,
    "minimum": torch.minimum,
}


def binary_operands(generator, op, a_shape, b_shape):
    if op == "div":
        return normal(generator, a_shape), away_from_zero(generator, b_shape, 0.5, 2.0)
    if op == "pow":
        return uniform(generator, a_shape, 0.5, 2.0), uniform(generator, b_shape, -2.0, 2.0)
    return normal(generator, a_shape), normal(generator, b_shape)


def binary_cases(generator):
    cases = []
    for op, function in BINARY.items():
        for a_shape, b_shape in PAIRS:
            a, b = binary_operands(generator, op, a_shape, b_shape)
            cases.append(case(generator, f"{op} {shape_text(a_shape, b_shape)}", op, [(a, True), (b, True)], function))

    # Ties: torch gives each side half of the gradient where a == b.
    for op in ("maximum", "minimum"):
        function = BINARY[op]
        a = normal(generator, [3, 4])
        b = normal(generator, [3, 4])
        b[:, ::2] = a[:, ::2]
        cases.append(case(generator, f"{op} ties [3,4] [3,4]", op, [(a, True), (b, True)], function))
        b = normal(generator, [4])
        b[:2] = a[1, :2]
        cases.append(case(generator, f"{op} ties broadcast [3,4] [4]", op, [(a, True), (b, True)], function))
        scalar = a[2, 3].clone()
        cases.append(case(generator, f"{op} ties 0-d [] [3,4]", op, [(scalar, True), (a, True)], function))
        # NaN wins either way and passes the gradient to both sides.
        a = torch.tensor([float("nan"), 1.0, 2.0, -1.0], dtype=DOUBLE)
        b = torch.tensor([1.0, float("nan"), 2.0, 3.0], dtype=DOUBLE)
        cases.append(case(generator, f"{op} nan [4] [4]", op, [(a, True), (b, True)], function))

    # Negative bases with whole exponents; the exponent's gradient there is NaN (log of a negative).
    base = away_from_zero(generator, [3, 4], 0.5, 2.0)
    exponent = integers(generator, [4], -2, 3)
    cases.append(case(generator, "pow negative base whole exponent [3,4] [4]", "pow", [(base, True), (exponent, False)], torch.pow))
    cases.append(case(generator, "pow negative base whole exponent with exponent gradient [3,4] [4]", "pow",
                      [(base, True), (exponent, True)], torch.pow))
    # Base 0: 0^0 = 1 with no gradient to the base; 0^e for e > 0 with the exponent's gradient 0.
    base = torch.tensor([[0.0], [1.5], [0.0]], dtype=DOUBLE)
    exponent = torch.tensor([0.0, 1.0, 2.0, 2.5, 3.0], dtype=DOUBLE)
    cases.append(case(generator, "pow base 0 [3,1] [5]", "pow", [(base, True), (exponent, True)], torch.pow))
    # Base 0 with negative exponents: infinite values and gradients.
    base = torch.tensor([0.0, 0.0, 0.0, 2.0], dtype=DOUBLE)
    exponent = torch.tensor([-1.0, -2.0, 0.5, -1.0], dtype=DOUBLE)
    cases.append(case(generator, "pow base 0 negative exponent [4] [4]", "pow", [(base, True), (exponent, True)], torch.pow))
    # Division by zero: ±inf and NaN, as IEEE has it.
    a = torch.tensor([1.0, -1.0, 0.0, 2.0], dtype=DOUBLE)
    b = torch.tensor([0.0, 0.0, 0.0, 4.0], dtype=DOUBLE)
    cases.append(case(generator, "div by zero [4] [4]", "div", [(a, True), (b, False)], torch.div))
    # Denominators whose square leaves float's range while the quotient and its gradient do not.
    a = f32(torch.tensor([1e-22, 3e-23, 2e-20, 1e20, 1.0], dtype=DOUBLE))
    b = f32(torch.tensor([1e-22, 1e-23, 1e-20, 3e19, 1e-19], dtype=DOUBLE))
    cases.append(case(generator, "div extreme denominators [5] [5]", "div", [(a, True), (b, True)], torch.div))
    return cases


def scalar_cases(generator):
    cases = []
    shapes = [[3, 4], [], [2, 0], [2, 3, 4]]
    operations = {
        "add_scalar": (lambda x, s: x + s, lambda x, s: s + x),
        "sub_scalar": (lambda x, s: x - s, lambda x, s: s - x),
        "mul_scalar": (lambda x, s: x * s, lambda x, s: s * x),
        "div_scalar": (lambda x, s: x / s, lambda x, s: s / x),
    }
    for op, (after, before) in operations.items():
        for shape in shapes:
            for scalar_first in (False, True):
                scalar = -1.75 if op != "div_scalar" else 2.5
                x = away_from_zero(generator, shape, 0.5, 2.0) if op == "div_scalar" and scalar_first else normal(generator, shape)
                function = before if scalar_first else after
                text = f"{scalar} {op[:3]} x" if scalar_first else f"x {op[:3]} {scalar}"
                cases.append(case(generator, f"{op} {text} {shape_text(shape)}", op, [(x, True)],
                                  lambda x, function=function, scalar=scalar: function(x, scalar),
                                  {"scalar": scalar, "scalar_first": scalar_first}))
    for exponent, positive in ((2.0, False), (3.0, False), (0.0, False), (1.0, False), (0.5, True), (-1.5, True), (-2.0, False)):
        for shape in ([3, 4], [2, 3, 4]):
            x = uniform(generator, shape, 0.5, 2.0) if positive else away_from_zero(generator, shape, 0.3, 2.0)
            cases.append(case(generator, f"pow_scalar x^{exponent} {shape_text(shape)}", "pow_scalar", [(x, True)],
                              lambda x, exponent=exponent: torch.pow(x, exponent), {"scalar": exponent, "scalar_first": False}))
    return cases


UNARY = {
    "exp": (torch.exp, lambda g, s: normal(g, s, 1.5)),
    "log": (torch.log, lambda g, s: uniform(g, s, 0.1, 5.0)),
    "log1p": (torch.log1p, lambda g, s: uniform(g, s, -0.9, 3.0)),
    "sqrt": (torch.sqrt, lambda g, s: uniform(g, s, 0.1, 4.0)),
    "rsqrt": (torch.rsqrt, lambda g, s: uniform(g, s, 0.1, 4.0)),
    "abs": (torch.abs, lambda g, s: away_from_zero(g, s, 0.1, 2.0)),
    "sign": (torch.sign, lambda g, s: away_from_zero(g, s, 0.1, 2.0)),
    "square": (torch.square, lambda g, s: normal(g, s)),
    "sin": (torch.sin, lambda g, s: uniform(g, s, -6.0, 6.0)),
    "cos": (torch.cos, lambda g, s: uniform(g, s, -6.0, 6.0)),
    "neg": (torch.neg, lambda g, s: normal(g, s)),
    "reciprocal": (torch.reciprocal, lambda g, s: away_from_zero(g, s, 0.3, 3.0)),
    "erf": (torch.erf, lambda g, s: normal(g, s, 1.5)),
}

# Each function's edge values: poles, the ends of its domain, its kink.
UNARY_EDGES = {
    "log": [0.0, -0.0, -1.0, 1.0, 1e-30],
    "log1p": [-1.0, -2.0, 0.0, -0.0, 1e-7, -3e-8, 2e-5, -0.5, float("inf")],
    "sqrt": [0.0, -1.0, 4.0],
    "rsqrt": [0.0, -1.0, 4.0],
    "abs": [0.0, -0.0, 3.0, -3.0],
    "sign": [0.0, -0.0, 3.0, -3.0],
    "reciprocal": [0.0, -0.0, 4.0],
    "exp": [-104.0, 88.0, 89.0, 0.0],
    "erf": [0.0, -0.0, 1e-4, -3e-3, 0.49, 0.51, 4.0, -6.0, float("inf"), float("-inf")],
}


def unary_cases(generator):
    cases = []
    for op, (function, draw) in UNARY.items():
        for shape in ([], [7], [3, 4], [2, 3, 4], [2, 0, 3]):
            cases.append(case(generator, f"{op} {shape_text(shape)}", op, [(draw(generator, shape), True)], function))
        if op in UNARY_EDGES:
            x = torch.tensor(UNARY_EDGES[op], dtype=DOUBLE)
            # float64 would keep exp(89) finite; float32, which both sides compute in here, does not.
            run = (lambda x: torch.exp(x.float()).double()) if op == "exp" else function
            cases.append(case(generator, f"{op} edges", op, [(f32(x), True)], run))
    return cases


def where_cases(generator):
    cases = []
    triples = [
        ([3, 4], [3, 4], [3, 4]),
        ([3, 1], [3, 4], [4]),
        ([], [2, 3], [2, 3]),
        ([4], [3, 1], []),
        ([2, 1, 4], [3, 1], [1, 3, 4]),
        ([2, 3], [], []),
        ([0, 3], [3], [1]),
    ]
    for mask_shape, a_shape, b_shape in triples:
        m = mask(generator, mask_shape)
        a, b = normal(generator, a_shape), normal(generator, b_shape)
        cases.append(case(generator, f"where {shape_text(mask_shape, a_shape, b_shape)}", "where",
                          [(m, False), (a, True), (b, True)], lambda m, a, b: torch.where(m.bool(), a, b)))
    return cases


def clamp_cases(generator):
    cases = []
    bounds = [(-0.5, None), (None, 0.7), (-0.5, 0.7), (1.0, -1.0)]
    for low, high in bounds:
        for shape in ([3, 4], [], [2, 3, 4], [0, 3]):
            x = normal(generator, shape)
            for bound in (low, high):
                if bound is not None:  # keep off the bounds, where the gradient is a convention
                    near = (x - bound).abs() < 0.05
                    x[near] = bound + 0.05
            parameters = {}
            if low is not None:
                parameters["min"] = low
            if high is not None:
                parameters["max"] = high
            cases.append(case(generator, f"clamp min {low} max {high} {shape_text(shape)}", "clamp", [(x, True)],
                              lambda x, low=low, high=high: torch.clamp(x, low, high), parameters))
    # On the bounds: torch passes the gradient where min <= x <= max, bounds included.
    x = torch.tensor([-0.5, 0.7, -0.5, 0.7, 0.0, -2.0, 2.0, float("nan")], dtype=DOUBLE)
    for low, high in ((-0.5, 0.7), (-0.5, None), (None, 0.7)):
        parameters = {k: v for k, v in (("min", low), ("max", high)) if v is not None}
        cases.append(case(generator, f"clamp ties min {low} max {high}", "clamp", [(f32(x), True)],
                          lambda x, low=low, high=high: torch.clamp(x, low, high), parameters))
    return cases


COMPARISONS = {"gt": torch.gt, "ge": torch.ge, "lt": torch.lt, "le": torch.le, "eq": torch.eq, "ne": torch.ne}


def comparison_cases(generator):
    cases = []
    pairs = [([3, 4], [3, 4]), ([3, 1], [1, 4]), ([2, 3, 4], []), ([], [4]), ([0, 3], [3]), ([2, 1, 4, 1], [3, 1, 5])]
    for op, function in COMPARISONS.items():
        for a_shape, b_shape in pairs:
            a, b = integers(generator, a_shape, -1, 1), integers(generator, b_shape, -1, 1)
            cases.append(case(generator, f"{op} {shape_text(a_shape, b_shape)}", op, [(a, False), (b, False)],
                              lambda a, b, function=function: function(a, b).double(), differentiable=False))
        a = torch.tensor([float("nan"), 1.0, float("nan"), float("inf")], dtype=DOUBLE)
        b = torch.tensor([float("nan"), float("nan"), 1.0, float("inf")], dtype=DOUBLE)
        cases.append(case(generator, f"{op} nan", op, [(a, False), (b, False)],
                          lambda a, b, function=function: function(a, b).double(), differentiable=False))
    return cases


def reduction_cases(generator):
    cases = []
    dim_sets = {
        (2, 3, 4): [[], [0], [1], [2], [-1], [0, 2], [1, -1], [0, 1, 2], [-3, -2]],
        (2, 3, 4, 5): [[1, 2], [0, 3], [1, 3], [-3], [0, 2, 3]],
        (3, 1, 4): [[1], [0, 1]],
        (7,): [[0], []],
        (): [[], [0], [-1]],
        (0, 3): [[0], [1], []],
    }
    for op, function in (("sum", torch.sum), ("mean", torch.mean)):
        for shape, dim_list in dim_sets.items():
            for dims in dim_list:
                for keepdim in (False, True):
                    if not dims and keepdim:
                        continue  # torch's dim=[] reduces every axis only without keepdim
                    # Positive, so no sum cancels to near 0, where float32 keeps only absolute accuracy.
                    x = uniform(generator, list(shape), 0.25, 2.0)
                    run = (lambda x, function=function: function(x)) if not dims else \
                        (lambda x, function=function, dims=dims, keepdim=keepdim: function(x, dims, keepdim=keepdim))
                    cases.append(case(generator, f"{op} {shape_text(shape)} dims {dims} keepdim {keepdim}", op,
                                      [(x, True)], run, {"dims": dims, "keepdim": keepdim}))
    return cases


def broadcast_cases(generator):
    cases = []
    targets = [
        ([3, 1], [3, 4]),
        ([3, 1], [2, 3, 5]),
        ([3, 1], [-1, 4]),
        ([4], [2, 3, 4]),
        ([], [2, 3]),
        ([2, 1, 3], [4, 2, 5, -1]),
        ([1, 3], [0, 3]),
        ([2, 3], [2, 3]),
        ([1], [1, 1, 1]),
    ]
    for op in ("broadcast_to", "expand"):
        for shape, target in targets:
            x = normal(generator, shape)
            run = (lambda x, target=target: torch.broadcast_to(x, target)) if op == "broadcast_to" else \
                (lambda x, target=target: x.expand(*target))
            cases.append(case(generator, f"{op} {shape_text(shape)} to {shape_text(target)}", op, [(x, True)], run,
                              {"shape": target}))
    return cases


def masked_fill_cases(generator):
    cases = []
    shapes = [([3, 4], [4], -1e9), ([3, 4], [3, 1], 0.5), ([3, 4], [], 2.0), ([2, 3, 4], [3, 1], -1.5),
              ([2, 3, 4], [2, 1, 4], float("-inf")), ([3, 4], [3, 4], 0.0), ([0, 3], [3], 1.0)]
    for x_shape, mask_shape, value in shapes:
        x, m = normal(generator, x_shape), mask(generator, mask_shape)
        cases.append(case(generator, f"masked_fill {shape_text(x_shape, mask_shape)} value {value}", "masked_fill",
                          [(x, True), (m, False)], lambda x, m, value=value: x.masked_fill(m.bool(), value),
                          {"value": values(torch.tensor([value]))[0]}))
    return cases


def conditioned_upstream(generator, x, function):
    """An upstream g for which PyTorch's own float32 gradient is within 1e-6 of the float64 one
    (relative, with 1% of the largest as the floor, as the C# comparison has it). Softmax's
    gradient y·(g − <g, y>) cancels where g_i is close to <g, y>: there float32 arithmetic, any
    implementation's, is 1e-5 off the exact answer, as near a kink the derivative is a convention."""
    for _ in range(100):
        g = normal(generator, x.shape)
        gradients = []
        for dtype in (DOUBLE, torch.float32):
            leaf = x.detach().to(dtype).clone().requires_grad_(True)
            (function(leaf) * g.to(dtype)).sum().backward()
            gradients.append(leaf.grad.double())
        exact, single = gradients
        finite = exact.isfinite()
        if not finite.any():
            return g
        floor = 0.01 * exact[finite].abs().max()
        if ((single - exact).abs() <= 1e-6 * torch.maximum(exact.abs(), floor))[finite].all():
            return g
    raise SystemExit("no well-conditioned upstream gradient in 100 draws")


def softmax_cases(generator):
    cases = []
    inputs = []
    for dim in (0, 1, 2, -1):
        inputs.append(("", [2, 3, 4], dim, 1.0, 0.0))
    for dim in (0, 1, 2, 3, -2):
        inputs.append(("", [2, 3, 2, 3], dim, 1.0, 0.0))
    inputs += [("", [5], 0, 1.0, 0.0), ("", [3, 1, 4], 1, 1.0, 0.0), ("", [0, 4], 1, 1.0, 0.0), ("", [2, 0], 0, 1.0, 0.0),
               ("large ", [2, 3, 4], 0, 1000.0, 0.0), ("large ", [2, 3, 4], 2, 1000.0, 0.0),
               ("offset ", [2, 3, 4], 1, 1.0, 10000.0), ("offset ", [3, 5], -1, 1.0, -10000.0)]
    for op, function in (("softmax", torch.softmax), ("log_softmax", torch.log_softmax)):
        for label, shape, dim, scale, shift in inputs:
            # Large logits sit on levels `scale` apart (exp overflows unless shifted by the maximum), with
            # unit noise within a level: a spread-out draw would leave probabilities like 1e-5 beside
            # 0.99999, whose gradient y·(g − <g, y>) float32 (PyTorch's too) gets only to 4e-4.
            levels = integers(generator, shape, -1, 1) * scale if scale > 1 else 0
            x = f32(normal(generator, shape) * (1 if scale > 1 else scale) + levels + shift)
            run = lambda x, function=function, dim=dim: function(x, dim)
            cases.append(case(generator, f"{op} {label}{shape_text(shape)} dim {dim}", op, [(x, True)], run, {"dim": dim},
                              upstream=conditioned_upstream(generator, x, run)))
        # Masked logits, as attention masks them: -inf gets probability 0 and no gradient.
        x = normal(generator, [2, 2, 4])
        x[0, 0, 1] = x[1, 0, 3] = x[1, 1, 0] = float("-inf")
        x[0, 1, :3] = float("-inf")
        for dim in (-1, 1):
            run = lambda x, function=function, dim=dim: function(x, dim)
            cases.append(case(generator, f"{op} -inf logits [2,2,4] dim {dim}", op, [(x, True)], run, {"dim": dim},
                              upstream=conditioned_upstream(generator, x, run)))
    return cases


def main():
    generator = torch.Generator().manual_seed(1313)
    cases = (binary_cases(generator) + scalar_cases(generator) + unary_cases(generator) + where_cases(generator)
             + clamp_cases(generator) + comparison_cases(generator) + reduction_cases(generator)
             + broadcast_cases(generator) + masked_fill_cases(generator) + softmax_cases(generator))
    names = [c["name"] for c in cases]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise SystemExit(f"duplicate case names: {sorted(duplicates)}")
    write("tensor_ops.json", {**header(__file__), "cases": cases})
    counts = {}
    for c in cases:
        counts[c["op"]] = counts.get(c["op"], 0) + 1
    print(", ".join(f"{op} {n}" for op, n in counts.items()), f"({len(cases)} cases)")


if __name__ == "__main__":
    main()
