import type { TrialStatus } from './result.ts';

/**
 * What a worker reports, one JSON object per line: on its stdout (the local executor's progress
 * bar reads it; on AWS Batch it lands in CloudWatch) and in sweeps/<name>/logs/pack-<i>.jsonl.
 */
export type WorkerEvent =
  | { event: 'start'; pack: number; trials: number; todo: number; skipped: number }
  | { event: 'progress'; pack: number; epoch: number; epochs: number; trialsDone: number; trials: number }
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
