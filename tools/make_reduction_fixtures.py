#!/usr/bin/python3
"""PyTorch reference fixtures for Sinapse's reductions beyond sum and mean.

How to run (from the repository root):

    apt-get install -y python3-torch          # PyTorch 1.13 (Debian)
    /usr/bin/python3 tools/make_reduction_fixtures.py

What it writes, into tests/Sinapse.Tests/Fixtures/:

    reductions.json   torch.max / torch.min over all elements and along a dim (values and
                      indices), torch.amax / torch.amin over sets of dims, torch.argmax /
                      torch.argmin (flat and along a dim), torch.var / torch.std (unbiased or
                      not, and with a correction), torch.logsumexp and torch.linalg.vector_norm
                      for ord 1, 2 and inf. Random shapes of rank 0 to 4 (sizes 1 to 5, and one
                      long inner axis) with random dims, negative ones among them, and keepdim
                      both ways; then hand-made corner cases: ties, NaNs, infinities,
                      signed zeros, constant slices, a mean large against the spread, size-1
                      and empty dims. For each case: the op and its parameters, the input's
                      shape and values, the output's shape and values, the indices when the op
                      returns them, and, for differentiable ops, an upstream gradient and the
                      input's gradient of sum(upstream * output). Cases PyTorch refuses (a max
                      over an empty dim, say) carry "raises" with PyTorch's exception instead.

Inputs are drawn from fixed seeds as float32 (so the C# side holds exactly the same numbers) and
the references are computed in float64, so the fixtures carry PyTorch's exact-arithmetic answer
rather than its float32 rounding; the indices of every case are checked to be the same in float32.
JSON has no NaN or infinity, so those are written as the strings "NaN", "Infinity" and
"-Infinity". Parameters: "dim" (an int), "dims" (a list, or null for every axis), "keepdim",
"unbiased" or "correction", and "p" (a number, or "Infinity").

The C# test that reads this file is tests/Sinapse.Tests/Ops/ReductionsTests.cs.
"""

import math
import random

import torch

from fixture_io import f32, header, randn, write

INF = float("inf")
NAN = float("nan")


def values(t):
    """A tensor as a flat list: numbers with 9 significant digits, non-finite ones as strings."""
    out = []
    for v in t.detach().double().flatten().tolist():
        if math.isnan(v):
            out.append("NaN")
        elif math.isinf(v):
            out.append("Infinity" if v > 0 else "-Infinity")
        else:
            out.append(float(f"{v:.9g}"))
    return out


def normal(generator, shape, scale=1.0, shift=0.0):
    """fixture_io.randn for any shape, the scalar shape [] included."""
    return randn(generator, max(math.prod(shape), 0), scale=scale, shift=shift).reshape(shape)


def apply(op, x, parameters):
    """Runs op on x; returns (output, indices or None)."""
    p = parameters
    if op in ("max", "min"):
        if "dim" not in p:
            return getattr(torch, op)(x), None
        result = getattr(torch, op)(x, p["dim"], keepdim=p["keepdim"])
        return result.values, result.indices
    if op in ("amax", "amin"):
        return getattr(torch, op)(x, p["dims"], keepdim=p["keepdim"]), None
    if op in ("argmax", "argmin"):
        if "dim" not in p:
            return None, getattr(torch, op)(x)
        return None, getattr(torch, op)(x, p["dim"], keepdim=p["keepdim"])
    if op in ("var", "std"):
        function = getattr(torch, op)
        dims = p["dims"]
        if "correction" in p:
            return function(x, dims, correction=p["correction"], keepdim=p["keepdim"]), None
        if dims is None:
            return function(x, unbiased=p["unbiased"]), None
        return function(x, dims, unbiased=p["unbiased"], keepdim=p["keepdim"]), None
    if op == "logsumexp":
        return torch.logsumexp(x, p["dims"], keepdim=p["keepdim"]), None
    if op == "norm":
        order = INF if p["p"] == "Infinity" else p["p"]
        return torch.linalg.vector_norm(x, order, dim=p["dims"], keepdim=p["keepdim"]), None
    raise ValueError(op)


def case(generator, name, op, x, **parameters):
    """One fixture case: forward (and backward for an upstream drawn from generator) of op on x."""
    x = f32(x)
    result = {"name": name, "op": op, "parameters": parameters, "shape": list(x.shape), "input": values(x)}
    try:
        apply(op, x.float(), parameters)
    except (RuntimeError, IndexError) as error:
        result["raises"] = f"{type(error).__name__}: {str(error).splitlines()[0]}"
        return result
    x.requires_grad_(True)
    y, indices = apply(op, x, parameters)
    if indices is not None:
        _, indices32 = apply(op, x.detach().float(), parameters)
        assert torch.equal(indices, indices32), f"{name}: float32 and float64 choose different indices"
        result["indices"] = indices.flatten().tolist()
        result["output_shape"] = list(indices.shape)
    if y is not None:
        result["output_shape"] = list(y.shape)
        result["output"] = values(y)
        upstream = normal(generator, list(y.shape))
        (y * upstream).sum().backward()
        result["upstream"] = values(upstream)
        result["grad_input"] = values(x.grad)
    return result


