#!/usr/bin/python3
"""PyTorch reference fixtures for Sinapse's tests.

How to run (from the repository root):

    apt-get install -y python3-torch python3-torchvision   # PyTorch 1.13, torchvision 0.14 (Debian)
    /usr/bin/python3 tools/make_fixtures.py

What it writes, into tests/Sinapse.Tests/Fixtures/ (small JSON files, a few KB each):

    losses.json       MSE, BCE, BCE-with-logits;
    focal.json        torchvision's sigmoid focal loss for several (gamma, alpha), alpha < 0 and
                      gamma = 0 among them (checked against torchvision.ops when it is installed);
    cross_entropy.json  cross-entropy with integer labels, one-hot and soft targets, and NLL.
                      For each case: the inputs, and for the reductions "mean" and "sum" the loss
                      and its gradient with respect to the input; for "none" the per-element
                      losses and the gradient of sum(upstream * losses) for the upstream given.
    activations.json  relu, leaky_relu, sigmoid, tanh, elu, selu, gelu (exact erf form and tanh form),
                      hardsigmoid, hardswish, relu6, softmax, log_softmax: input x, upstream
                      gradient g, output y and the input gradient (g pulled back through the op).
    linear.json       F.linear forward and backward (dx, dW, db) for 2-D and 3-D inputs, with and
                      without bias.
    optimizers.json   torch.optim.SGD (plain, momentum, Nesterov, each with and without weight
                      decay), Adam (with and without L2 weight decay) and AdamW: the initial
                      parameters, the gradient fed at each step, and the parameters after each step.

Every input is drawn from a fixed seed as float32 (so the C# side holds exactly the same numbers)
and every reference is then computed in float64, so the fixtures carry PyTorch's exact-arithmetic
answer rather than its float32 rounding. Numbers are written with 9 significant digits: enough to
round-trip a float32 exactly. Inputs avoid the kinks of the piecewise activations (0 for the ReLU
family, +-3 for the hard ones, 6 for relu6), where the derivative is a convention, not a value.

The C# tests that read these files live in tests/Sinapse.Tests/{Ops,Optimizers}/.
"""

import torch
import torch.nn.functional as F

from fixture_io import f32, header, number, randn, rounded, write

try:
    from torchvision.ops import sigmoid_focal_loss as torchvision_focal_loss
except ImportError:  # the formula below is torchvision's; the cross-check is skipped without it
    torchvision_focal_loss = None


def away_from(x, kinks, margin=0.1):
    """Pushes values that lie within margin of a kink to margin away from it."""
    for k in kinks:
        near = (x - k).abs() < margin
        x = torch.where(near, k + margin * torch.sign(x - k + 1e-12), x)
    return f32(x)


# ---------------------------------------------------------------- losses

def focal(logits, target, gamma, alpha, reduction):
    """torchvision.ops.sigmoid_focal_loss (Lin et al. 2017), written out:
    p = sigmoid(z); ce = BCEWithLogits(z, y); p_t = p*y + (1-p)*(1-y);
    loss = ce * (1 - p_t)^gamma; if alpha >= 0: loss *= alpha*y + (1-alpha)*(1-y)."""
    p = torch.sigmoid(logits)
    ce = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    p_t = p * target + (1 - p) * (1 - target)
    loss = ce * ((1 - p_t) ** gamma)
    if alpha >= 0:
        loss = (alpha * target + (1 - alpha) * (1 - target)) * loss
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def loss_case(name, function, prediction, target, upstream, **parameters):
    case = {
        "name": name,
        "parameters": parameters,
        "input": rounded(prediction),
        "input_shape": list(prediction.shape),
        "target": rounded(target),
        "target_shape": list(target.shape),
    }
    for reduction in ("mean", "sum", "none"):
        x = prediction.clone().requires_grad_(True)
        loss = function(x, target, reduction)
        if reduction == "none":
            (loss * upstream).sum().backward()
            case[reduction] = {"value": rounded(loss), "upstream": rounded(upstream), "grad": rounded(x.grad)}
        else:
            loss.backward()
            case[reduction] = {"value": number(loss), "grad": rounded(x.grad)}
    return case


