#!/usr/bin/python3
"""PyTorch reference fixtures for Sinapse's shape and indexing ops.

How to run (from the repository root):

    apt-get install -y python3-torch          # PyTorch 1.13 (Debian); use /usr/bin/python3
    /usr/bin/python3 tools/make_shape_fixtures.py

What it writes, into tests/Sinapse.Tests/Fixtures/:

    shape_ops.json  cases on random shapes (ranks 0 to 4, sizes 0 to 4; a size 0 or 1 where the op
                    allows one) for reshape, squeeze (all, or listed dims), unsqueeze, torch.flatten,
                    nn.Flatten (the batch-keeping flatten), permute, transpose, movedim, slicing
                    along one dim (negative and out-of-range bounds, steps), basic indexing x[...]
                    with ints and slices, index_select, gather, scatter_add, stack, chunk, F.pad
                    (constant mode, negative pads among them), repeat and one_hot.
                    Each case: "name", "op", "parameters", "inputs" (a list of {"shape", "values",
                    "grad"}), for the index ops "index" ({"shape", "values"}, integers written as
                    numbers), and "outputs" (a list of {"shape", "values", "upstream"}: chunk has
                    several). "grad" is the gradient of sum_k sum(upstream_k * output_k) with respect
                    to that input (absent for one_hot, which has none).

Shapes, dims and indices are drawn from a seeded random.Random; values from a seeded torch
generator as float32 (so the C# side holds exactly the same numbers), and the references are
computed in float64. Numbers are written with 9 significant digits, enough to round-trip a float32.
Slices and indices are given as Python writes them: a negative bound or position counts from the
end, a slice bound of null is left out. Multi-dim squeeze, which torch 1.13 lacks, is torch's
one-dim squeeze applied to each listed dim from the last to the first.

The C# test that reads this file: tests/Sinapse.Tests/Ops/ShapeFixtureTests.cs.
"""

import random

import torch
import torch.nn.functional as F

from fixture_io import header, randn, rounded, write

CASES_PER_OP = 12


def random_shape(rng, min_rank=1, max_rank=4, empty=True, low=1, high=4):
    """Sizes in [low, high]; with empty=True, one case in eight has a dimension of size 0."""
    shape = [rng.randint(low, high) for _ in range(rng.randint(min_rank, max_rank))]
    if empty and shape and rng.random() < 0.125:
        shape[rng.randrange(len(shape))] = 0
    return shape


def draw(generator, shape):
    """Normal float32 values of shape (a scalar for []), from generator."""
    return randn(generator, *shape) if len(shape) else randn(generator, 1).reshape(())


def maybe_negative(rng, dim, rank):
    """dim, or the same dimension counted from the end."""
    return dim - rank if rng.random() < 0.4 else dim


def case(generator, name, op, parameters, inputs, function, index=None):
    """Runs outputs = function(*inputs) and backward for random upstream gradients; the inputs are
    float64 tensors that require a gradient."""
    for x in inputs:
        x.requires_grad_(True)
    outputs = function(*inputs)
    if isinstance(outputs, torch.Tensor):
        outputs = [outputs]
    upstreams = [draw(generator, y.shape) for y in outputs]
    loss = sum((y * g).sum() for y, g in zip(outputs, upstreams))
    if loss.requires_grad:
        loss.backward()
    result = {
        "name": name,
        "op": op,
        "parameters": parameters,
        "inputs": [{"shape": list(x.shape), "values": rounded(x),
                    "grad": rounded(x.grad if x.grad is not None else torch.zeros_like(x))} for x in inputs],
        "outputs": [{"shape": list(y.shape), "values": rounded(y), "upstream": rounded(g)}
                    for y, g in zip(outputs, upstreams)],
    }
    if index is not None:
        result["index"] = {"shape": list(index.shape), "values": [int(v) for v in index.flatten().tolist()]}
    return result


def factorised(rng, shape):
    """A random shape with as many elements: the sizes regrouped, a 1 inserted now and then."""
    sizes = [s for s in shape if s != 1]
    rng.shuffle(sizes)
    target = []
    for s in sizes:
        if target and rng.random() < 0.4:
            target[-1] *= s
        else:
            target.append(s)
    if rng.random() < 0.3:
        target.insert(rng.randint(0, len(target)), 1)
    return target or [1]


