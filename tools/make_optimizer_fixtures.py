#!/usr/bin/python3
"""PyTorch reference fixtures for Sinapse's optimizers, gradient clipping and learning-rate schedules.

How to run (from the repository root):

    apt-get install -y python3-torch          # PyTorch 1.13 (Debian); use /usr/bin/python3
    /usr/bin/python3 tools/make_optimizer_fixtures.py

What it writes, into tests/Sinapse.Tests/Fixtures/ (small JSON files, a few KB each):

    optimizer_trajectories.json
        torch.optim.Adagrad (plain, lr_decay, weight_decay, initial_accumulator_value, all
        together), torch.optim.RMSprop (plain, alpha/eps, weight decay, momentum, centered,
        centered with momentum and weight decay), torch.optim.SGD with momentum under a
        learning rate that changes mid-run (where the course's velocity form and PyTorch's
        buffer form part ways) and with dampening, torch.optim.Adam and AdamW with amsgrad
        (with a small beta2, so that the second moment estimate falls and its running maximum
        matters) and AdamW with its default weight decay (0.01, absent from "parameters"): the
        initial parameters, the gradient fed at each step, the learning rate of each step and
        the parameters after each step; amsgrad cases also give the final "max_exp_avg_sq".
        (Plain SGD, momentum and Nesterov with weight decay, Adam and AdamW are in
        optimizers.json, written by tools/make_fixtures.py.)
    gradient_clipping.json
        torch.nn.utils.clip_grad_norm_ (max_norm below and above the total norm) and
        clip_grad_value_ over three parameters' gradients: the gradients before, after, and the
        total norm clip_grad_norm_ returns.
    schedules.json
        The learning rate at positions 0..N of StepLR, ExponentialLR, CosineAnnealingLR (up to
        T_max: beyond it PyTorch's cosine climbs back, Sinapse's stays at the minimum), LinearLR
        (warm-up alone) and SequentialLR(LinearLR, CosineAnnealingLR) (warm-up then cosine),
        with the Sinapse schedule each corresponds to. The course's linear decay has no PyTorch
        counterpart; its test checks the formula directly.

As in make_fixtures.py, every input is drawn from a fixed seed as float32 (so the C# side holds
exactly the same numbers) and every reference is computed in float64, and numbers are written
with 9 significant digits (a float32 round-trips). The C# tests that read these files live in
tests/Sinapse.Tests/Optimizers/.
"""

import math

import torch

from fixture_io import header, number, randn, rounded, write


# ---------------------------------------------------------------- optimizers

def trajectories():
    g = torch.Generator().manual_seed(7)
    steps = 8
    initial = randn(g, 6)
    gradients = [randn(g, 6) for _ in range(steps)]
    constant = [None] * steps
    changing = [0.1] * 4 + [0.03] * 4  # a schedule's drop after step 4
    specs = [
        ("adagrad", {"lr": 0.1}, constant, lambda p: torch.optim.Adagrad(p, lr=0.1)),
        ("adagrad", {"lr": 0.1, "lr_decay": 0.05}, constant, lambda p: torch.optim.Adagrad(p, lr=0.1, lr_decay=0.05)),
        ("adagrad", {"lr": 0.1, "weight_decay": 0.2}, constant, lambda p: torch.optim.Adagrad(p, lr=0.1, weight_decay=0.2)),
        ("adagrad", {"lr": 0.05, "initial_accumulator_value": 0.5, "eps": 1e-6}, constant,
         lambda p: torch.optim.Adagrad(p, lr=0.05, initial_accumulator_value=0.5, eps=1e-6)),
        ("adagrad", {"lr": 0.1, "lr_decay": 0.05, "weight_decay": 0.2, "initial_accumulator_value": 0.1}, constant,
         lambda p: torch.optim.Adagrad(p, lr=0.1, lr_decay=0.05, weight_decay=0.2, initial_accumulator_value=0.1)),
        ("rmsprop", {"lr": 0.01}, constant, lambda p: torch.optim.RMSprop(p, lr=0.01)),
        ("rmsprop", {"lr": 0.01, "alpha": 0.9, "eps": 1e-6}, constant, lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, eps=1e-6)),
        ("rmsprop", {"lr": 0.01, "weight_decay": 0.1}, constant, lambda p: torch.optim.RMSprop(p, lr=0.01, weight_decay=0.1)),
        ("rmsprop", {"lr": 0.01, "momentum": 0.9}, constant, lambda p: torch.optim.RMSprop(p, lr=0.01, momentum=0.9)),
        ("rmsprop", {"lr": 0.01, "centered": True}, constant, lambda p: torch.optim.RMSprop(p, lr=0.01, centered=True)),
        ("rmsprop", {"lr": 0.01, "momentum": 0.8, "centered": True, "weight_decay": 0.1}, constant,
         lambda p: torch.optim.RMSprop(p, lr=0.01, momentum=0.8, centered=True, weight_decay=0.1)),
        ("sgd", {"lr": 0.1, "momentum": 0.9}, changing, lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9)),
        ("sgd", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.05}, changing,
         lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.05)),
        ("sgd", {"lr": 0.1, "momentum": 0.9, "dampening": 0.5}, changing, lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.5)),
        ("sgd", {"lr": 0.05, "momentum": 0.8, "dampening": 0.3, "weight_decay": 0.05}, constant,
         lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.05)),
        ("sgd", {"lr": 0.1, "momentum": 0.9, "dampening": 1.0}, constant, lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, dampening=1.0)),
        ("adam", {"lr": 0.01, "betas": [0.9, 0.5], "amsgrad": True}, constant,
         lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.9, 0.5), amsgrad=True)),
        ("adam", {"lr": 0.01, "betas": [0.8, 0.6], "eps": 1e-6, "weight_decay": 0.1, "amsgrad": True}, changing,
         lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.8, 0.6), eps=1e-6, weight_decay=0.1, amsgrad=True)),
        ("adamw", {"lr": 0.01}, constant, lambda p: torch.optim.AdamW(p, lr=0.01)),
        ("adamw", {"lr": 0.01, "betas": [0.9, 0.5], "amsgrad": True}, constant,
         lambda p: torch.optim.AdamW(p, lr=0.01, betas=(0.9, 0.5), amsgrad=True)),
        ("adamw", {"lr": 0.05, "betas": [0.9, 0.6], "weight_decay": 0.2, "amsgrad": True}, changing,
         lambda p: torch.optim.AdamW(p, lr=0.05, betas=(0.9, 0.6), weight_decay=0.2, amsgrad=True)),
    ]
    cases = []
    for name, parameters, rates, make in specs:
        p = initial.clone().requires_grad_(True)
        optimizer = make([p])
        trajectory, used = [], []
        for gradient, rate in zip(gradients, rates):
            if rate is not None:
                for group in optimizer.param_groups:
                    group["lr"] = rate
            used.append(optimizer.param_groups[0]["lr"])
            p.grad = gradient.clone()
            optimizer.step()
            trajectory.append(rounded(p))
        case = {"name": name, "parameters": parameters, "rates": used, "trajectory": trajectory}
        if parameters.get("amsgrad"):
            case["max_exp_avg_sq"] = rounded(optimizer.state[p]["max_exp_avg_sq"])
        cases.append(case)
    write("optimizer_trajectories.json", {**header(__file__),
                                          "initial": rounded(initial), "gradients": [rounded(x) for x in gradients],
                                          "cases": cases})


