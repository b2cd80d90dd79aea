#!/usr/bin/python3
"""PyTorch reference fixtures for Sinapse's bilinear image resize (ImageResize.Bilinear).

How to run (from the repository root):

    apt-get install -y python3-torch          # PyTorch 1.13 (Debian); use /usr/bin/python3
    /usr/bin/python3 tools/make_resize_fixtures.py

What it writes, into tests/Sinapse.Tests/Fixtures/:

    resize.json  cases of an image [C, H, W] resized to [C, height, width] by
                 F.interpolate(mode="bilinear", align_corners=False, antialias=False): enlarging,
                 shrinking, one axis each way, size-1 inputs and outputs, the identity, and 1 or 3
                 channels. Each case: "name", "parameters" ({"height", "width"}), "input" and
                 "output" ({"shape", "values"}).

Sizes come from a fixed list; values from a seeded torch generator as float32 (so the C# side holds
exactly the same numbers), and the references are computed in float64. Numbers are written with 9
significant digits, enough to round-trip a float32.

The C# test that reads this file: tests/Sinapse.Tests/Data/ImageResizeTests.cs.
"""

import torch
import torch.nn.functional as F

from fixture_io import header, randn, rounded, write

# (channels, in height, in width, out height, out width)
SIZES = [
    (1, 4, 4, 8, 8), (3, 5, 7, 9, 4), (1, 8, 8, 3, 3), (3, 6, 6, 6, 6),
    (1, 1, 1, 3, 2), (1, 4, 5, 1, 1), (3, 2, 9, 5, 3), (1, 7, 3, 7, 10),
]


def main():
    generator = torch.Generator().manual_seed(14)
    cases = []
    for channels, in_height, in_width, height, width in SIZES:
        x = randn(generator, channels, in_height, in_width, scale=50.0, shift=100.0)
        y = F.interpolate(x[None], size=(height, width), mode="bilinear", align_corners=False)[0]
        cases.append({
            "name": f"{channels}x{in_height}x{in_width}_to_{height}x{width}",
            "parameters": {"height": height, "width": width},
            "input": {"shape": list(x.shape), "values": rounded(x)},
            "output": {"shape": list(y.shape), "values": rounded(y)},
        })
    write("resize.json", {**header(__file__), "cases": cases})


if __name__ == "__main__":
    main()
