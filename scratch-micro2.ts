import { readFileSync } from 'node:fs';
import { cnnWorkloads } from './runner/train/conv/bench.ts';
import { convConfig, convModule } from './runner/train/conv/trainer.ts';
import { initialWeights } from './runner/train/fused/jobs.ts';
const [fashion] = await cnnWorkloads();
const k: any = new WebAssembly.Instance(convModule(), {}).exports;
const trial: any = { seed: 0, replicate: null, config: { model: { kind: 'cnn', blocks: [{ filters: 16, kernel: 3, pool: 2 }, { filters: 32, kernel: 3, pool: 2 }], dense: [64], activation: 'relu' }, train: { batchSize: 32, optimizer: { kind: 'adam', learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 } }, l2: 0, dropout: 0 } };
const { cfg, fcfg } = convConfig({ trial, inputShape: [8, 8, 1], classes: 10 });
k.reset();
const put = (T: any, v: any) => { const p = k.alloc(v.length * T.BYTES_PER_ELEMENT); new T(k.memory.buffer, p, v.length).set(v); return p; };
const c = put(Int32Array, cfg), f = put(Float64Array, fcfg);
const nw = k.setup(c, f);
new Float32Array(k.memory.buffer, k.weights(), nw).set(Float32Array.from(initialWeights(trial, fashion.data).flatMap((w: any) => Array.from(w))));
k.sync();
const x = put(Float32Array, Float32Array.from(fashion.data.train.x.flat()));
const y = put(Int32Array, fashion.data.train.y);
const proba = k.alloc(300 * 10 * 4);
const rows = k.alloc(32 * 4), pt = k.alloc(128), cor = k.alloc(128);
for (let rep = 0; rep < 12; rep++) {
  let t = performance.now();
  k.predict(x, 300, proba);
  const fwd = performance.now() - t;
  t = performance.now();
  for (let b = 0; b < 300; b += 32) { const n = Math.min(32, 300 - b); new Int32Array(k.memory.buffer, rows, n).set(Array.from({ length: n }, (_, i) => b + i)); k.step(x, rows, n, y, 0, pt, cor); }
  const step = performance.now() - t;
  console.log(`predict 300: ${fwd.toFixed(0)} ms; train 300: ${step.toFixed(0)} ms`);
}
