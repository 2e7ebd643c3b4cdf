/**
 * `fitgrid bench --cnn`: the conv engine against a plain one-thread PyTorch loop, per epoch, on
 * the two CNN workloads of the image grids, with and without remedies, measured side by side in
 * one run. PyTorch runs when `python3` with torch is installed (Debian's python3-torch); else the
 * last figures measured on the project's machine are quoted with their date.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadDigits } from '../data/digits.ts';
import { loadIdx } from '../data/idx-dataset.ts';
import type { Dataset } from '../data/types.ts';
import type { Augmentation, ModelSpec, Trial } from '../records/config.ts';
import { planTrainings } from '../train/replay.ts';
import { initialWeights } from '../train/init.ts';
import { trainConv, type ConvJob } from '../train/conv/trainer.ts';

const FASHION = '/usr/share/datasets/fashion-mnist';
const REMEDIES: { dropout: number; augmentation: Augmentation } = { dropout: 0.3, augmentation: { shift: 0.1, rotation: 10, zoom: 0.1 } };

/**
 * PyTorch 1.13.1 (Debian python3-torch), one thread, CPU ms per epoch (mean of 4), measured with
 * `fitgrid bench --cnn --epochs 4` on the project's 2-core machine while other jobs shared it.
 */
const PYTORCH_QUOTED = { date: '2026-12-03', digits: { plain: 39.9, augmented: 44.3 }, fashion: { plain: 833.4, augmented: 1114.1 } };

export interface CnnWorkload {
  name: 'digits' | 'fashion';
  description: string;
  data: Dataset;
  learningRate: number;
  dense: number;
}

interface CnnBenchRow {
  workload: string;
  variant: 'plain' | 'augmented';
  fitgridMs: number;
  pytorchMs: number | null;
  /** PyTorch's time over fitgrid's: above 1, fitgrid is faster. */
  ratio: number | null;
}

export interface CnnBenchReport {
  epochs: number;
  rows: CnnBenchRow[];
  pytorch: { source: 'measured' | 'quoted'; detail: string };
}

/** 28×28 images of ten classes, shaped like Fashion-MNIST, for machines without the package: a class's bar at its angle, noise. */
function fashionShaped(train: number, val: number): Dataset {
  let s = 7;
  const r = () => (s = (s * 16807) % 2147483647) / 2147483647;
  const image = (c: number) => Array.from({ length: 784 }, (_, k) => {
    const [y, x] = [Math.floor(k / 28) - 13.5, (k % 28) - 13.5];
    const a = (c * Math.PI) / 10;
    return Math.min(1, Math.max(0, (Math.abs(x * Math.sin(a) - y * Math.cos(a)) < 3 ? 0.8 : 0.1) + 0.2 * (r() - 0.5)));
  });
  const split = (n: number) => {
    const y = Array.from({ length: n }, (_, i) => i % 10);
    return { x: y.map(image), y };
  };
  const names = Array.from({ length: 10 }, (_, c) => String(c));
  return { featureNames: [], classNames: names, inputShape: [28, 28, 1], train: split(train), val: split(val) };
}

/** The two workloads: 300 of the 8×8 digits (449 validate), and 1,000/1,000 Fashion-MNIST images (or images shaped like them). */
async function cnnWorkloads(): Promise<CnnWorkload[]> {
  const digits = await loadDigits({ trainSize: 300, classes: null, split: { kind: 'fraction', trainFraction: 0.75, stratify: true, seed: 0 } });
  let fashion: Dataset;
  let what: string;
  if (existsSync(path.join(FASHION, 't10k-labels-idx1-ubyte.gz'))) {
    const read = (name: string) => readFile(path.join(FASHION, name));
    const file = (p: string) => ({ path: p, sha256: '' });
    const spec = {
      kind: 'idx' as const, images: file(''), labels: file(''), trainSize: 1000, split: null, classNames: null,
      val: { images: file(''), labels: file(''), size: 1000 },
    };
    const places = { images: {}, labels: {}, valImages: {}, valLabels: {} };
    fashion = loadIdx(spec, {
      images: await read('train-images-idx3-ubyte.gz'), labels: await read('train-labels-idx1-ubyte.gz'),
      valImages: await read('t10k-images-idx3-ubyte.gz'), valLabels: await read('t10k-labels-idx1-ubyte.gz'),
    }, places);
    what = 'Fashion-MNIST 28×28, 1,000 train / 1,000 val';
  } else {
    fashion = fashionShaped(1000, 1000);
    what = '28×28 images shaped like Fashion-MNIST (package absent), 1,000 train / 1,000 val';
  }
  return [
    { name: 'digits', description: '8×8 digits, 300 train / 449 val, Adam 3e-3', data: digits, learningRate: 3e-3, dense: 64 },
    { name: 'fashion', description: `${what}, Adam 1e-3`, data: fashion, learningRate: 1e-3, dense: 64 },
  ];
}

