import type { Trial } from '../records/config.ts';
import type { Dataset } from '../data/types.ts';
import { makeMoons } from '../data/synthetic.ts';
import { streamFor, type Stream } from '../data/random/streams.ts';
import { planTrainings } from '../train/replay.ts';
import { trainingSet } from '../train/result.ts';
import { epochFlops } from '../train/flops.ts';
import { kernelJob } from '../train/fused/jobs.ts';
import { createKernel } from '../train/fused/kernel.mjs';

/**
 * The workloads `fitgrid bench --suite` times, each once without and once with dropout, per
 * core: one thread in one process, in fitgrid and in a PyTorch reference loop (references/suite.py).
 * A workload is a descriptor: more (the CNN engine's) are appended to `suiteWorkloads`.
 */
export interface SuiteWorkload {
  /** Short name: the table's first column and the JSON key. */
  name: string;
  /** What trains, in words (shape, rows, batch, optimizer). */
  shape: string;
  /** The "with dropout" variant's rate (after every hidden layer, or block). */
  dropout: number;
  /** Epochs one timed repetition runs; `quick` for `--quick`. */
  epochs: { full: number; quick: number };
  /** Floating-point work of one epoch (a floor: see epochFlops). */
  flopsPerEpoch: number;
  /** fitgrid's figures for one variant: the fastest of `reps` repetitions, after an untimed warm-up. */
  fitgrid(run: SuiteRun): Timing;
  /** What references/suite.py trains for this workload (one JSON line, plus dropout, epochs, reps). */
  pytorch: Record<string, unknown>;
  /** The last PyTorch figures (CPU ms per epoch, median of three suite runs on the project's 2-core machine), quoted when no python3 with torch is found. */
  measured: { plain: number; dropout: number; date: string; torch: string };
}

interface SuiteRun { dropout: number; epochs: number; reps: number }

/** Milliseconds per epoch of the fastest repetition: CPU time of the process (one busy thread) and wall time. */
export interface Timing { cpuMs: number; wallMs: number }

/** Times `once` (a full repetition of `epochs` epochs) `reps` times: the least disturbed repetition counts. */
function fastest(once: () => void, epochs: number, reps: number): Timing {
  let cpuMs = Infinity;
  let wallMs = Infinity;
  for (let r = 0; r < reps; r++) {
    const cpu = process.cpuUsage();
    const started = performance.now();
    once();
    const wall = performance.now() - started;
    const used = process.cpuUsage(cpu);
    cpuMs = Math.min(cpuMs, (used.user + used.system) / 1000 / epochs);
    wallMs = Math.min(wallMs, wall / epochs);
  }
  return { cpuMs, wallMs };
}

/**
 * Runs `once` for a second at least: V8 first runs WebAssembly from a baseline compiler and
 * replaces hot functions with optimised code on a background thread, whose time would otherwise
 * land in the first timed repetition.
 */
function warmUp(once: () => void, ms = 1000): void {
  const started = performance.now();
  do once(); while (performance.now() - started < ms);
}

interface MlpShape {
  name: string;
  shape: string;
  hidden: number[];
  batchSize: number;
  dropout: number;
  epochs: { full: number; quick: number };
  data: () => Dataset;
  measured: SuiteWorkload['measured'];
}

/** An MLP workload trained by the fused kernel in this thread, from the job the fused engine would send. */
function mlpWorkload(s: MlpShape): SuiteWorkload {
  let data: Dataset | undefined;
  const dataset = () => (data ??= s.data());
  const trialFor = (dropout: number, epochs: number): Trial => ({
    trialId: `suite-${s.name}`, cellId: `suite-${s.name}`, seed: 0, replicate: null,
    config: {
      // the data spec only names the trial: the kernel is handed the workload's rows
      data: { kind: 'moons', samples: 0, noise: 0, randomState: 0, shuffle: false, split: { kind: 'first', train: 0 } },
      model: { kind: 'mlp', hidden: s.hidden, activation: 'relu' },
      train: { epochs, batchSize: s.batchSize, optimizer: { kind: 'adam', learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 },
        shuffle: true, minDelta: 0, restoreBest: true, engine: 'fused' },
      l2: 0, dropout, augmentation: null, patience: null,
    },
  });
  const features = (d: Dataset) => d.inputShape.reduce((a, b) => a * b, 1);
  const classes = (d: Dataset) => d.classNames.length;
  return {
    name: s.name, shape: s.shape, dropout: s.dropout, epochs: s.epochs,
    get flopsPerEpoch() { return epochFlops(trialFor(0, 1), dataset()); },
    fitgrid({ dropout, epochs, reps }) {
      const d = dataset();
      const kernel = createKernel();
      const jobFor = (n: number) => {
        const trial = trialFor(dropout, n);
        // predictions at the kept weights are result building, not training: left out
        return { ...kernelJob(trial, planTrainings([trial])[0], d, trainingSet(trial, d), undefined), predict: undefined };
      };
      warmUp(() => kernel.trainGroup(jobFor(Math.min(epochs, 3))));
      const job = jobFor(epochs);
      return fastest(() => kernel.trainGroup(job), epochs, reps);
    },
    get pytorch() {
      const d = dataset();
      const outputs = classes(d) > 2 ? classes(d) : 1;
      return { kind: 'mlp', layers: [features(d), ...s.hidden, outputs], train: d.train.y.length, val: d.val.y.length, batch: s.batchSize, lr: 1e-3 };
    },
    measured: s.measured,
  };
}

