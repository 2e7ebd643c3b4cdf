import type { DataSpec, ModelSpec, TrainSpec } from '../records/config.ts';

/**
 * Ceilings on every size a grid file sets, checked by loadGrid before anything is allocated or
 * trained: a typo such as `seeds: 1000000000` must be one line and exit 2, not an out-of-memory
 * abort or a sweep of permanently failing trials. A grid that is genuinely this large raises
 * them in its own `limits:` section, where a reader of the file sees it.
 */
export interface Limits {
  /** Trials in the sweep: (axis combinations + includes) × seeds × bootstrap resamples. */
  trials: number;
  seeds: number;
  bootstrap: number;
  /** Points of a synthetic dataset (moons, circles). */
  samples: number;
  /** Units of any one layer: hidden and dense units, convolution filters. */
  units: number;
  epochs: number;
  /** Estimated memory of one trial in MiB (see estimateTrialMiB). */
  memoryMiB: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  trials: 100_000,
  seeds: 1_000,
  bootstrap: 1_000,
  samples: 1_000_000,
  units: 10_000,
  epochs: 100_000,
  memoryMiB: 4_096,
});

/** What a data file contributes to the estimate: its size and, for a CSV, its header's columns. */
export interface DataFileShape { bytes: number; columns: number }

const MIB = 1024 * 1024;

/**
 * A rough upper estimate of one trial's memory: the dataset as float64 (a CSV parses to at most
 * four times its bytes), the weights four times over (weights, gradients, Adam's two moments,
 * float32), one batch's activations kept for the backward pass, and the per-epoch history.
 */
export function estimateTrialMiB(data: DataSpec, model: ModelSpec, train: TrainSpec, file?: DataFileShape): number {
  let inputs = 0;
  let dataBytes = 0;
  let side: [number, number, number] | undefined;
  if (data.kind === 'moons' || data.kind === 'circles') {
    inputs = 2;
    dataBytes = data.samples * 3 * 8;
  } else if (data.kind === 'digits') {
    inputs = 64;
    side = [8, 8, 1];
    dataBytes = 1797 * 65 * 8;
  } else if (data.kind === 'images') {
    inputs = data.width * data.height * data.channels;
    side = [data.height, data.width, data.channels];
  } else if (data.kind === 'csv') {
    inputs = Math.max(0, (file?.columns ?? 1) - 1);
  }
  if (file) dataBytes = Math.max(dataBytes, 4 * file.bytes);

  let params = 0;
  let activations = 0;
  let width = inputs;
  if (model.kind === 'cnn' && side) {
    let [h, w, channels] = side;
    for (const block of model.blocks) {
      params += block.kernel * block.kernel * channels * block.filters + block.filters;
      activations += h * w * block.filters;
      channels = block.filters;
      h = Math.max(1, Math.floor(h / block.pool));
      w = Math.max(1, Math.floor(w / block.pool));
    }
    width = h * w * channels;
  }
  for (const units of model.kind === 'mlp' ? model.hidden : model.dense) {
    params += (width + 1) * units;
    activations += units;
    width = units;
  }
  params += width + 1;
  const bytes = dataBytes + params * 4 * 4 + train.batchSize * activations * 4 * 3 + train.epochs * 4 * 8;
  return bytes / MIB;
}

/** The widest layer a model names: units of hidden and dense layers, filters of conv blocks. */
export function widestLayer(model: ModelSpec): number {
  const widths = model.kind === 'mlp' ? model.hidden : [...model.dense, ...model.blocks.map((b) => b.filters)];
  return Math.max(0, ...widths);
}

/** The message for a size above its ceiling, saying how to raise it. */
export function overLimit(name: keyof Limits, what: string, value: number, limit: number): string {
  const n = (x: number) => x.toLocaleString('en-US', { maximumFractionDigits: 1 });
  return `${what} is ${n(value)}, above the ceiling of ${n(limit)}; if the sweep is meant to be this large, raise it with \`limits: { ${name}: N }\` in the grid file`;
}
