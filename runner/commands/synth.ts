import type { SynthOptions, SynthSummary } from '../bench/synth.ts';
import { terminal, type Output } from './output.ts';

export interface SynthCommandOptions extends Omit<SynthOptions, 'log'> {
  /** Where the command's lines go (default: stdout and stderr). */
  output?: Output;
}

/** `fitgrid synth`: synthetic results for a grid (runner/bench/synth.ts), with progress on stderr and one summary line. */
export async function synth(options: SynthCommandOptions): Promise<SynthSummary> {
  const output = options.output ?? terminal;
  const { synthesize } = await import('../bench/synth.ts');
  const summary = await synthesize({ ...options, log: (line) => output.note(line) });
  const { ok, failed, diverged } = summary.statuses;
  output.print(
    `sweep "${summary.sweep}": ${summary.trials} synthetic results in ${summary.cells} cells ` +
      `(${ok} ok, ${failed} failed, ${diverged} diverged) written to ${summary.store} in ${summary.seconds.toFixed(1)} s`,
  );
  return summary;
}
