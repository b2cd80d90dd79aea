#!/usr/bin/python3
"""PyTorch reference fixtures for Sinapse's LayerNorm and Embedding.

How to run (from the repository root):

    apt-get install -y python3-torch        # PyTorch 1.13 (Debian)
    /usr/bin/python3 tools/make_layernorm_embedding_fixtures.py

What it writes, into tests/Sinapse.Tests/Fixtures/:

    layernorm_embedding.json
        "layer_norm": torch.nn.functional.layer_norm on random inputs normalised over their last
                      one, two or three axes, with and without weight and bias, for several eps:
                      input, weight, bias, upstream gradient g, output, and the gradients of
                      sum(g * output) with respect to input, weight and bias.
        "embedding":  torch.nn.functional.embedding with and without padding_idx: indices (whole
                      numbers, repeated ones among them, so gradients add up), weight, upstream g,
                      output and the weight's gradient.

Inputs are float32 values from a fixed seed; references are computed in float64 from them.
"""

import torch
import torch.nn.functional as F

from fixture_io import header, randn, rounded, write

generator = torch.Generator().manual_seed(20261205)


def layer_norm_case(shape, normalized, affine, eps):
    x = randn(generator, *shape, scale=2.0, shift=0.5).requires_grad_(True)
    w = randn(generator, *normalized, scale=0.5, shift=1.0).requires_grad_(True) if affine else None
    b = randn(generator, *normalized).requires_grad_(True) if affine else None
    y = F.layer_norm(x, normalized, w, b, eps)
    g = randn(generator, *y.shape)
    (y * g).sum().backward()
    case = {"shape": list(shape), "normalized_shape": list(normalized), "eps": eps, "input": rounded(x),
            "upstream": rounded(g), "output": rounded(y), "grad_input": rounded(x.grad)}
    if affine:
        case.update({"weight": rounded(w), "bias": rounded(b), "grad_weight": rounded(w.grad), "grad_bias": rounded(b.grad)})
    return case


def embedding_case(index_shape, rows, dim, padding_idx):
    indices = torch.randint(0, rows, index_shape, generator=generator)
    indices.view(-1)[0] = indices.view(-1)[-1]  # a repeated index: its gradients add up
    if padding_idx is not None:
        indices.view(-1)[1] = padding_idx % rows
    w = randn(generator, rows, dim).requires_grad_(True)
    y = F.embedding(indices, w, padding_idx=padding_idx)
    g = randn(generator, *y.shape)
    (y * g).sum().backward()
    return {"index_shape": list(index_shape), "rows": rows, "dim": dim, "padding_idx": padding_idx,
            "indices": indices.flatten().tolist(), "weight": rounded(w), "upstream": rounded(g),
            "output": rounded(y), "grad_weight": rounded(w.grad)}


def main():
    layer_norm = [layer_norm_case(shape, normalized, affine, eps)
                  for shape, normalized in [((4, 6), (6,)), ((2, 3, 5), (3, 5)), ((2, 3, 2, 4), (3, 2, 4)), ((3, 1), (1,)), ((5, 7), (7,))]
                  for affine in (True, False)
                  for eps in (1e-5, 1e-2)]
    embedding = [embedding_case(index_shape, rows, dim, padding_idx)
                 for index_shape, rows, dim in [((5,), 7, 3), ((2, 4), 10, 5), ((2, 2, 3), 4, 2)]
                 for padding_idx in (None, 2, -1)]
    write("layernorm_embedding.json", {**header(__file__), "layer_norm": layer_norm, "embedding": embedding})


if __name__ == "__main__":
    main()
