/**
 * How every command speaks: `print` for what it produces (tables, paths, JSON a script reads) on
 * stdout, `note` for progress, warnings and skipped inputs on stderr, so piping stdout stays
 * clean. Commands take an `output` option; tests pass one that collects the lines.
 */
export interface Output {
  print(text: string): void;
  note(text: string): void;
}

const line = (text: string) => (text.endsWith('\n') ? text : `${text}\n`);

export const terminal: Output = {
  print: (text) => void process.stdout.write(line(text)),
  note: (text) => void process.stderr.write(line(text)),
};