def reshape_cases(rng, g):
    cases = []
    for i in range(CASES_PER_OP):
        shape = random_shape(rng, 0, 4, empty=False)
        target = factorised(rng, shape)
        if rng.random() < 0.6:
            target[rng.randrange(len(target))] = -1
        x = draw(g, shape)
        cases.append(case(g, f"reshape {i}", "reshape", {"shape": target}, [x], lambda x: x.reshape(target)))
    return cases


def squeeze_cases(rng, g):
    cases = []
    for i in range(CASES_PER_OP):
        shape = [rng.choice([1, 1, 2, 3]) for _ in range(rng.randint(0, 4))]
        if shape and rng.random() < 0.15:
            shape[rng.randrange(len(shape))] = 0
        rank = len(shape)
        dims = [] if rank == 0 or rng.random() < 0.3 else \
            [maybe_negative(rng, d, rank) for d in rng.sample(range(rank), rng.randint(1, min(2, rank)))]

        def squeeze(x, dims=dims):
            if not dims:
                return x.squeeze()
            for d in sorted((d % rank for d in dims), reverse=True):
                x = x.squeeze(d)
            return x
        cases.append(case(g, f"squeeze {i}", "squeeze", {"dims": dims}, [draw(g, shape)], squeeze))
    return cases


def unsqueeze_cases(rng, g):
    cases = []
    for i in range(CASES_PER_OP):
        shape = random_shape(rng, 0, 3)
        dim = rng.randint(-len(shape) - 1, len(shape))
        cases.append(case(g, f"unsqueeze {i}", "unsqueeze", {"dim": dim}, [draw(g, shape)], lambda x: x.unsqueeze(dim)))
    return cases


def flatten_cases(rng, g):
    cases = [case(g, "flatten scalar", "flatten", {"start": 0, "end": -1}, [draw(g, [])], lambda x: torch.flatten(x, 0, -1))]
    for i in range(CASES_PER_OP):
        shape = random_shape(rng, 1, 4)
        rank = len(shape)
        start = rng.randrange(rank)
        end = rng.randint(start, rank - 1)
        start, end = maybe_negative(rng, start, rank), maybe_negative(rng, end, rank)
        cases.append(case(g, f"flatten {i}", "flatten", {"start": start, "end": end}, [draw(g, shape)],
                          lambda x: torch.flatten(x, start, end)))
    for i in range(4):
        shape = random_shape(rng, 2, 4)
        cases.append(case(g, f"flatten batch {i}", "flatten_batch", {}, [draw(g, shape)], torch.nn.Flatten()))
    return cases


def permute_cases(rng, g):
    cases = []
    for i in range(CASES_PER_OP):
        shape = random_shape(rng, 1, 4)
        rank = len(shape)
        dims = [maybe_negative(rng, d, rank) for d in rng.sample(range(rank), rank)]
        cases.append(case(g, f"permute {i}", "permute", {"dims": dims}, [draw(g, shape)], lambda x: x.permute(dims)))
    return cases


def transpose_cases(rng, g):
    cases = []
    for i in range(CASES_PER_OP):
        shape = random_shape(rng, 1, 4)
        rank = len(shape)
        dim0, dim1 = (maybe_negative(rng, rng.randrange(rank), rank) for _ in range(2))
        cases.append(case(g, f"transpose {i}", "transpose", {"dim0": dim0, "dim1": dim1}, [draw(g, shape)],
                          lambda x: x.transpose(dim0, dim1)))
    return cases


def movedim_cases(rng, g):
    cases = []
    for i in range(CASES_PER_OP):
        shape = random_shape(rng, 1, 4)
        rank = len(shape)
        count = rng.randint(1, rank)
        source = [maybe_negative(rng, d, rank) for d in rng.sample(range(rank), count)]
        destination = [maybe_negative(rng, d, rank) for d in rng.sample(range(rank), count)]
        cases.append(case(g, f"movedim {i}", "movedim", {"source": source, "destination": destination}, [draw(g, shape)],
                          lambda x: torch.movedim(x, source, destination)))
    return cases


