#!/usr/bin/python3
"""PyTorch parity fixtures for Sinapse's MobileNets.

How to run (from the repository root):

    apt-get install -y python3-torchvision    # torchvision 0.14 with PyTorch 1.13 (Debian)
    /usr/bin/python3 tools/make_mobilenet_fixtures.py

What it writes, into tests/Sinapse.Tests/Fixtures/:

    mobilenet_v3_small.safetensors    torchvision.models.mobilenet_v3_small(width_mult=0.5, num_classes=10)
    mobilenet_v2.safetensors          torchvision.models.mobilenet_v2(width_mult=0.5, num_classes=10)

Each file holds the model's state_dict under torchvision's names ("features.0.0.weight", …,
num_batches_tracked as I64 like PyTorch's own) and two more tensors: "input", a
batch of 2 images of 3×64×64 (float32), and "output", the model's logits for it in eval mode
(float32, computed in float64).

To keep the repository small the models are the full architectures at width 0.5 with 10 classes
(0.41 M and 0.70 M parameters, which also exercises the width multiplier's channel rounding),
and their weights are stored as float16: the weights are rounded to float16 *before* PyTorch
computes the reference, so both sides run exactly the same (float16-representable) float32
weights and the comparison is as strict as with float32 files. Initialisation is torchvision's
(seeded), then batch norm's weight, bias, running mean and variance and the SE biases are
randomised so that every parameter matters.

The C# test that reads these files is tests/Sinapse.Tests/Models/MobileNetTests.cs.
"""

import os

import torch
import torchvision

from fixture_io import OUT, write_safetensors


def randomise(model, generator):
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.weight.data.uniform_(0.5, 1.5, generator=generator)
            module.bias.data.normal_(0.0, 0.1, generator=generator)
            module.running_mean.normal_(0.0, 0.1, generator=generator)
            module.running_var.uniform_(0.5, 1.5, generator=generator)
        elif isinstance(module, (torch.nn.Conv2d, torch.nn.Linear)) and module.bias is not None:
            module.bias.data.normal_(0.0, 0.1, generator=generator)


def export(name, build, seed):
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed + 1)
    model = build()
    randomise(model, generator)
    state = model.state_dict()
    half = {k: v if v.dtype == torch.int64 else v.to(torch.float16) for k, v in state.items()}
    # The reference runs the float16-rounded weights, in float64.
    model.load_state_dict({k: v if v.dtype == torch.int64 else v.to(torch.float32) for k, v in half.items()})
    model.eval().double()
    images = torch.randn(2, 3, 64, 64, generator=generator, dtype=torch.float32)
    with torch.no_grad():
        logits = model(images.double()).float()
    tensors = dict(half)
    tensors["input"] = images
    tensors["output"] = logits
    path = os.path.join(OUT, name + ".safetensors")
    write_safetensors(path, tensors)
    print(f"{path}: {sum(v.numel() for v in state.values()):,} values, logits {logits[0, :4].tolist()}")


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    export("mobilenet_v3_small", lambda: torchvision.models.mobilenet_v3_small(width_mult=0.5, num_classes=10), 2024)
    export("mobilenet_v2", lambda: torchvision.models.mobilenet_v2(width_mult=0.5, num_classes=10), 2025)
