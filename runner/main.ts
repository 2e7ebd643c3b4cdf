import { CommanderError } from 'commander';
import { buildCli } from './cli.ts';
import { ExitError, UserError } from './errors.ts';

/** The one place that turns errors into exit codes: user mistakes get one line, bugs a stack. */
export async function main(argv: string[]): Promise<number> {
  try {
    await buildCli().parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    if (error instanceof ExitError) return error.exitCode;
    if (error instanceof UserError) {
      process.stderr.write(`fitgrid: ${error.message}\n`);
      return error.exitCode;
    }
    process.stderr.write(`${(error as Error)?.stack ?? String(error)}\nfitgrid: this is a bug; please report it with the command you ran.\n`);
    return 1;
  }
}
