import type { EngineChoice, EngineName, ModelSpec, Trial } from '../records/config.ts';
import type { Dataset } from '../data/types.ts';
import type { Engine, TrainOptions, TrainPack } from './engine.ts';
import type { TrialResult } from '../records/result.ts';
import { backendNameHint, initBackend, type BackendName } from './backend.ts';
import { failedResult } from './result.ts';
import { convUnsupportedModel } from './conv/support.ts';
import { firstLine } from '../errors.ts';

/**
 * Trains a pack with the engine chosen for it: `options.engine`, else the grid's
 * `train.engine`, else auto (see chooseEngine). The trials the engine does not support go to
 * the layers engine before anything trains, saying why once on stderr; an engine that is
 * missing, fails to load, or throws for the whole pack hands the trials it did not finish to
 * layers too; a trial the layers engine cannot train becomes a failed result.
 */
export const trainPack: TrainPack = async (trials, data, options) => {
  if (trials.length === 0) return [];
  const model = trials[0].config.model;
  // Chosen before tfjs loads: a worker that runs only the fused kernel never loads tfjs.
  const wanted = chooseEngine(options.engine ?? trials[0].config.train.engine, model, backendNameHint());
  const engine = wanted === 'layers' ? undefined : await loadEngine(wanted, model);
  const mine = engine ? supported(engine, trials, data) : [];

  const sink = resultSink(options);
  if (engine && mine.length > 0) {
    try {
      const results = await engine.trainPack(mine, data, { ...options, onResult: sink.record });
      for (const r of results) if (!sink.done.has(r.trialId)) await sink.record(r);
    } catch (e) {
      sink.rethrowIfFatal(e);
      say(`fitgrid: the ${wanted} engine failed on a pack (${firstLine(e)}); training its remaining trials with layers`);
    }
  }
  const rest = trials.filter((t) => !sink.done.has(t.trialId));
  if (rest.length > 0) await trainWithLayers(rest, data, options, sink);
  return trials.map((t) => sink.done.get(t.trialId)!);
};

/** The trials the engine supports; why it refuses the others is said once per reason. */
function supported(engine: Engine, trials: Trial[], data: Dataset): Trial[] {
  return trials.filter((trial) => {
    const why = engine.supports(trial, data);
    if (why !== null) say(`fitgrid: ${why}; training those trials with layers`);
    return why === null;
  });
}

/**
 * Where results go: kept by trial id and passed on to the caller's onResult. A result the
 * caller cannot keep (an unwritable store) is an infrastructure failure: it propagates as is,
 * and is never mistaken for an engine's failure.
 */
function resultSink(options: TrainOptions) {
  const done = new Map<string, TrialResult>();
  let sinkError: { error: unknown } | undefined;
  return {
    done,
    record: async (result: TrialResult) => {
      done.set(result.trialId, result);
      try {
        await options.onResult?.(result);
      } catch (error) {
        sinkError = { error };
        throw error;
      }
    },
    rethrowIfFatal: (e: unknown) => {
      if (sinkError) throw sinkError.error;
      if (options.signal?.aborted) throw e;
    },
  };
}

async function trainWithLayers(trials: Trial[], data: Dataset, options: TrainOptions, sink: ReturnType<typeof resultSink>): Promise<void> {
  try {
    const { layersEngine } = await import('./layers/train.ts');
    await layersEngine.trainPack(trials, data, { ...options, onResult: sink.record });
  } catch (e) {
    sink.rethrowIfFatal(e);
    // Layers turns trial errors into results itself; this is a failure around them.
    const backend = await initBackend();
    for (const t of trials.filter((t) => !sink.done.has(t.trialId))) {
      await sink.record(failedResult({ trial: t, data, sweep: options.sweep, engine: 'layers', backend, seconds: 0, error: firstLine(e) }));
    }
  }
}

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

async function loadEngine(name: Exclude<EngineName, 'layers'>, model: ModelSpec): Promise<Engine | undefined> {
  try {
    const engine: Engine | undefined = name === 'packed'
      ? (await import('./packed/train.ts')).packedEngine
      : name === 'conv' ? (await import('./conv/index.ts')).convEngine : (await import('./fused/index.ts')).fusedEngine;
    if (typeof engine?.trainPack !== 'function' || typeof engine.supports !== 'function') throw new Error(`it exports no engine for ${name}`);
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
