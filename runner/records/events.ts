import type { TrialStatus } from './result.ts';

/** How far a pack's training is: `epoch` of `epochs`, `trialsDone` of its `trials` finished. */
export interface PackProgress {
  epoch: number;
  epochs: number;
  trialsDone: number;
  trials: number;
  /**
   * How many trials the epoch is that of, for an engine that trains a pack one training at a time
   * (layers); absent when every unfinished trial of the pack trains together (packed), or when the
   * event only counts trials done (fused, conv).
   */
  training?: number;
}

/**
 * What a worker reports, one JSON object per line: on its stdout (the local executor's progress
 * bar reads it; on AWS Batch it lands in CloudWatch) and in sweeps/<name>/logs/pack-<i>.jsonl.
 */
export type WorkerEvent =
  | { event: 'start'; pack: number; trials: number; todo: number; skipped: number }
  | ({ event: 'progress'; pack: number } & PackProgress)
  | { event: 'trial'; pack: number; trialId: string; status: TrialStatus; seconds: number; error?: string }
  | { event: 'end'; pack: number; trained: number; skipped: number; failed: number; seconds: number }
  | { event: 'error'; pack: number; message: string };

/** Exit code of a worker whose infrastructure failed (store unreachable, engine crash): worth a retry. */
export const EXIT_INFRA = 75;

export function parseEvent(line: string): WorkerEvent | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const value = JSON.parse(line) as WorkerEvent;
    return typeof value?.event === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}