def slice_cases(rng, g):
    cases = []
    for i in range(2 * CASES_PER_OP):
        shape = random_shape(rng, 1, 4)
        rank = len(shape)
        dim = rng.randrange(rank)
        size = shape[dim]
        start = rng.choice([None, rng.randint(-size - 2, size + 2)])
        end = rng.choice([None, rng.randint(-size - 2, size + 2)])
        step = rng.choice([1, 1, 2, 3])
        key = (slice(None),) * dim + (slice(start, end, step),)
        parameters = {"dim": maybe_negative(rng, dim, rank), "start": start, "end": end, "step": step}
        cases.append(case(g, f"slice {i}", "slice", parameters, [draw(g, shape)], lambda x: x[key]))
    return cases


def index_cases(rng, g):
    """x[items]: each item an int (removes the dim) or a slice without step (a C# Range)."""
    cases = []
    for i in range(2 * CASES_PER_OP):
        shape = random_shape(rng, 1, 4)
        items = []
        for size in shape[:rng.randint(1, len(shape))]:
            if size > 0 and rng.random() < 0.4:
                items.append({"int": rng.randint(-size, size - 1)})
            else:
                items.append({"start": rng.choice([None, rng.randint(-size - 2, size + 2)]),
                              "end": rng.choice([None, rng.randint(-size - 2, size + 2)])})
        key = tuple(item["int"] if "int" in item else slice(item["start"], item["end"]) for item in items)
        cases.append(case(g, f"index {i}", "index", {"items": items}, [draw(g, shape)], lambda x: x[key]))
    return cases


def index_select_cases(rng, g):
    cases = []
    for i in range(CASES_PER_OP):
        shape = random_shape(rng, 1, 4)
        rank = len(shape)
        dim = rng.randrange(rank)
        count = rng.randint(0, 5) if shape[dim] > 0 else 0
        index = torch.tensor([rng.randrange(shape[dim]) for _ in range(count)], dtype=torch.long)
        if count == 1 and rng.random() < 0.5:
            index = index.reshape(())
        dim = maybe_negative(rng, dim, rank)
        cases.append(case(g, f"index_select {i}", "index_select", {"dim": dim}, [draw(g, shape)],
                          lambda x: torch.index_select(x, dim, index), index))
    return cases


def index_shape(rng, shape, dim, bound):
    """An index shape for gather/scatter: at most bound[d] outside dim, 1 to 4 along it."""
    return [rng.randint(1, 4) if d == dim else rng.randint(0 if rng.random() < 0.05 else 1, bound[d]) for d in range(len(shape))]


def gather_cases(rng, g):
    cases = []
    for i in range(CASES_PER_OP):
        shape = random_shape(rng, 1, 4, empty=False)
        rank = len(shape)
        dim = rng.randrange(rank)
        index = torch.randint(0, shape[dim], index_shape(rng, shape, dim, shape),
                              generator=torch.Generator().manual_seed(rng.randrange(1 << 30)))
        dim = maybe_negative(rng, dim, rank)
        cases.append(case(g, f"gather {i}", "gather", {"dim": dim}, [draw(g, shape)],
                          lambda x: torch.gather(x, dim, index), index))
    return cases


def scatter_add_cases(rng, g):
    """src has the index's shape: torch 1.13's backward fails for a larger src (its gradient there is 0)."""
    cases = []
    for i in range(CASES_PER_OP):
        shape = random_shape(rng, 1, 4, empty=False)
        rank = len(shape)
        dim = rng.randrange(rank)
        index = torch.randint(0, shape[dim], index_shape(rng, shape, dim, shape),
                              generator=torch.Generator().manual_seed(rng.randrange(1 << 30)))
        dim = maybe_negative(rng, dim, rank)
        cases.append(case(g, f"scatter_add {i}", "scatter_add", {"dim": dim}, [draw(g, shape), draw(g, list(index.shape))],
                          lambda x, src: torch.scatter_add(x, dim, index, src), index))
    return cases


