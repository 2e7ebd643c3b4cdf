import type { Output } from '../../runner/commands/output.ts';

/** A command's output into arrays: what it prints into `printed`, its notes into `notes` (default: the same array). */
export const collect = (printed: string[], notes: string[] = printed): Output => ({
  print: (text) => void printed.push(text.replace(/\n$/, '')),
  note: (text) => void notes.push(text.replace(/\n$/, '')),
});

/** Output nobody reads. */
export const silent: Output = { print: () => {}, note: () => {} };