# ---------------------------------------------------------------- clipping

def clipping():
    g = torch.Generator().manual_seed(11)
    shapes = [(3, 4), (4,), (2, 3)]
    gradients = [randn(g, *s, scale=1.5) for s in shapes]
    total = math.sqrt(sum(float((x * x).sum()) for x in gradients))
    cases = []
    for max_norm in [1.0, 2.5, total * 2]:
        parameters = [torch.zeros(s, dtype=torch.float64, requires_grad=True) for s in shapes]
        for p, x in zip(parameters, gradients):
            p.grad = x.clone()
        norm = torch.nn.utils.clip_grad_norm_(parameters, max_norm)
        cases.append({"name": "norm", "max_norm": number(max_norm), "total_norm": number(norm),
                      "clipped": [rounded(p.grad) for p in parameters]})
    for clip_value in [1.0, 0.5]:
        parameters = [torch.zeros(s, dtype=torch.float64, requires_grad=True) for s in shapes]
        for p, x in zip(parameters, gradients):
            p.grad = x.clone()
        torch.nn.utils.clip_grad_value_(parameters, clip_value)
        cases.append({"name": "value", "clip_value": clip_value, "clipped": [rounded(p.grad) for p in parameters]})
    write("gradient_clipping.json", {**header(__file__),
                                     "shapes": [list(s) for s in shapes],
                                     "gradients": [rounded(x) for x in gradients], "cases": cases})


# ---------------------------------------------------------------- schedules

def rates(base, make, positions):
    """The learning rate at positions 0..positions-1 (one scheduler.step() between each)."""
    p = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([p], lr=base)
    scheduler = make(optimizer)
    result = []
    for _ in range(positions):
        result.append(number(optimizer.param_groups[0]["lr"]))
        optimizer.step()
        scheduler.step()
    return result


def schedules():
    base = 0.1
    S = torch.optim.lr_scheduler
    cases = [
        {"name": "step", "step_size": 3, "gamma": 0.5, "rates": rates(base, lambda o: S.StepLR(o, step_size=3, gamma=0.5), 12)},
        {"name": "exponential", "gamma": 0.9, "rates": rates(base, lambda o: S.ExponentialLR(o, gamma=0.9), 12)},
        # Up to T_max only: PyTorch's CosineAnnealingLR is periodic beyond it.
        {"name": "cosine", "t_max": 10, "eta_min_fraction": 0.0, "rates": rates(base, lambda o: S.CosineAnnealingLR(o, T_max=10), 11)},
        {"name": "cosine", "t_max": 8, "eta_min_fraction": 0.05,
         "rates": rates(base, lambda o: S.CosineAnnealingLR(o, T_max=8, eta_min=0.05 * base), 9)},
        # Sinapse's warm-up over w positions is α₀·(j+1)/w: LinearLR from 1/w to 1 over w−1 steps.
        {"name": "warmup_constant", "warmup": 4,
         "rates": rates(base, lambda o: S.LinearLR(o, start_factor=1 / 4, end_factor=1.0, total_iters=3), 10)},
        {"name": "warmup_cosine", "warmup": 3, "t_max": 6,
         "rates": rates(base, lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=1 / 3, end_factor=1.0, total_iters=2),
                                                           S.CosineAnnealingLR(o, T_max=6)], milestones=[3]), 10)},
    ]
    write("schedules.json", {**header(__file__), "base_rate": base, "cases": cases})


if __name__ == "__main__":
    torch.set_default_dtype(torch.float64)
    trajectories()
    clipping()
    schedules()