def random_shape(rng):
    rank = rng.randint(0, 4)
    return [rng.randint(1, 4 if rank == 4 else 5) for _ in range(rank)]


def random_dims(rng, rank, shape):
    """A random non-empty set of axes, each named by its positive or negative index; axis 1 of [2, 3, 19]."""
    if shape == [2, 3, 19]:
        return [rng.choice([1, -2])]
    count = rng.randint(1, rank)
    axes = sorted(rng.sample(range(rank), count))
    return [a - rank if rng.random() < 0.5 else a for a in axes]


def random_dim(rng, rank, shape):
    if shape == [2, 3, 19]:
        return rng.choice([1, -2])
    rank = max(rank, 1)
    return rng.randint(-rank, rank - 1)


def random_cases(generator, rng):
    cases = []
    # [2, 3, 19] reduced along axis 1 runs the vector path along the inner axis and its tail.
    shapes = [random_shape(rng) for _ in range(10)] + [[2, 3, 19], [1, 3, 1, 2]]
    for n, shape in enumerate(shapes):
        x = normal(generator, shape)
        rank = len(shape)
        keepdim = n % 2 == 0
        # Float inputs rarely tie: max(dim) and argmax also meet small integers, which do.
        ties = torch.randint(-2, 3, shape, generator=generator).double()
        for op in ("max", "min"):
            cases.append(case(generator, f"random{n}_all", op, x))
            cases.append(case(generator, f"random{n}_dim", op, x, dim=random_dim(rng, rank, shape), keepdim=keepdim))
            cases.append(case(generator, f"random{n}_ties_dim", op, ties, dim=random_dim(rng, rank, shape), keepdim=not keepdim))
        for op in ("argmax", "argmin"):
            cases.append(case(generator, f"random{n}_all", op, ties))
            cases.append(case(generator, f"random{n}_dim", op, ties, dim=random_dim(rng, rank, shape), keepdim=keepdim))
        if rank == 0:
            continue
        for op in ("amax", "amin"):
            cases.append(case(generator, f"random{n}", op, x, dims=random_dims(rng, rank, shape), keepdim=keepdim))
            cases.append(case(generator, f"random{n}_ties", op, ties, dims=random_dims(rng, rank, shape), keepdim=not keepdim))
        for op in ("var", "std"):
            cases.append(case(generator, f"random{n}", op, x, dims=random_dims(rng, rank, shape), unbiased=n % 3 != 0, keepdim=keepdim))
        cases.append(case(generator, f"random{n}", "logsumexp", normal(generator, shape, scale=3.0), dims=random_dims(rng, rank, shape), keepdim=keepdim))
        for p in (1.0, 2.0, "Infinity"):
            dims = None if n % 4 == 0 else random_dims(rng, rank, shape)
            cases.append(case(generator, f"random{n}_p{p}", "norm", x, p=p, dims=dims, keepdim=keepdim))
    return cases


