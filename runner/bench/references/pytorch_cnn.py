#!/usr/bin/python3
# Run with Debian's python (apt-get install -y python3-torch): /usr/bin/python3 runner/bench/references/pytorch_cnn.py DATA.json [epochs]
"""
The PyTorch reference loop for `fitgrid bench --cnn`: the CNN of grids/digits-augment.yaml and
grids/fashion-augment.yaml (conv 16 + pool, conv 32 + pool, dense, softmax), trained the plain
way, one thread, batch by batch with a validation pass every epoch, on the very images fitgrid
trains on (DATA.json, written by runner/bench/cnn.ts). Two variants: no remedy, and
dropout 0.3 after each block and the dense layer with image augmentation (random rotation,
shift and zoom drawn per image each epoch and applied with affine_grid + grid_sample, which is
what torchvision's RandomAffine does). Prints one JSON line: CPU milliseconds per epoch.
"""
import json
import math
import sys
import time

import torch
import torch.nn.functional as F

torch.set_num_threads(1)
spec = json.load(open(sys.argv[1]))
epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
h, w, c = spec["shape"]
xt = torch.tensor(spec["train"]["x"], dtype=torch.float32).reshape(-1, h, w, c).permute(0, 3, 1, 2).contiguous()
yt = torch.tensor(spec["train"]["y"], dtype=torch.long)
xv = torch.tensor(spec["val"]["x"], dtype=torch.float32).reshape(-1, h, w, c).permute(0, 3, 1, 2).contiguous()
yv = torch.tensor(spec["val"]["y"], dtype=torch.long)
classes, dense, lr, batch = spec["classes"], spec["dense"], spec["learningRate"], spec["batchSize"]


def model(rate):
    flat = (h // 4) * (w // 4) * 32
    return torch.nn.Sequential(
        torch.nn.Conv2d(c, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Dropout(rate),
        torch.nn.Conv2d(16, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Dropout(rate),
        torch.nn.Flatten(), torch.nn.Linear(flat, dense), torch.nn.ReLU(), torch.nn.Dropout(rate),
        torch.nn.Linear(dense, classes))


def augment(x, rotation=10.0, shift=0.1, zoom=0.1):
    n = x.shape[0]
    theta = (torch.rand(n) * 2 - 1) * rotation * math.pi / 180
    zx, zy = 1 + (torch.rand(n) * 2 - 1) * zoom, 1 + (torch.rand(n) * 2 - 1) * zoom
    tx, ty = (torch.rand(n) * 2 - 1) * shift * 2, (torch.rand(n) * 2 - 1) * shift * 2
    cos, sin = torch.cos(theta), torch.sin(theta)
    m = torch.stack([torch.stack([cos * zx, -sin * zy, tx], 1), torch.stack([sin * zx, cos * zy, ty], 1)], 1)
    grid = F.affine_grid(m, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def run(rate, aug):
    torch.manual_seed(0)
    net = model(rate)
    opt = torch.optim.Adam(net.parameters(), lr=lr, eps=1e-7)
    times = []
    for epoch in range(epochs):
        started = time.process_time()
        net.train()
        x = augment(xt) if aug else xt
        order = torch.randperm(len(x))
        for i in range(0, len(x), batch):
            rows = order[i:i + batch]
            opt.zero_grad()
            loss = F.cross_entropy(net(x[rows]), yt[rows])
            loss.backward()
            opt.step()
        net.eval()
        with torch.no_grad():
            val = F.cross_entropy(net(xv), yv).item()
        times.append(time.process_time() - started)
    # CPU time, as fitgrid's side reports it: on a shared machine wall time measures the other jobs;
    # the first epoch pays PyTorch's warm-up
    steady = times[1:] or times
    return 1000 * sum(steady) / len(steady)


print(json.dumps({"plain": run(0.0, False), "augmented": run(0.3, True), "torch": torch.__version__, "threads": torch.get_num_threads()}))
