import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError, firstLine } from '../../errors.ts';
import type { Placement } from '../../train/train-pack.ts';

/** One engine's measured speed on the calibration machine, in CPU time so that a loaded machine still gives a fair figure. */
export interface EngineCalibration {
  /** CPU seconds (all threads) per GFLOP of training work (epochFlops). Median of the runs. */
  cpuSecondsPerGflop: number;
  /** Lowest and highest of the runs. */
  spread: [number, number];
  runs: number;
}

/**
 * Per-engine figures measured by `fitgrid bench --calibrate`, with where and how. GPU figures
 * and container start-up are assumptions until someone measures them on an instance.
 */
export interface Calibration {
  machine: string;
  date: string;
  command: string;
  backend: string;
  note?: string;
  engines: Record<string, EngineCalibration>;
  assumed: {
    /** Packed engine on a GPU, seconds per trial-epoch. */
    gpuPackedSecondsPerTrialEpoch: number;
    /** Layers engine on a GPU, seconds per optimizer step (CNNs). */
    gpuLayersSecondsPerStep: number;
    /** A CPU engine without a figure of its own, seconds per optimizer step on one vCPU. */
    cpuSecondsPerStep: number;
    /** Container start: image pull, Node, data. */
    childStartSeconds: Record<Placement, number>;
    note: string;
  };
}

export interface Prices {
  region: string;
  retrieved: string;
  fargate: { vcpuHour: number; gbHour: number; ephemeralGbHourAbove20: number; spotDiscountUpTo: number };
  publicIpv4Hour: number;
  gpuInstanceHour: Record<string, number>;
}

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
/** The calibration shipped with fitgrid (measured on the machine it names). */
const bundledCalibration = here('./calibration.json');
const bundledPrices = here('./prices.json');
/** Where `fitgrid bench --calibrate` writes, and where launch and plan look first. */
export const userCalibration = 'fitgrid-calibration.json';

async function readJson<T>(file: string, what: string): Promise<T> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UserError(`cannot read the ${what} ${file}: ${firstLine(error)}`, { file });
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new UserError(`the ${what} ${file} is not valid JSON`, { file });
  }
}

/**
 * The calibration to estimate with: the file asked for, else FITGRID_CALIBRATION, else
 * ./fitgrid-calibration.json when `bench --calibrate` wrote one here, else the bundled one.
 */
export async function loadCalibration(file?: string, env: NodeJS.ProcessEnv = process.env): Promise<{ calibration: Calibration; file: string }> {
  const chosen = file ?? env.FITGRID_CALIBRATION ?? (existsSync(userCalibration) ? userCalibration : bundledCalibration);
  const calibration = await readJson<Calibration>(chosen, 'calibration file');
  const fused = calibration.engines?.fused?.cpuSecondsPerGflop;
  if (!(typeof fused === 'number' && fused > 0) || !calibration.assumed)
    throw new UserError(`Expected the calibration file to have engines.fused.cpuSecondsPerGflop and assumed figures, as \`fitgrid bench --calibrate\` writes`, { file: chosen, field: 'engines.fused' });
  const relative = path.relative(process.cwd(), chosen);
  return { calibration, file: relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : chosen };
}

export async function loadPrices(): Promise<Prices> {
  return readJson<Prices>(bundledPrices, 'price table');
}

/**
 * `--price`: a bare number is the GPU instance's hourly price (as before); otherwise
 * comma-separated `gpu-hour=`, `vcpu-hour=` (Fargate), `gb-hour=` (Fargate memory).
 */
export function withPriceOverrides(prices: Prices, spec: string | number | undefined, gpuInstanceType: string): Prices {
  if (spec === undefined) return prices;
  const out: Prices = { ...prices, fargate: { ...prices.fargate }, gpuInstanceHour: { ...prices.gpuInstanceHour } };
  const pairs = typeof spec === 'number' || /^[\d.]+$/.test(spec) ? [['gpu-hour', String(spec)]] : spec.split(',').map((p) => p.split('='));
  for (const [key, raw] of pairs) {
    const value = Number(raw);
    if (raw === undefined || raw.trim() === '' || !Number.isFinite(value) || value < 0)
      throw new UserError(`Expected \`--price\` to be a number or gpu-hour=N,vcpu-hour=N,gb-hour=N (N ≥ 0), got ${spec}`, { field: 'price' });
    if (key === 'gpu-hour') out.gpuInstanceHour[gpuInstanceType] = value;
    else if (key === 'vcpu-hour') out.fargate.vcpuHour = value;
    else if (key === 'gb-hour') out.fargate.gbHour = value;
    else throw new UserError(`Expected \`--price\` keys gpu-hour, vcpu-hour or gb-hour, got ${key}`, { field: 'price' });
  }
  return out;
}

/** What one queue's children cost, from their count and estimated training time. */
export interface QueueCost {
  placement: Placement;
  children: number;
  /** Estimated seconds of all children together, start-up included. */
  childSeconds: number;
  vcpuHours: number;
  gpuHours: number;
  usd: number;
}

export interface QueueShape {
  placement: Placement;
  children: number;
  /** Sum of the children's estimated training seconds. */
  trainingSeconds: number;
  /** CPU children: vCPUs and memory each (Fargate bills both). */
  vcpus: number;
  memoryMiB: number;
  gpuInstanceType: string;
}

/** Fargate bills vCPU and memory by the second; a GPU child holds a whole instance. */
export function queueCost(shape: QueueShape, calibration: Calibration, prices: Prices): QueueCost {
  const seconds = shape.trainingSeconds + shape.children * calibration.assumed.childStartSeconds[shape.placement];
  const hours = seconds / 3600;
  if (shape.placement === 'cpu') {
    const usd = hours * (shape.vcpus * prices.fargate.vcpuHour + (shape.memoryMiB / 1024) * prices.fargate.gbHour + prices.publicIpv4Hour);
    return { placement: 'cpu', children: shape.children, childSeconds: seconds, vcpuHours: hours * shape.vcpus, gpuHours: 0, usd };
  }
  const hourly = prices.gpuInstanceHour[shape.gpuInstanceType];
  if (hourly === undefined)
    throw new UserError(`no price for ${shape.gpuInstanceType} in ${path.basename(bundledPrices)}: pass \`--price gpu-hour=N\``, { field: 'price' });
  return { placement: 'gpu', children: shape.children, childSeconds: seconds, vcpuHours: 0, gpuHours: hours, usd: hours * hourly };
}
