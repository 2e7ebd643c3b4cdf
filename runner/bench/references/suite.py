#!/usr/bin/env python3
"""
PyTorch reference loops for `fitgrid bench --suite`: each workload trained as a PyTorch user
would write it, on one thread, timed per epoch. Reads one JSON workload per line on stdin and
answers one JSON line each:

    {"kind": "mlp", "layers": [30, 256, 256, 1], "train": 170, "val": 398, "batch": 32,
     "lr": 0.001, "dropout": 0.5, "epochs": 40, "reps": 3}
    -> {"cpuMs": ..., "wallMs": ...}   (per epoch, the fastest repetition, after a warm-up)

An epoch is what fitgrid's is: a shuffled pass of minibatch steps (Adam), the training loss and
accuracy accumulated, then the validation loss and accuracy in eval mode. `--probe` prints the
torch version and exits 0 when torch imports, so the caller can find a python that has it.
Synthetic data of the workload's shapes: the values do not change the work.
"""
import json
import os
import sys
import time

# one thread for every library torch may call into, before torch loads them
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

import torch  # noqa: E402

torch.set_num_threads(1)
torch.set_num_interop_threads(1)


def mlp_loop(spec):
    layers, dropout = spec["layers"], spec["dropout"]
    torch.manual_seed(0)
    modules = []
    for i in range(len(layers) - 2):
        modules += [torch.nn.Linear(layers[i], layers[i + 1]), torch.nn.ReLU()]
        if dropout > 0:
            modules.append(torch.nn.Dropout(dropout))
    modules.append(torch.nn.Linear(layers[-2], layers[-1]))
    model = torch.nn.Sequential(*modules)
    opt = torch.optim.Adam(model.parameters(), lr=spec["lr"], eps=1e-7)
    binary = layers[-1] == 1
    classes = 2 if binary else layers[-1]
    xt, xv = torch.randn(spec["train"], layers[0]), torch.randn(spec["val"], layers[0])
    yt, yv = torch.randint(0, classes, (spec["train"],)), torch.randint(0, classes, (spec["val"],))
    if binary:
        loss_fn = torch.nn.BCEWithLogitsLoss()
        yt, yv = yt.float().unsqueeze(1), yv.float().unsqueeze(1)
        correct = lambda logits, y: ((logits > 0).float() == y).sum().item()  # noqa: E731
    else:
        loss_fn = torch.nn.CrossEntropyLoss()
        correct = lambda logits, y: (logits.argmax(1) == y).sum().item()  # noqa: E731
    batch, n = spec["batch"], spec["train"]

    def epoch():
        model.train()
        order = torch.randperm(n)
        total, right = 0.0, 0
        for start in range(0, n, batch):
            idx = order[start:start + batch]
            opt.zero_grad()
            logits = model(xt[idx])
            loss = loss_fn(logits, yt[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
            right += correct(logits.detach(), yt[idx])
        model.eval()
        with torch.no_grad():
            logits = model(xv)
            loss_fn(logits, yv).item()
            correct(logits, yv)

    return epoch


def timed(spec):
    if spec.get("kind") != "mlp":
        raise ValueError(f"no reference loop for workload kind {spec.get('kind')!r}")
    epoch = mlp_loop(spec)
    for _ in range(min(3, spec["epochs"])):
        epoch()
    cpu_ms, wall_ms = float("inf"), float("inf")
    for _ in range(spec["reps"]):
        c0, w0 = time.process_time(), time.perf_counter()
        for _ in range(spec["epochs"]):
            epoch()
        cpu_ms = min(cpu_ms, 1000 * (time.process_time() - c0) / spec["epochs"])
        wall_ms = min(wall_ms, 1000 * (time.perf_counter() - w0) / spec["epochs"])
    return {"cpuMs": cpu_ms, "wallMs": wall_ms}


if __name__ == "__main__":
    if sys.argv[1:] == ["--probe"]:
        print(json.dumps({"torch": torch.__version__}))
        sys.exit(0)
    for line in sys.stdin:
        if line.strip():
            try:
                print(json.dumps(timed(json.loads(line))), flush=True)
            except Exception as e:  # one workload's failure is reported, the others still run
                print(json.dumps({"error": str(e)}), flush=True)
