/**
 * Grid G (grids/moons-sweep.yaml, 216 trials, 4000 epochs) as one pack through the fused engine
 * in this process: wall and CPU seconds, peak RSS. Usage:
 *   FITGRID_THREADS=2 npx tsx runner/bench/native/seed-grid.ts [grid.yaml] [epochs]
 */
import { loadGrid } from '../../grid/load.ts';
import { expandGrid } from '../../grid/expand.ts';
import { makeMoons } from '../../data/synthetic.ts';
import type { Dataset } from '../../data/types.ts';
import { trainPackFused } from '../../train/fused/index.ts';
import { threadCount } from '../../train/fused/pool.ts';

const grid = await loadGrid(process.argv[2] ?? 'grids/moons-sweep.yaml');
if (grid.data.kind !== 'moons' || grid.data.split.kind !== 'first') throw new Error('this bench builds moons data with a first-N split only');
const epochs = Number(process.argv[3] ?? grid.train.epochs);
const trials = expandGrid(grid).map((t) => ({ ...t, config: { ...t.config, train: { ...t.config.train, epochs } } }));
const { X, y } = makeMoons({ samples: grid.data.samples, noise: grid.data.noise, randomState: grid.data.randomState, shuffle: grid.data.shuffle });
const n = grid.data.split.train;
const data: Dataset = { featureNames: ['x0', 'x1'], classNames: ['0', '1'], inputShape: [2],
  train: { x: X.slice(0, n), y: y.slice(0, n) }, val: { x: X.slice(n), y: y.slice(n) } };

let peak = 0;
const sample = () => { peak = Math.max(peak, process.memoryUsage().rss); };
const timer = setInterval(sample, 20);
const c0 = process.cpuUsage();
const t0 = performance.now();
const results = await trainPackFused(trials, data, { sweep: grid.name });
const wall = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(c0);
clearInterval(timer);
sample();
const trainedEpochs = new Map<string, number>();
for (const r of results) {
  const key = JSON.stringify([{ ...r.config, patience: null }, r.seed, r.replicate]);
  trainedEpochs.set(key, Math.max(trainedEpochs.get(key) ?? 0, r.stoppedEpoch));
}
const trialEpochs = [...trainedEpochs.values()].reduce((a, b) => a + b, 0);
console.log(JSON.stringify({
  trials: results.length, trainings: trainedEpochs.size, threads: threadCount(), epochs,
  wallSeconds: +wall.toFixed(2), cpuSeconds: +((cpu.user + cpu.system) / 1e6).toFixed(2),
  usPerTrainedEpoch: +((wall * 1e6 * threadCount()) / trialEpochs).toFixed(1),
  peakRssMiB: +(peak / 2 ** 20).toFixed(1),
  statuses: results.reduce<Record<string, number>>((m, r) => ({ ...m, [r.status]: (m[r.status] ?? 0) + 1 }), {}),
}));
