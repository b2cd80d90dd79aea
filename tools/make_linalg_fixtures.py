#!/usr/bin/python3
"""PyTorch reference fixtures for Sinapse's matrix products (F.Matmul, Mm, Mv, Dot, Outer, Bmm).

How to run (from the repository root):

    apt-get install -y python3-torch          # PyTorch 1.13 (Debian); use /usr/bin/python3
    /usr/bin/python3 tools/make_linalg_fixtures.py

What it writes, into tests/Sinapse.Tests/Fixtures/:

    linalg.json   one case per product: "op" (matmul, mm, mv, dot, outer, bmm), "a_shape",
                  "b_shape", the operands a and b, the upstream gradient g, "output_shape", the
                  output y and the gradients grad_a and grad_b of sum(g * y). The named cases
                  cover every rule of torch.matmul (vector·vector, vector·matrix, matrix·vector,
                  batched with a vector or a matrix on either side, batch dimensions broadcast on
                  one side, on both, interleaved), size-1 m, n and k, empty products (k = 0,
                  m = 0, a batch of 0, with and without broadcasting) and a fold whose rows
                  span GEMM tiles (14 rows from two batches, 33 columns). The "random" cases
                  draw batch shapes (broadcast dimensions among them), m, n, k and vector
                  operands from a fixed seed.

Every input is drawn from a fixed seed as float32 (so the C# side holds exactly the same numbers)
and every reference is computed in float64. Numbers are written with 9 significant digits, enough
to round-trip a float32.

The C# test that reads this file: tests/Sinapse.Tests/Ops/LinearAlgebraTests.cs.
"""

import random

import torch

from fixture_io import header, randn, rounded, write

OPS = {
    "matmul": torch.matmul,
    "mm": torch.mm,
    "mv": torch.mv,
    "dot": torch.dot,
    "outer": torch.outer,
    "bmm": torch.bmm,
}


def case(generator, name, op, a_shape, b_shape):
    a = randn(generator, *a_shape).requires_grad_(True)
    b = randn(generator, *b_shape).requires_grad_(True)
    y = OPS[op](a, b)
    # randn needs at least one size: a scalar output draws one value and drops the axis.
    g = randn(generator, *y.shape) if y.dim() > 0 else randn(generator, 1).reshape(())
    (y * g).sum().backward()
    return {
        "name": name,
        "op": op,
        "a_shape": list(a_shape),
        "b_shape": list(b_shape),
        "output_shape": list(y.shape),
        "a": rounded(a),
        "b": rounded(b),
        "upstream": rounded(g),
        "output": rounded(y),
        "grad_a": rounded(a.grad),
        "grad_b": rounded(b.grad),
    }


NAMED = [
    ("vector dot vector", "matmul", [7], [7]),
    ("matrix times matrix", "matmul", [5, 3], [3, 4]),
    ("vector times matrix", "matmul", [3], [3, 4]),
    ("matrix times vector", "matmul", [5, 3], [3]),
    ("batched, equal batches", "matmul", [4, 5, 3], [4, 3, 6]),
    ("batched times matrix (folded)", "matmul", [4, 5, 3], [3, 6]),
    ("matrix times batched (A broadcast)", "matmul", [5, 3], [4, 3, 6]),
    ("vector times batched", "matmul", [3], [4, 3, 6]),
    ("batched times vector", "matmul", [4, 5, 3], [3]),
    ("broadcast both [2,1,3,4] [5,4,6]", "matmul", [2, 1, 3, 4], [5, 4, 6]),
    ("broadcast interleaved", "matmul", [2, 1, 3, 4, 5], [1, 4, 1, 5, 2]),
    ("B broadcast in a leading axis only", "matmul", [2, 3, 4, 5], [1, 3, 5, 2]),
    ("B broadcast in a trailing axis (partial fold)", "matmul", [2, 3, 4, 5], [2, 1, 5, 6]),
    ("A broadcast in a trailing axis", "matmul", [2, 1, 4, 5], [2, 3, 5, 6]),
    ("m = 1 and n = 1", "matmul", [3, 1, 4], [3, 4, 1]),
    ("k = 1", "matmul", [2, 5, 1], [2, 1, 6]),
    ("all size 1", "matmul", [1, 1, 1], [1, 1, 1]),
    ("folded rows across GEMM tiles", "matmul", [2, 7, 3], [3, 33]),
    ("k = 0", "matmul", [3, 0], [0, 4]),
    ("k = 0 batched", "matmul", [2, 3, 0], [2, 0, 4]),
    ("m = 0", "matmul", [0, 3], [3, 4]),
    ("n = 0", "matmul", [2, 3], [3, 0]),
    ("batch 0", "matmul", [0, 2, 3], [3, 4]),
    ("batch 0 against a broadcast batch", "matmul", [0, 1, 2, 3], [5, 3, 4]),
    ("A broadcast over a batch of 0", "matmul", [1, 2, 3], [0, 3, 4]),
    ("empty vector dot", "matmul", [0], [0]),
    ("mm", "mm", [4, 6], [6, 3]),
    ("mm k = 0", "mm", [4, 0], [0, 3]),
    ("mv", "mv", [5, 6], [6]),
    ("mv m = 0", "mv", [0, 6], [6]),
    ("dot", "dot", [9], [9]),
    ("outer", "outer", [4], [6]),
    ("outer empty", "outer", [0], [3]),
    ("bmm", "bmm", [3, 4, 5], [3, 5, 2]),
    ("bmm batch 1", "bmm", [1, 6, 2], [1, 2, 7]),
]


def random_shapes(rng):
    """Two operand shapes torch.matmul accepts: a batch shape of rank 1-3, each operand keeping
    a suffix of it with some dimensions set to 1 (broadcast), and sometimes a vector operand."""
    m, n, k = rng.randint(1, 5), rng.randint(1, 5), rng.randint(1, 6)
    batch = [rng.randint(1, 3) for _ in range(rng.randint(1, 3))]

    def operand(matrix):
        if rng.random() < 0.15:
            return [k]
        dims = batch[rng.randint(0, len(batch)):]
        dims = [1 if rng.random() < 0.3 else d for d in dims]
        return dims + matrix

    return operand([m, k]), operand([k, n])


def main():
    generator = torch.Generator().manual_seed(2026)
    cases = [case(generator, name, op, a, b) for name, op, a, b in NAMED]
    rng = random.Random(2026)
    for i in range(30):
        a_shape, b_shape = random_shapes(rng)
        cases.append(case(generator, f"random {i}", "matmul", a_shape, b_shape))
    write("linalg.json", {**header(__file__), "cases": cases})


if __name__ == "__main__":
    main()