def corner_cases(generator):
    t = lambda rows: torch.tensor(rows, dtype=torch.float64)
    ties = t([[1, 3, 3, 2], [4, 4, 4, 4], [-1, -5, -5, 0]])
    nans = t([[1, NAN, 3, NAN], [NAN, 2, 5, 5], [-INF, 0, 2, 1]])
    signed_zeros = t([[-0.0, 0.0, -1.0], [0.0, -0.0, -1.0]])
    cases = []
    for op in ("max", "min"):
        cases += [
            case(generator, "ties_all", op, ties),
            case(generator, "nan_all", op, nans),
            case(generator, "ties_dim1", op, ties, dim=1, keepdim=False),
            case(generator, "ties_dim0", op, ties.t().contiguous(), dim=0, keepdim=True),
            case(generator, "nan_dim1", op, nans, dim=1, keepdim=False),
            case(generator, "nan_dim0", op, nans, dim=0, keepdim=False),
            case(generator, "signed_zeros_dim1", op, signed_zeros, dim=1, keepdim=False),
            case(generator, "scalar_dim", op, t(2.5), dim=-1, keepdim=True),
            case(generator, "empty_other_dim", op, torch.zeros(0, 3, dtype=torch.float64), dim=1, keepdim=False),
            case(generator, "empty_all", op, torch.zeros(2, 0, dtype=torch.float64)),
            case(generator, "empty_dim", op, torch.zeros(2, 0, dtype=torch.float64), dim=1, keepdim=False),
        ]
    for op in ("amax", "amin"):
        cases += [
            case(generator, "ties_all", op, ties, dims=[], keepdim=False),
            case(generator, "ties_dim1", op, ties, dims=[1], keepdim=True),
            case(generator, "nan_dim1", op, nans, dims=[-1], keepdim=False),
            case(generator, "ties_two_dims", op, ties.reshape(3, 2, 2), dims=[0, 2], keepdim=False),
            case(generator, "empty_other_dim", op, torch.zeros(2, 0, dtype=torch.float64), dims=[0], keepdim=False),
            case(generator, "empty_dim", op, torch.zeros(2, 0, dtype=torch.float64), dims=[1], keepdim=False),
        ]
    for op in ("argmax", "argmin"):
        cases += [
            case(generator, "ties_all", op, ties),
            case(generator, "nan_all", op, nans),
            case(generator, "signed_zeros_all", op, signed_zeros),
            case(generator, "nan_dim1", op, nans, dim=1, keepdim=True),
            case(generator, "signed_zeros_dim0", op, signed_zeros, dim=0, keepdim=False),
            case(generator, "empty_all", op, torch.zeros(0, dtype=torch.float64)),
            case(generator, "empty_dim", op, torch.zeros(3, 0, dtype=torch.float64), dim=-1, keepdim=False),
        ]
    constant = t([[2, 2, 2], [1, 3, 5]])
    for op in ("var", "std"):
        cases += [
            case(generator, "constant_rows", op, constant, dims=[1], unbiased=True, keepdim=False),
            case(generator, "size1_dim", op, t([[2.0], [3.0]]), dims=[1], unbiased=True, keepdim=True),
            case(generator, "size1_dim_biased", op, t([[2.0], [3.0]]), dims=[1], unbiased=False, keepdim=False),
            case(generator, "correction0", op, randn(generator, 3, 4), dims=[0], correction=0, keepdim=False),
            case(generator, "correction2_of_two", op, t([[1, 4], [2, 2]]), dims=[1], correction=2, keepdim=False),
            case(generator, "large_mean", op, randn(generator, 4, 6, scale=0.1, shift=100.0), dims=[1], unbiased=True, keepdim=False),
            case(generator, "all_elements", op, randn(generator, 3, 4), dims=None, unbiased=True),
            # dims=[] reduces every axis too, but PyTorch 1.13's backward then divides by 1 instead of N.
            case(generator, "all_dims_listed", op, randn(generator, 2, 3), dims=[0, -1], unbiased=False, keepdim=True),
            case(generator, "nan", op, nans, dims=[1], unbiased=True, keepdim=False),
            case(generator, "empty_dim", op, torch.zeros(2, 0, dtype=torch.float64), dims=[1], unbiased=True, keepdim=False),
        ]
    cases += [
        case(generator, "infinities", "logsumexp", t([[-INF, -INF], [1, INF], [-INF, INF], [INF, INF], [NAN, 1], [1, 2]]), dims=[1], keepdim=False),
        case(generator, "large", "logsumexp", t([[1000, 999, 998], [-1000, -1001, -1000]]), dims=[-1], keepdim=True),
        case(generator, "two_dims", "logsumexp", randn(generator, 2, 3, 4, scale=5.0), dims=[0, 2], keepdim=False),
        case(generator, "empty_dim", "logsumexp", torch.zeros(2, 0, dtype=torch.float64), dims=[1], keepdim=False),
        case(generator, "empty_other_dim", "logsumexp", torch.zeros(0, 3, dtype=torch.float64), dims=[1], keepdim=True),
    ]
    zeros = t([[0, 0, 0], [3, -4, 0]])
    magnitude_ties = t([[3, -3, 1], [-2, 2, 2]])
    for p in (1.0, 2.0, "Infinity"):
        cases += [
            case(generator, f"zero_row_p{p}", "norm", zeros, p=p, dims=[1], keepdim=False),
            case(generator, f"magnitude_ties_p{p}", "norm", magnitude_ties, p=p, dims=[-1], keepdim=True),
            case(generator, f"nan_p{p}", "norm", t([[3, NAN, 1, NAN], [1, 2, 2, 0]]), p=p, dims=[1], keepdim=False),
            case(generator, f"infinity_p{p}", "norm", t([[3, INF, 1], [1, -INF, 2]]), p=p, dims=[1], keepdim=False),
            case(generator, f"scalar_p{p}", "norm", t(-2.0), p=p, dims=None, keepdim=False),
            case(generator, f"empty_all_p{p}", "norm", torch.zeros(0, dtype=torch.float64), p=p, dims=None, keepdim=False),
            case(generator, f"empty_dim_p{p}", "norm", torch.zeros(2, 0, dtype=torch.float64), p=p, dims=[1], keepdim=False),
            case(generator, f"empty_other_dim_p{p}", "norm", torch.zeros(2, 0, dtype=torch.float64), p=p, dims=[0], keepdim=False),
        ]
    return cases


def main():
    generator = torch.Generator().manual_seed(2024)
    rng = random.Random(2024)
    cases = random_cases(generator, rng) + corner_cases(generator)
    write("reductions.json", {**header(__file__), "cases": cases})
    print(f"{len(cases)} cases, {sum('raises' in c for c in cases)} of them errors")


if __name__ == "__main__":
    main()
