#!/usr/bin/python3
# Run with Debian's python (apt-get install -y python3-torch): /usr/bin/python3 runner/train/fused/bench/pytorch_loop.py
"""
A sequential PyTorch loop over a few of grid G's trials (2 -> 500 -> 1 ReLU, 30 train / 70 val
moons points, Adam 1e-3, one step per epoch, validation every epoch; dropout, jitter and L2 as in
G), for the fused engine's speed comparison. Prints one JSON line: milliseconds per trial-epoch.

    python3 runner/train/fused/bench/pytorch_loop.py [epochs] [trials]
"""
import json
import math
import sys
import time

import numpy as np
import torch

epochs = int(sys.argv[1]) if len(sys.argv) > 1 else 300
count = int(sys.argv[2]) if len(sys.argv) > 2 else 4


def make_moons(n, noise, seed):
    # scikit-learn's make_moons (shuffle=False), so no scikit-learn is needed
    rng = np.random.RandomState(seed)
    n_out, n_in = n // 2, n - n // 2
    outer = np.linspace(0, math.pi, n_out)
    inner = np.linspace(0, math.pi, n_in)
    x = np.vstack([np.column_stack([np.cos(outer), np.sin(outer)]),
                   np.column_stack([1 - np.cos(inner), 1 - np.sin(inner) - 0.5])])
    y = np.hstack([np.zeros(n_out), np.ones(n_in)])
    x += rng.normal(scale=noise, size=x.shape)
    order = rng.permutation(n)
    return x[order].astype(np.float32), y[order].astype(np.float32)


x, y = make_moons(100, 0.2, 1)
xt, yt = torch.tensor(x[:30]), torch.tensor(y[:30]).unsqueeze(1)
xv, yv = torch.tensor(x[30:]), torch.tensor(y[30:]).unsqueeze(1)

# (l2, dropout, jitter) cycling over G's axes
configs = [(0.0, 0.0, 0.0), (0.001, 0.5, 0.05), (0.0001, 0.25, 0.0), (0.01, 0.0, 0.05)]
loss_fn = torch.nn.BCEWithLogitsLoss()
per_epoch = []
for k in range(count):
    l2, rate, jitter = configs[k % len(configs)]
    torch.manual_seed(k)
    model = torch.nn.Sequential(torch.nn.Linear(2, 500), torch.nn.ReLU(), torch.nn.Dropout(rate), torch.nn.Linear(500, 1))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    kernels = [model[0].weight, model[3].weight]
    started = time.perf_counter()
    for epoch in range(epochs):
        model.train()
        inputs = xt + jitter * torch.randn_like(xt) if jitter else xt
        opt.zero_grad()
        loss = loss_fn(model(inputs), yt) + l2 * sum((w * w).sum() for w in kernels)
        loss.backward()
        opt.step()
        model.eval()
        with torch.no_grad():
            val_logits = model(xv)
            val_loss = loss_fn(val_logits, yv).item()
            val_acc = ((val_logits > 0).float() == yv).float().mean().item()
        loss.item()
    per_epoch.append((time.perf_counter() - started) / epochs)

print(json.dumps({
    "engine": "pytorch-sequential", "torch": torch.__version__, "threads": torch.get_num_threads(),
    "trials": count, "epochs": epochs, "msPerTrialEpoch": round(1000 * sum(per_epoch) / len(per_epoch), 4),
    "msPerTrialEpochFastest": round(1000 * min(per_epoch), 4),
}))