/** Rows of standard normal features and labels from `label`. */
function gaussianRows(n: number, features: number, rng: Stream, label: (x: number[]) => number) {
  const x = Array.from({ length: n }, () => Array.from({ length: features }, () => rng.gaussian()));
  return { x, y: x.map(label) };
}

/** Breast-cancer-shaped: 30 standardised features, 170 training and 398 validation rows, a noisy linear boundary. */
function tabularData(): Dataset {
  const rng = streamFor(7, 'bench-suite-tabular');
  const w = Array.from({ length: 30 }, () => rng.uniform() - 0.5);
  const label = (x: number[]) => (x.reduce((s, v, i) => s + v * w[i], 0) + 0.3 * (rng.uniform() - 0.5) > 0 ? 1 : 0);
  const rows = gaussianRows(568, 30, rng, label);
  return {
    featureNames: Array.from({ length: 30 }, (_, i) => `f${i}`), classNames: ['0', '1'], inputShape: [30],
    train: { x: rows.x.slice(0, 170), y: rows.y.slice(0, 170) }, val: { x: rows.x.slice(170), y: rows.y.slice(170) },
  };
}

/** MNIST-shaped: 784 pixels in [0, 1), 10 classes, 1,000 training and 1,000 validation rows. */
function wideData(): Dataset {
  const rng = streamFor(11, 'bench-suite-wide');
  const rows = Array.from({ length: 2000 }, (_, r) => Array.from({ length: 784 }, (_, i) => ((i + r) % 7 === 0 ? 0 : rng.uniform())));
  const y = rows.map((_, r) => r % 10);
  return {
    featureNames: Array.from({ length: 784 }, (_, i) => `p${i}`), classNames: Array.from({ length: 10 }, (_, c) => `${c}`), inputShape: [784],
    train: { x: rows.slice(0, 1000), y: y.slice(0, 1000) }, val: { x: rows.slice(1000), y: y.slice(1000) },
  };
}

/** The seed's data: grids/moons-sweep.yaml's make_moons(100, noise 0.2, random_state 1), the first 30 rows training. */
function moonsData(): Dataset {
  const { X, y } = makeMoons({ samples: 100, noise: 0.2, randomState: 1 });
  return { featureNames: ['x0', 'x1'], classNames: ['0', '1'], inputShape: [2],
    train: { x: X.slice(0, 30), y: y.slice(0, 30) }, val: { x: X.slice(30), y: y.slice(30) } };
}

export const suiteWorkloads: SuiteWorkload[] = [
  mlpWorkload({
    name: 'seed', shape: '2→500→1 ReLU, 30 train + 70 val rows, full batch, Adam', hidden: [500], batchSize: 32, dropout: 0.5,
    epochs: { full: 2000, quick: 200 }, data: moonsData,
    measured: { plain: 0.601, dropout: 0.969, date: '2026-12-03', torch: '1.13' },
  }),
  mlpWorkload({
    name: 'tabular', shape: '30→256→256→1 ReLU, 170 train + 398 val rows, batch 32, Adam', hidden: [256, 256], batchSize: 32, dropout: 0.5,
    epochs: { full: 40, quick: 6 }, data: tabularData,
    measured: { plain: 15.8, dropout: 14.8, date: '2026-12-03', torch: '1.13' },
  }),
  mlpWorkload({
    name: 'wide', shape: '784→512→512→10 ReLU + softmax, 1,000 train + 1,000 val rows, batch 32, Adam', hidden: [512, 512], batchSize: 32, dropout: 0.5,
    epochs: { full: 4, quick: 1 }, data: wideData,
    measured: { plain: 207, dropout: 203, date: '2026-12-03', torch: '1.13' },
  }),
];
