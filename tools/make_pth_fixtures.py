#!/usr/bin/python3
"""PyTorch .pth fixtures for Sinapse's reader of torch.save files (src/Sinapse/Serialization/Pth.cs).

How to run (from the repository root):

    apt-get install -y python3-torchvision    # torchvision 0.14 with PyTorch 1.13 (Debian)
    /usr/bin/python3 tools/make_pth_fixtures.py

What it writes, into tests/Sinapse.Tests/Fixtures/pth/ (every .pth by torch.save, PyTorch's zip format):

    mobilenet_v3_small.pth      torch.save(model.state_dict()) of torchvision.models.mobilenet_v3_small(
                                width_mult=0.25, num_classes=10), float32 (FloatStorage)
    mobilenet_v3_large.pth      likewise mobilenet_v3_large(width_mult=0.25, num_classes=10), stored float16
    mobilenet_v2.pth            likewise mobilenet_v2(width_mult=0.25, num_classes=10), stored float16
    <each>_io.safetensors       "input", 2 images of 3×32×32, and "output", the model's logits for them in
                                eval mode (computed in float64 from the weights exactly as stored)
    tensors.pth                 an OrderedDict of the tensor layouts a state dict can hold: float32,
                                float64, float16, bfloat16, an int64 scalar, an empty tensor, a
                                transposed (non-contiguous) matrix, two views sharing one storage
                                (one at an offset, one with a step), and an expanded (stride 0) one
    tensors.json                every tensor of tensors.pth as {"shape", "values"} (row-major, the
                                values exactly as stored)
    mlp.pth                     state_dict of nn.Sequential(Linear(4, 3), ReLU(), Linear(3, 2))
    mlp_parameters.pth          the same module's state_dict(keep_vars=True): Parameters, pickled through
                                torch._utils._rebuild_parameter
    mnist_mlp.pth               state_dict of nn.Sequential(Flatten(), Linear(784, 16), ReLU(), Linear(16, 10)),
                                Sinapse's `--model mlp --hidden 16` on 28×28 images, for the CLI's --weights
    mlp_legacy.pth              the same in PyTorch's legacy (pre-1.6, not zip) format, which Sinapse
                                refuses by name (its bytes change on every run, as the legacy format
                                keys storages by memory address; the other files are reproduced exactly)
    malicious_system.pth        a state dict with an extra object whose __reduce__ is
                                (os.system, ("touch /tmp/sinapse_pth_fixture_ran",)): a reader
                                that runs pickled code creates that file
    malicious_eval.pth          likewise with builtins.eval of code that creates the same file

The MobileNets are torchvision's full architectures at width 0.25 with 10 classes (0.12 M, 0.31 M and
0.26 M values), untrained: torchvision's seeded initialisation, then batch norm's weight, bias and
running statistics and the convolution biases randomised so that every tensor matters. Storing
two of them as float16 keeps the files small (1.6 MB in all) and tests the float16 path end to end:
the reference runs the float16-rounded weights, so the comparison is as strict as with float32.

The C# tests that read these files are tests/Sinapse.Tests/Serialization/PthTests.cs.
"""

import builtins
import collections
import os

import torch
import torchvision

from fixture_io import OUT, header, rounded, write, write_safetensors
from make_mobilenet_fixtures import randomise

PTH = os.path.join(OUT, "pth")
MARKER = "/tmp/sinapse_pth_fixture_ran"


def export_mobilenet(name, build, seed, dtype):
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed + 1)
    model = build()
    randomise(model, generator)
    state = collections.OrderedDict((k, v if v.dtype == torch.int64 else v.to(dtype)) for k, v in model.state_dict().items())
    state._metadata = model.state_dict()._metadata
    torch.save(state, os.path.join(PTH, name + ".pth"))
    # The reference runs the weights exactly as stored, in float64.
    model.load_state_dict({k: v if v.dtype == torch.int64 else v.to(torch.float32) for k, v in state.items()})
    model.eval().double()
    images = torch.randn(2, 3, 32, 32, generator=generator, dtype=torch.float32)
    with torch.no_grad():
        logits = model(images.double()).float()
    write_safetensors(os.path.join(PTH, name + "_io.safetensors"), {"input": images, "output": logits})
    print(f"{name}.pth: {sum(v.numel() for v in state.values()):,} values ({dtype}), {os.path.getsize(os.path.join(PTH, name + '.pth')):,} bytes")


def export_tensors():
    generator = torch.Generator().manual_seed(31)
    base = torch.arange(20, dtype=torch.float32) * 0.5 - 3
    tensors = collections.OrderedDict()
    tensors["float32"] = torch.randn(2, 3, generator=generator)
    tensors["float64"] = torch.randn(3, generator=generator, dtype=torch.float64)
    tensors["float16"] = torch.randn(2, 2, generator=generator).half()
    tensors["bfloat16"] = torch.randn(4, generator=generator).bfloat16()
    tensors["int64_scalar"] = torch.tensor(7)
    tensors["empty"] = torch.zeros(0, 3)
    tensors["transposed"] = torch.randn(3, 4, generator=generator).t()
    tensors["base"] = base
    tensors["window"] = base[5:11].view(2, 3)          # storage offset 5
    tensors["stepped"] = base.view(4, 5)[:, ::2]        # strides (5, 2)
    tensors["expanded"] = torch.randn(3, 1, generator=generator).expand(3, 4)   # strides (1, 0)
    assert not tensors["transposed"].is_contiguous() and not tensors["stepped"].is_contiguous()
    torch.save(tensors, os.path.join(PTH, "tensors.pth"))
    content = header(__file__)
    content["tensors"] = {k: {"shape": list(v.shape), "values": rounded(v.double())} for k, v in tensors.items()}
    write(os.path.join("pth", "tensors.json"), content)


def export_mlp():
    torch.manual_seed(5)
    mlp = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    state = mlp.state_dict()
    torch.save(state, os.path.join(PTH, "mlp.pth"))
    torch.save(mlp.state_dict(keep_vars=True), os.path.join(PTH, "mlp_parameters.pth"))
    torch.save(state, os.path.join(PTH, "mlp_legacy.pth"), _use_new_zipfile_serialization=False)
    mnist = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 16), torch.nn.ReLU(), torch.nn.Linear(16, 10))
    torch.save(mnist.state_dict(), os.path.join(PTH, "mnist_mlp.pth"))


class RunsSystem:
    def __reduce__(self):
        return (os.system, ("touch " + MARKER,))


class RunsEval:
    def __reduce__(self):
        return (builtins.eval, (f"__import__('os').system('touch {MARKER}')",))


def export_malicious():
    for name, payload in (("malicious_system", RunsSystem()), ("malicious_eval", RunsEval())):
        state = collections.OrderedDict(weight=torch.zeros(2), payload=payload)
        torch.save(state, os.path.join(PTH, name + ".pth"))


if __name__ == "__main__":
    os.makedirs(PTH, exist_ok=True)
    export_mobilenet("mobilenet_v3_small", lambda: torchvision.models.mobilenet_v3_small(width_mult=0.25, num_classes=10), 3031, torch.float32)
    export_mobilenet("mobilenet_v3_large", lambda: torchvision.models.mobilenet_v3_large(width_mult=0.25, num_classes=10), 3032, torch.float16)
    export_mobilenet("mobilenet_v2", lambda: torchvision.models.mobilenet_v2(width_mult=0.25, num_classes=10), 3033, torch.float16)
    export_tensors()
    export_mlp()
    export_malicious()
