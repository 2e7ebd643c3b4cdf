import type { Placement } from '../../train/train-pack.ts';

/** A set of trials that can share packs (same data, architecture and training spec), as sizing sees it. */
export interface GroupWork {
  placement: Placement;
  /** Trials in the group. */
  trials: number;
  /** Trainings the trials need (patience values of one run share one). */
  runs: number;
  epochs: number;
  /**
   * Estimated seconds of one training-epoch of one run: on one vCPU for CPU groups (runs train
   * side by side, one per thread), on the GPU for GPU groups (runs share the device).
   */
  secondsPerRunEpoch: number;
  /** GPU groups trained as one batched model: device bytes one run adds. Absent when runs train one at a time. */
  deviceBytesPerRun?: number;
}

export interface SizingOptions {
  /** How long a child should train: container start-up is paid once per child. */
  targetSeconds: number;
  /** vCPUs of a CPU child (its threads). */
  cpuVcpus: number;
  /** Device memory a GPU child may fill (a share of the GPU's, leaving room for the framework). */
  gpuBytes: number;
}

export interface GroupSizing {
  /** Most trials in one pack, for planPacks. */
  packSize: number;
  children: number;
  runsPerChild: number;
  /** Estimated training time of the fullest child. */
  childSeconds: number;
}

/**
 * Sizes one group's packs for AWS Batch. A CPU child trains its runs in rounds of one run per
 * vCPU, so it takes whole rounds: as many as fit the target, at least one. A GPU child takes the
 * runs that fit the target and the device memory, at least one. The runs are then spread evenly
 * over the fewest children that hold them, so no child is launched for a sliver of work.
 */
export function sizeGroup(work: GroupWork, options: SizingOptions): GroupSizing {
  const { targetSeconds, cpuVcpus, gpuBytes } = options;
  if (!(targetSeconds > 0)) throw new TypeError(`Expected \`targetSeconds\` to be a number above 0, got ${targetSeconds}`);
  if (!Number.isInteger(cpuVcpus) || cpuVcpus < 1) throw new TypeError(`Expected \`cpuVcpus\` to be an integer from 1 and up, got ${cpuVcpus}`);
  const runs = Math.max(1, work.runs);
  const runSeconds = work.epochs * work.secondsPerRunEpoch;
  const fits = (budget: number) => (runSeconds > 0 ? Math.max(1, Math.floor(budget / runSeconds)) : runs);
  let most: number;
  if (work.placement === 'cpu') {
    most = cpuVcpus * fits(targetSeconds);
  } else {
    const byMemory = work.deviceBytesPerRun ? Math.max(1, Math.floor(gpuBytes / work.deviceBytesPerRun)) : Infinity;
    most = Math.min(fits(targetSeconds), byMemory);
  }
  const children = Math.ceil(runs / most);
  const runsPerChild = Math.ceil(runs / children);
  const rounds = work.placement === 'cpu' ? Math.ceil(runsPerChild / cpuVcpus) : runsPerChild;
  const trialsPerRun = Math.max(1, work.trials / runs);
  return {
    packSize: Math.max(1, Math.round(runsPerChild * trialsPerRun)),
    children,
    runsPerChild,
    childSeconds: rounds * runSeconds,
  };
}
