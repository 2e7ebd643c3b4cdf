import type { EngineChoice, EngineName, ModelSpec } from '../records/config.ts';
import type { TrainPack } from './engine.ts';
import type { TrialResult } from '../records/result.ts';
import { backendNameHint, initBackend, type BackendName } from './backend.ts';
import { failedResult } from './result.ts';
import { convUnsupported, convUnsupportedModel } from './conv/support.ts';

/**
 * Trains a pack with the engine chosen for it: `options.engine`, else the grid's
 * `train.engine`, else auto (see chooseEngine). An engine that is missing, fails to load, or
 * throws for the whole pack hands the trials it did not finish to the layers engine, saying
 * so once on stderr; a trial the layers engine cannot train becomes a failed result.
 */
export const trainPack: TrainPack = async (trials, data, options) => {
  if (trials.length === 0) return [];
  const model = trials[0]!.config.model;
  // Chosen before tfjs loads: a worker that runs only the fused kernel never loads tfjs.
  const wanted = chooseEngine(options.engine ?? trials[0]!.config.train.engine, model, backendNameHint());
  const engine = wanted === 'layers' ? undefined : await loadEngine(wanted, model);
  // The conv engine declares what it trains: the rest goes to layers before anything trains.
  const mine = wanted === 'conv' ? trials.filter((t) => convUnsupported(t, data) === null) : trials;
  if (mine.length < trials.length) say(`fitgrid: ${convUnsupported(trials.find((t) => !mine.includes(t))!, data)}; training those trials with layers`);

  const done = new Map<string, TrialResult>();
  // A result the caller cannot keep (an unwritable store) is an infrastructure failure: it
  // propagates as is, and is never mistaken for an engine's failure.
  let sinkError: { error: unknown } | undefined;
  const record = async (result: TrialResult) => {
    done.set(result.trialId, result);
    try {
      await options.onResult?.(result);
    } catch (error) {
      sinkError = { error };
      throw error;
    }
  };
  const rethrowIfFatal = (e: unknown) => {
    if (sinkError) throw sinkError.error;
    if (options.signal?.aborted) throw e;
  };
  if (engine) {
    try {
      const results = await engine(mine, data, { ...options, onResult: record });
      for (const r of results) if (!done.has(r.trialId)) await record(r);
    } catch (e) {
      rethrowIfFatal(e);
      say(`fitgrid: the ${wanted} engine failed on a pack (${firstLine(e)}); training its remaining trials with layers`);
    }
  }
  const rest = trials.filter((t) => !done.has(t.trialId));
  if (rest.length > 0) {
    try {
      const { trainPackLayers } = await import('./layers/train.ts');
      await trainPackLayers(rest, data, { ...options, onResult: record });
    } catch (e) {
      rethrowIfFatal(e);
      // Layers turns trial errors into results itself; this is a failure around them.
      const backend = await initBackend();
      for (const t of trials.filter((t) => !done.has(t.trialId))) {
        await record(failedResult({ trial: t, data, sweep: options.sweep, engine: 'layers', backend, seconds: 0, error: firstLine(e) }));
      }
    }
  }
  return trials.map((t) => done.get(t.trialId)!);
};

/**
 * auto: fused (the WebAssembly kernel) for MLPs on wasm/cpu, packed (batched tfjs) for MLPs on
 * tfjs-node, conv (the CNN kernel) for the CNNs it supports on wasm/cpu, layers for everything
 * else. packed and fused train MLPs only, conv CNNs only: asked for on another model, they give
 * way to layers.
 */
export function chooseEngine(choice: EngineChoice | undefined, model: ModelSpec, backend: BackendName): EngineName {
  const auto = !choice || choice === 'auto';
  if (model.kind !== 'mlp') {
    const conv = choice === 'conv' || (auto && backend !== 'tensorflow');
    return conv && convUnsupportedModel(model) === null ? 'conv' : 'layers';
  }
  if (choice === 'conv') return 'layers';
  if (!auto) return choice;
  return backend === 'tensorflow' ? 'packed' : 'fused';
}

/** Where a pack trains on AWS Batch: CPU cores (Fargate) or a GPU instance. */
export type Placement = 'cpu' | 'gpu';

/** Engines that train on CPU cores as fast as a GPU would serve them; an engine added here is placed on CPU. */
export const cpuEngines: ReadonlySet<EngineName> = new Set(['fused', 'conv']);

/**
 * The one place that decides where a pack runs: on the CPU queue when the engine auto picks on a
 * CPU backend is a CPU engine, on the GPU queue when the pack needs tfjs (CNNs, layers, packed).
 */
export function placementFor(choice: EngineChoice | undefined, model: ModelSpec): Placement {
  return cpuEngines.has(chooseEngine(choice, model, 'wasm')) ? 'cpu' : 'gpu';
}

async function loadEngine(name: Exclude<EngineName, 'layers'>, model: ModelSpec): Promise<TrainPack | undefined> {
  try {
    const engine = name === 'packed'
      ? (await import('./packed/train.ts')).trainPackPacked
      : name === 'conv' ? (await import('./conv/index.ts')).trainPackConv : (await import('./fused/index.ts')).trainPackFused;
    if (typeof engine !== 'function') throw new Error(`it exports no trainPack for ${name}`);
    return engine;
  } catch (e) {
    say(`fitgrid: the ${name} engine is unavailable (${firstLine(e)}); using layers for ${model.kind} packs`);
    return undefined;
  }
}

const said = new Set<string>();
function say(line: string): void {
  if (said.has(line)) return;
  said.add(line);
  process.stderr.write(line + '\n');
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
}