def losses():
    g = torch.Generator().manual_seed(1234)
    cases = []

    prediction, target = randn(g, 4, 3), randn(g, 4, 3)
    cases.append(loss_case("mse", lambda x, t, r: F.mse_loss(x, t, reduction=r), prediction, target, randn(g, 4, 3)))

    probability = f32(torch.rand(3, 5, generator=g, dtype=torch.float64) * 0.96 + 0.02)
    binary = f32(torch.tensor([[1, 0, 1, 1, 0], [0, 0, 1, 0, 1], [0.3, 0.7, 0, 1, 0.5]], dtype=torch.float64))
    cases.append(loss_case("bce", lambda x, t, r: F.binary_cross_entropy(x, t, reduction=r), probability, binary, randn(g, 3, 5)))

    logits = randn(g, 3, 5, scale=3.0)
    cases.append(loss_case("bce_with_logits", lambda x, t, r: F.binary_cross_entropy_with_logits(x, t, reduction=r), logits, binary, randn(g, 3, 5)))

    write("losses.json", {**header(__file__), "cases": cases})

    # torchvision's sigmoid focal loss, in a file of its own to keep each file small.
    cases = []
    for gamma, alpha in ((2.0, 0.25), (0.0, 0.25), (2.0, -1.0), (0.5, 0.75), (3.0, 0.5)):
        if torchvision_focal_loss is not None:
            for reduction in ("mean", "sum", "none"):
                ours = focal(logits, binary, gamma, alpha, reduction)
                theirs = torchvision_focal_loss(logits, binary, alpha=alpha, gamma=gamma, reduction=reduction)
                assert torch.allclose(ours, theirs, rtol=1e-12, atol=0), (gamma, alpha, reduction)
        cases.append(loss_case(f"focal gamma={gamma} alpha={alpha}",
                               lambda x, t, r, gamma=gamma, alpha=alpha: focal(x, t, gamma, alpha, r),
                               logits, binary, randn(g, 3, 5), gamma=gamma, alpha=alpha))
    write("focal.json", {**header(__file__), "cases": cases})

    cases = []

    logits = randn(g, 5, 4, scale=2.0)
    labels = torch.tensor([2, 0, 3, 3, 1])
    cross_entropy = lambda x, t, r: F.cross_entropy(x, t, reduction=r)
    case = loss_case("cross_entropy labels", lambda x, t, r: cross_entropy(x, t.long(), r), logits, labels.double(), randn(g, 5))
    cases.append(case)
    one_hot = F.one_hot(labels, 4).double()
    cases.append(loss_case("cross_entropy one_hot", cross_entropy, logits, one_hot, randn(g, 5)))
    soft = f32(torch.softmax(randn(g, 5, 4), dim=1))
    cases.append(loss_case("cross_entropy soft", cross_entropy, logits, soft, randn(g, 5)))

    log_probabilities = f32(torch.log_softmax(logits, dim=1))
    cases.append(loss_case("nll", lambda x, t, r: F.nll_loss(x, t.long(), reduction=r), log_probabilities, labels.double(), randn(g, 5)))

    write("cross_entropy.json", {**header(__file__), "cases": cases})


# ---------------------------------------------------------------- activations