def stack_cases(rng, g):
    cases = []
    for i in range(CASES_PER_OP):
        shape = random_shape(rng, 0, 3)
        count = rng.randint(1, 4)
        dim = rng.randint(-len(shape) - 1, len(shape))
        cases.append(case(g, f"stack {i}", "stack", {"dim": dim}, [draw(g, shape) for _ in range(count)],
                          lambda *xs: torch.stack(xs, dim)))
    return cases


def chunk_cases(rng, g):
    cases = []
    for i in range(CASES_PER_OP):
        shape = random_shape(rng, 1, 4, high=7)
        rank = len(shape)
        dim = rng.randrange(rank)
        chunks = rng.randint(1, 6)
        dim = maybe_negative(rng, dim, rank)
        cases.append(case(g, f"chunk {i}", "chunk", {"chunks": chunks, "dim": dim}, [draw(g, shape)],
                          lambda x: list(torch.chunk(x, chunks, dim))))
    return cases


def pad_cases(rng, g):
    cases = []
    while len(cases) < 2 * CASES_PER_OP:
        shape = random_shape(rng, 1, 4)
        rank = len(shape)
        pad = [rng.randint(-2, 2) for _ in range(2 * rng.randint(1, rank))]
        padded = [shape[rank - 1 - k // 2] for k in range(0, len(pad), 2)]
        cropped = [s + min(pad[2 * k], 0) + min(pad[2 * k + 1], 0) for k, s in enumerate(padded)]
        grown = [s + pad[2 * k] + pad[2 * k + 1] for k, s in enumerate(padded)]
        # torch's constant pad: a crop may take at most the whole dimension, and when any pad is
        # positive every padded dimension must keep at least one position.
        if min(cropped) < 0 or (max(pad) > 0 and min(grown) < 1):
            continue
        value = round(rng.uniform(-2, 2), 2)
        cases.append(case(g, f"pad {len(cases)}", "pad", {"pad": pad, "value": value}, [draw(g, shape)],
                          lambda x: F.pad(x, pad, value=value)))
    return cases


def repeat_cases(rng, g):
    cases = []
    for i in range(CASES_PER_OP):
        shape = random_shape(rng, 0, 3, high=3)
        repeats = [rng.choice([0, 1, 2, 3]) if rng.random() < 0.1 else rng.randint(1, 3)
                   for _ in range(len(shape) + rng.randint(0, 2))]
        repeats = repeats or [1]
        cases.append(case(g, f"repeat {i}", "repeat", {"repeats": repeats}, [draw(g, shape)], lambda x: x.repeat(repeats)))
    return cases


def one_hot_cases(rng, g):
    cases = []
    for i in range(CASES_PER_OP // 2):
        shape = random_shape(rng, 0, 3, empty=False)
        classes = rng.randint(1, 5)
        indices = torch.randint(0, classes, shape, generator=torch.Generator().manual_seed(rng.randrange(1 << 30)))
        num_classes = -1 if i % 2 == 0 else classes + rng.randint(0, 2)
        y = F.one_hot(indices, num_classes).double()
        cases.append({
            "name": f"one_hot {i}", "op": "one_hot", "parameters": {"num_classes": num_classes},
            "inputs": [{"shape": list(indices.shape), "values": rounded(indices)}],
            "outputs": [{"shape": list(y.shape), "values": rounded(y), "upstream": []}],
        })
    return cases


def main():
    rng = random.Random(1913)
    g = torch.Generator().manual_seed(1913)
    cases = []
    for make in (reshape_cases, squeeze_cases, unsqueeze_cases, flatten_cases, permute_cases, transpose_cases,
                 movedim_cases, slice_cases, index_cases, index_select_cases, gather_cases, scatter_add_cases,
                 stack_cases, chunk_cases, pad_cases, repeat_cases, one_hot_cases):
        cases += make(rng, g)
    write("shape_ops.json", {**header(__file__), "cases": cases})
    print(f"{len(cases)} cases")


if __name__ == "__main__":
    main()
