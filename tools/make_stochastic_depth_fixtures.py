#!/usr/bin/python3
"""PyTorch reference fixtures for Sinapse's stochastic depth (F.StochasticDepth, the StochasticDepth layer).

How to run (from the repository root):

    apt-get install -y python3-torch python3-torchvision    # PyTorch 1.13, torchvision 0.14 (Debian)
    /usr/bin/python3 tools/make_stochastic_depth_fixtures.py

What it writes, into tests/Sinapse.Tests/Fixtures/: stochastic_depth.json, one case per input shape
([4, 3], [5, 2, 3, 3], [1, 4], [6, 1]), mode ("row", "batch"), p (0, 0.3, 1) and training flag,
each with the input, torchvision.ops.stochastic_depth's output, and "scaled", the input times
torchvision's survivor factor (1 / (1 - p) in float32, 0 when p = 1). The drawn masks come from
different generators, so the C# test checks that each sample (row mode) or the whole output (batch
mode) equals either zeros or "scaled", and equals torchvision's output exactly wherever torchvision
draws nothing (evaluation, p = 0, p = 1). The C# test is tests/Sinapse.Tests/Layers/StochasticDepthTests.cs.
"""

import torch
from torchvision.ops import stochastic_depth

from fixture_io import header, randn, rounded, write


def main():
    torch.manual_seed(20261205)
    generator = torch.Generator().manual_seed(20261205)
    cases = []
    for shape in ([4, 3], [5, 2, 3, 3], [1, 4], [6, 1]):
        for mode in ("row", "batch"):
            for p in (0.0, 0.3, 1.0):
                for training in (True, False):
                    x = randn(generator, *shape).float()
                    survival = torch.ones([], dtype=torch.float32)
                    if p < 1.0:
                        survival = survival.div_(1.0 - p)
                    else:
                        survival = torch.zeros([], dtype=torch.float32)
                    cases.append({
                        "name": f"{mode}-{'x'.join(map(str, shape))}-p{p}-{'train' if training else 'eval'}",
                        "parameters": {"p": p, "mode": mode, "training": training},
                        "input_shape": shape,
                        "input": rounded(x),
                        "output": rounded(stochastic_depth(x, p, mode, training)),
                        "scaled": rounded(x * survival),
                    })
    write("stochastic_depth.json", {**header(__file__), "cases": cases})


if __name__ == "__main__":
    main()