def activations():
    g = torch.Generator().manual_seed(99)
    x = randn(g, 2, 6, scale=2.5)
    upstream = randn(g, 2, 6)
    relu_like = away_from(x, [0.0])
    hard = away_from(x * 1.6, [0.0, -3.0, 3.0])
    clipped = away_from(x * 2.2, [0.0, 6.0])
    specs = [
        ("relu", {}, F.relu, relu_like),
        ("leaky_relu", {"negative_slope": 0.01}, lambda t: F.leaky_relu(t, 0.01), relu_like),
        ("leaky_relu", {"negative_slope": 0.2}, lambda t: F.leaky_relu(t, 0.2), relu_like),
        ("sigmoid", {}, torch.sigmoid, x),
        ("tanh", {}, torch.tanh, x),
        ("elu", {"alpha": 1.0}, lambda t: F.elu(t, 1.0), relu_like),
        ("elu", {"alpha": 0.5}, lambda t: F.elu(t, 0.5), relu_like),
        ("selu", {}, F.selu, relu_like),
        ("gelu", {}, lambda t: F.gelu(t, approximate="none"), x),
        ("gelu", {"approximate": "tanh"}, lambda t: F.gelu(t, approximate="tanh"), x),
        ("hardsigmoid", {}, F.hardsigmoid, hard),
        ("hardswish", {}, F.hardswish, hard),
        ("relu6", {}, F.relu6, clipped),
        ("softmax", {}, lambda t: F.softmax(t, dim=-1), x),
        ("log_softmax", {}, lambda t: F.log_softmax(t, dim=-1), x),
    ]
    cases = []
    for name, parameters, function, values in specs:
        t = values.clone().requires_grad_(True)
        y = function(t)
        (y * upstream).sum().backward()
        cases.append({"name": name, "parameters": parameters, "shape": list(values.shape), "input": rounded(values),
                      "upstream": rounded(upstream), "output": rounded(y), "grad": rounded(t.grad)})
    write("activations.json", {**header(__file__), "cases": cases})


# ---------------------------------------------------------------- linear

def linear():
    g = torch.Generator().manual_seed(7)
    cases = []
    for name, input_shape, with_bias in (("2d", (3, 5), True), ("2d no bias", (3, 5), False), ("3d", (2, 3, 5), True)):
        x = randn(g, *input_shape).requires_grad_(True)
        w = randn(g, 4, 5, scale=0.5).requires_grad_(True)
        b = randn(g, 4).requires_grad_(True) if with_bias else None
        y = F.linear(x, w, b)
        upstream = randn(g, *y.shape)
        (y * upstream).sum().backward()
        case = {"name": name, "input_shape": list(input_shape), "input": rounded(x), "weight": rounded(w),
                "upstream": rounded(upstream), "output": rounded(y), "grad_input": rounded(x.grad), "grad_weight": rounded(w.grad)}
        if with_bias:
            case["bias"] = rounded(b)
            case["grad_bias"] = rounded(b.grad)
        cases.append(case)
    write("linear.json", {**header(__file__), "cases": cases})


# ---------------------------------------------------------------- optimizers

def optimizers():
    g = torch.Generator().manual_seed(2024)
    steps = 8
    initial = randn(g, 7)
    gradients = [randn(g, 7) for _ in range(steps)]
    specs = [
        ("sgd", {"lr": 0.1}, lambda p: torch.optim.SGD(p, lr=0.1)),
        ("sgd", {"lr": 0.1, "weight_decay": 0.05}, lambda p: torch.optim.SGD(p, lr=0.1, weight_decay=0.05)),
        ("sgd", {"lr": 0.1, "momentum": 0.9}, lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9)),
        ("sgd", {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.05}, lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.05)),
        ("sgd", {"lr": 0.1, "momentum": 0.9, "nesterov": True}, lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True)),
        ("sgd", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.05},
         lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.05)),
        ("adam", {"lr": 0.01}, lambda p: torch.optim.Adam(p, lr=0.01)),
        ("adam", {"lr": 0.01, "betas": [0.8, 0.99], "eps": 1e-6}, lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.8, 0.99), eps=1e-6)),
        ("adam", {"lr": 0.01, "weight_decay": 0.1}, lambda p: torch.optim.Adam(p, lr=0.01, weight_decay=0.1)),
        ("adamw", {"lr": 0.01, "weight_decay": 0.1}, lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.1)),
    ]
    cases = []
    for name, parameters, make in specs:
        p = initial.clone().requires_grad_(True)
        optimizer = make([p])
        trajectory = []
        for gradient in gradients:
            p.grad = gradient.clone()
            optimizer.step()
            trajectory.append(rounded(p))
        cases.append({"name": name, "parameters": parameters, "trajectory": trajectory})
    write("optimizers.json", {**header(__file__),
                              "initial": rounded(initial), "gradients": [rounded(x) for x in gradients], "cases": cases})


if __name__ == "__main__":
    torch.set_default_dtype(torch.float64)
    losses()
    activations()
    linear()
    optimizers()
