/** Types of kernel.mjs (plain JS so that worker threads need no TypeScript loader). */
export interface KernelJob {
  /** Integer configuration in kernel.c's C_* order. */
  cfg: Int32Array;
  /** Real configuration in kernel.c's F_* order. */
  fcfg: Float64Array;
  /** The group's patience values, −1 for none. */
  patience: Int32Array;
  xTrain: Float32Array;
  yTrain: Int32Array;
  xVal: Float32Array;
  yVal: Int32Array;
  /** Initial weights, flat: [kernel (in×out, row-major), bias] per layer, input to output. */
  weights: Float32Array;
  /** Rows to predict at each patience value's kept weights. */
  predict?: { train: Float32Array; val: Float32Array; surface?: Float32Array | null };
}

export interface KernelProba { train: Float32Array; val: Float32Array; surface: Float32Array | null }

export interface KernelResult {
  epochsRun: number;
  /** 4 × epochs: loss, val_loss, acc, val_acc; the first epochsRun of each are filled. */
  history: Float32Array;
  /** Per patience value: stoppedEpoch, bestEpoch. */
  stops: Int32Array;
  /** Per patience value: the kept weights. */
  kept: Float32Array[];
  proba: (KernelProba | null)[];
}

export interface Kernel {
  weightCount(cfg: Int32Array): number;
  trainGroup(job: KernelJob): KernelResult;
  predict(cfg: Int32Array, weights: Float32Array, x: Float32Array): Float32Array;
}

/** The build createKernel() uses by default: plain SIMD128, or relaxed SIMD with FITGRID_KERNEL=relaxed where the runtime runs it. */
export const kernelVariant: 'relaxed' | 'plain';

export function createKernel(options?: { poison?: boolean; variant?: 'relaxed' | 'plain' }): Kernel;
