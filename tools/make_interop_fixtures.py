"""PyTorch interop fixtures for Sinapse's safetensors loader.

Run:  /usr/bin/python3 tools/make_interop_fixtures.py     (needs python3-torch, PyTorch 1.13; no safetensors package:
      the format is written by hand in tools/fixture_io.py, exactly as the safetensors library lays it out)

Writes into tests/Sinapse.Tests/Fixtures/:
  interop_cnn.safetensors     state_dict of the course CNN (custom_3_layer, 1x28x28 -> 10) as nn.Sequential,
                              so its names ("0.weight", "9.bias") are Sinapse's own.
  interop_cnn_io.safetensors  "input" [4, 1, 28, 28] and PyTorch's "output" logits [4, 10].
  interop_mlp.safetensors     state_dict of a small MLP 784-32-16-10 (ReLU) written as a named module wrapped in
                              another ("model.fc1.weight" ...), to exercise a prefix strip and a name mapping.
  interop_mlp_io.safetensors  "input" [4, 1, 28, 28] and "output" [4, 10].
All with torch.manual_seed(0); float32, little-endian.
"""
import os

import torch
from torch import nn

from fixture_io import OUT, script_name, write_safetensors


def course_cnn(channels=1, classes=10):
    return nn.Sequential(
        nn.Conv2d(channels, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Conv2d(64, 64, 3), nn.ReLU(), nn.Flatten(), nn.Linear(64 * 4 * 4, classes))


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(784, 32)
        self.fc2 = nn.Linear(32, 16)
        self.fc3 = nn.Linear(16, 10)

    def forward(self, x):
        x = self.flatten(x)
        return self.fc3(torch.relu(self.fc2(torch.relu(self.fc1(x)))))


class Wrapper(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(x)


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    cnn = course_cnn().eval()
    x = torch.rand(4, 1, 28, 28)
    with torch.no_grad():
        y = cnn(x)
    write_safetensors(os.path.join(OUT, "interop_cnn.safetensors"), cnn.state_dict(), {"source": script_name(__file__), "torch": torch.__version__})
    write_safetensors(os.path.join(OUT, "interop_cnn_io.safetensors"), {"input": x, "output": y})

    mlp = Wrapper(Mlp()).eval()
    x = torch.rand(4, 1, 28, 28)
    with torch.no_grad():
        y = mlp(x)
    write_safetensors(os.path.join(OUT, "interop_mlp.safetensors"), mlp.state_dict(), {"source": script_name(__file__), "torch": torch.__version__})
    write_safetensors(os.path.join(OUT, "interop_mlp_io.safetensors"), {"input": x, "output": y})
    for name in sorted(os.listdir(OUT)):
        if name.startswith("interop_"):
            print(name, os.path.getsize(os.path.join(OUT, name)), "bytes")


if __name__ == "__main__":
    main()
