// The benchmark workload W (the seed's moons problem shape) as a kernel job, with deterministic inputs.
export function workloadW(epochs, dropout = 0, jitter = 0, hidden = 500) {
  let s = 12345;
  const rand = () => ((s = (s * 1103515245 + 12345) >>> 0) / 4294967296);
  const moons = (n) => {
    const x = new Float32Array(2 * n), y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const c = i % 2, t = Math.PI * rand();
      x[2 * i] = (c ? 1 - Math.cos(t) : Math.cos(t)) + 0.2 * (rand() - 0.5);
      x[2 * i + 1] = (c ? 0.5 - Math.sin(t) : Math.sin(t)) + 0.2 * (rand() - 0.5);
      y[i] = c;
    }
    return { x, y };
  };
  const tr = moons(30), va = moons(70);
  const nw = 2 * hidden + hidden + hidden + 1;
  const weights = new Float32Array(nw);
  const lim0 = Math.sqrt(6 / (2 + hidden)), lim1 = Math.sqrt(6 / (hidden + 1));
  for (let i = 0; i < 2 * hidden; i++) weights[i] = (2 * rand() - 1) * lim0;
  for (let i = 0; i < hidden; i++) weights[3 * hidden + i] = (2 * rand() - 1) * lim1;
  // cfg: in, out, hidden layers, act, ntrain, nval, batch, epochs, opt, shuffle, npatience, restore, seedLo, seedHi, widths...
  const cfg = Int32Array.from([2, 1, 1, 0, 30, 70, 32, epochs, 0, 1, 1, 1, 7, 0, hidden]);
  // fcfg: lr, beta1, beta2, epsilon, momentum, l2, jitter, minDelta, scale, rotation, dropout...
  const fcfg = Float64Array.from([1e-3, 0.9, 0.999, 1e-7, 0, 0, jitter, 0, 0, 0, dropout]);
  const fwd = (n) => n * (2 * 2 * hidden + 2 * hidden + 2 * hidden);
  // forward train + val, backward (two weight gradients, one input delta), Adam ≈ 12 flops per weight
  const flopsPerEpoch = fwd(30) + fwd(70) + 30 * (2 * 2 * hidden + 2 * hidden + 2 * hidden) + 12 * nw;
  return { cfg, fcfg, patience: Int32Array.from([-1]), xTrain: tr.x, yTrain: tr.y, xVal: va.x, yVal: va.y, weights, flopsPerEpoch };
}
