import os from 'node:os';
import { createRequire } from 'node:module';
import type * as tfjs from './tfjs.ts';
import { UserError } from '../errors.ts';
import { registerWasmConvGrad } from './layers/wasm-kernels.ts';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
type Tf = typeof tfjs;

export interface BackendInfo {
  name: BackendName;
  /** Human-readable device, recorded in every result: 'GPU (CUDA)', a CPU model, 'wasm simd'. */
  device: string;
  /** The tfjs namespace to build models with (tfjs-node's when the tensorflow backend runs). */
  tf: Tf;
}

const ORDER: BackendName[] = ['tensorflow', 'wasm', 'cpu'];

let chosen: Promise<BackendInfo> | undefined;

/**
 * The tfjs backend for this process: `FITGRID_BACKEND` (tensorflow | wasm | cpu) or the first
 * that loads in that order. Memoised: every engine of a process trains on the same backend.
 * tfjs-node(-gpu) is an optional peer dependency, so its absence is normal in auto mode and a
 * UserError only when asked for by name.
 */
export function initBackend(): Promise<BackendInfo> {
  chosen ??= choose(process.env.FITGRID_BACKEND);
  return chosen;
}

/** For tests: forget the memoised choice (tfjs keeps its registered backends). */
export function resetBackendForTests(): void {
  chosen = undefined;
}

/**
 * The backend initBackend() would pick, without loading tfjs (the largest part of a worker's memory): engines that need
 * no tfjs (the fused kernel) are chosen from this, so a worker that runs them never loads it.
 */
export function backendNameHint(): BackendName {
  const wanted = requestedBackend(process.env.FITGRID_BACKEND);
  if (wanted !== 'auto') return wanted;
  const require = createRequire(import.meta.url);
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      require.resolve(pkg);
      return 'tensorflow';
    } catch {
      // absent: the optional peer dependency is not installed here
    }
  }
  return 'wasm';
}

function requestedBackend(requested: string | undefined): BackendName | 'auto' {
  const wanted = requested?.trim() || 'auto';
  if (wanted !== 'auto' && !ORDER.includes(wanted as BackendName)) {
    throw new UserError(`Expected \`FITGRID_BACKEND\` to be one of auto, ${ORDER.join(', ')}, got ${wanted}`);
  }
  return wanted as BackendName | 'auto';
}

async function choose(requested: string | undefined): Promise<BackendInfo> {
  const wanted = requestedBackend(requested);
  const tfjs = await import('./tfjs.ts');
  quietTfjs(tfjs);
  if (wanted !== 'auto') {
    const info = await load(tfjs, wanted);
    if (!info) throw new UserError(unavailable(wanted));
    return info;
  }
  for (const name of ORDER) {
    const info = await load(tfjs, name).catch(() => undefined);
    if (info) return info;
  }
  throw new Error('no tfjs backend could be initialised (cpu should always work)');
}

function unavailable(name: BackendName): string {
  if (name === 'tensorflow') {
    return 'FITGRID_BACKEND=tensorflow needs @tensorflow/tfjs-node-gpu or @tensorflow/tfjs-node installed (optional peer dependencies; see the GPU image in infra/docker)';
  }
  return `FITGRID_BACKEND=${name}: the ${name} backend could not be initialised`;
}

async function load(tfjs: Tf, name: BackendName): Promise<BackendInfo | undefined> {
  if (name === 'tensorflow') return loadTensorflow();
  if (name === 'wasm') {
    await import('@tensorflow/tfjs-backend-wasm');
    registerWasmConvGrad(tfjs);
    if (!(await tfjs.setBackend('wasm'))) return undefined;
    await tfjs.ready();
    return { name, device: `wasm simd (${cpuModel()})`, tf: tfjs };
  }
  if (!(await tfjs.setBackend('cpu'))) return undefined;
  await tfjs.ready();
  return { name, device: cpuModel(), tf: tfjs };
}

async function loadTensorflow(): Promise<BackendInfo | undefined> {
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    let mod: Tf;
    try {
      // A variable specifier keeps TypeScript from requiring the optional package's types.
      mod = (await import(pkg)) as Tf;
    } catch {
      continue;
    }
    const tf = ((mod as unknown as { default?: Tf }).default ?? mod) as Tf;
    quietTfjs(tf);
    if (!(await tf.setBackend('tensorflow'))) continue;
    await tf.ready();
    const gpu = pkg.endsWith('-gpu') && gpuVisible(tf);
    return { name: 'tensorflow', device: gpu ? 'GPU (CUDA)' : cpuModel(), tf };
  }
  return undefined;
}

function gpuVisible(tf: Tf): boolean {
  // tfjs-node-gpu falls back to the CPU silently when CUDA is missing; its binding knows.
  const binding = (tf.backend() as unknown as { binding?: { isUsingGpuDevice?: () => boolean } }).binding;
  return binding?.isUsingGpuDevice?.() ?? true;
}

function cpuModel(): string {
  const cpus = os.cpus();
  const model = cpus[0]?.model?.trim() || os.arch();
  return `${model} (${cpus.length} cores)`;
}

/** tfjs prints "install tfjs-node" hints through its logger unless PROD is set; PROD also skips debug checks. */
function quietTfjs(tf: Tf): void {
  tf.env().set('PROD', true);
}