function benchTrial(w: CnnWorkload, epochs: number, remedies: boolean): Trial {
  const model: ModelSpec = { kind: 'cnn', blocks: [{ filters: 16, kernel: 3, pool: 2 }, { filters: 32, kernel: 3, pool: 2 }], dense: [w.dense], activation: 'relu' };
  return {
    trialId: `bench-${w.name}`, cellId: `bench-${w.name}`, seed: 0, replicate: null,
    config: {
      data: { kind: 'digits', trainSize: null, classes: null, split: { kind: 'first', train: 1 } },
      model,
      train: {
        epochs, batchSize: 32, shuffle: true, minDelta: 0, restoreBest: true, engine: 'conv',
        optimizer: { kind: 'adam', learningRate: w.learningRate, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 },
      },
      l2: 0, dropout: remedies ? REMEDIES.dropout : 0, augmentation: remedies ? REMEDIES.augmentation : null, patience: null,
    },
  };
}

/**
 * CPU milliseconds per epoch of the conv kernel on this thread, the mean over `epochs` epochs after
 * a one-epoch warm-up run. CPU time, on both sides: on a shared machine wall time measures the
 * other jobs too, and unequally for short and long epochs.
 */
export function timeConv(w: CnnWorkload, epochs: number, remedies: boolean): number {
  const job = (e: number): ConvJob => {
    const trial = benchTrial(w, e, remedies);
    const D = w.data.inputShape.reduce((a, b) => a * b, 1);
    const valX = new Float32Array(w.data.val.x.length * D);
    w.data.val.x.forEach((row, i) => valX.set(row, i * D));
    return {
      trial, training: planTrainings([trial])[0], inputShape: w.data.inputShape, classes: w.data.classNames.length,
      train: w.data.train, valX, valY: w.data.val.y,
      weights: Float32Array.from(initialWeights(trial, w.data).flatMap((a) => Array.from(a))),
    };
  };
  trainConv(job(1));
  const cpu = () => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  };
  let start = 0;
  let end = 0;
  // from the end of the first epoch to the end of the last: the final predictions are not an epoch's
  trainConv(job(epochs + 1), (epoch) => {
    if (epoch === 1) start = cpu();
    if (epoch === epochs + 1) end = cpu();
  });
  return (end - start) / epochs;
}

/** PyTorch's ms per epoch on the same images, or null when python3 with torch is not installed. */
async function timePytorch(w: CnnWorkload, epochs: number): Promise<{ plain: number; augmented: number; torch: string } | null> {
  const dir = await mkdtemp(path.join(tmpdir(), 'fitgrid-cnn-bench-'));
  try {
    const file = path.join(dir, 'data.json');
    await writeFile(file, JSON.stringify({
      shape: w.data.inputShape, classes: w.data.classNames.length, dense: w.dense, learningRate: w.learningRate, batchSize: 32,
      train: { x: w.data.train.x.flat(), y: w.data.train.y }, val: { x: w.data.val.x.flat(), y: w.data.val.y },
    }));
    const script = new URL('./references/pytorch_cnn.py', import.meta.url).pathname;
    for (const python of ['/usr/bin/python3', 'python3']) {
      try {
        const { stdout } = await promisify(execFile)(python, [script, file, String(epochs + 1)], { env: { ...process.env, OMP_NUM_THREADS: '1' }, maxBuffer: 1 << 20 });
        return JSON.parse(stdout.trim().split('\n').at(-1)!);
      } catch {
        // this python has no torch (or is absent): try the next
      }
    }
    return null;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function runCnnBench(options: { epochs?: number; log?: (line: string) => void } = {}): Promise<CnnBenchReport> {
  const epochs = options.epochs ?? 5;
  const rows: CnnBenchRow[] = [];
  let measured: string | null = null;
  for (const w of await cnnWorkloads()) {
    options.log?.(`${w.name}: ${w.description}`);
    const torch = await timePytorch(w, epochs);
    if (torch) measured = `PyTorch ${torch.torch}, one thread, measured now`;
    for (const variant of ['plain', 'augmented'] as const) {
      const fitgridMs = timeConv(w, epochs, variant === 'augmented');
      const pytorchMs = torch ? torch[variant] : PYTORCH_QUOTED[w.name][variant] || null;
      rows.push({ workload: w.name, variant, fitgridMs, pytorchMs, ratio: pytorchMs ? pytorchMs / fitgridMs : null });
      options.log?.(`  ${variant}: fitgrid ${fitgridMs.toFixed(1)} ms/epoch, PyTorch ${pytorchMs?.toFixed(1) ?? '?'} ms/epoch`);
    }
  }
  return {
    epochs, rows,
    pytorch: measured ? { source: 'measured', detail: measured } : { source: 'quoted', detail: `PyTorch 1.13.1 one thread, measured ${PYTORCH_QUOTED.date} on the project's 2-core machine (python3 with torch not found here)` },
  };
}

export function formatCnnBench(report: CnnBenchReport): string {
  const lines = [
    `CNN training, CPU ms per epoch (mean of ${report.epochs} after a warm-up; one thread each; ${report.pytorch.detail})`,
    'workload  variant                        fitgrid conv   PyTorch   PyTorch / fitgrid',
  ];
  for (const r of report.rows) {
    const variant = r.variant === 'plain' ? 'no remedy' : 'dropout 0.3 + augmentation';
    lines.push(`${r.workload.padEnd(8)}  ${variant.padEnd(29)}  ${r.fitgridMs.toFixed(1).padStart(12)}  ${(r.pytorchMs?.toFixed(1) ?? '—').padStart(8)}   ${r.ratio ? `${r.ratio.toFixed(2)}×` : '—'}`);
  }
  return `${lines.join('\n')}\n`;
}
