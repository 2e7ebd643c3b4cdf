import { beforeEach, describe, expect, it, vi } from 'vitest';
import { buildCli } from '../runner/cli.ts';
import { DEFAULT_STORE } from '../runner/store/open.ts';

// Every command module is replaced by a spy: these tests hold the argv → options mapping of
// runner/cli.ts, not what the commands do (their own tests do that).
const calls: { command: string; options: Record<string, unknown> }[] = [];
const spy = (command: string) => async (options: Record<string, unknown>) => void calls.push({ command, options });
vi.mock('../runner/commands/validate.ts', () => ({ validate: spy('validate') }));
vi.mock('../runner/commands/plan.ts', () => ({ plan: spy('plan') }));
vi.mock('../runner/commands/data.ts', () => ({ data: spy('data') }));
vi.mock('../runner/commands/run.ts', () => ({ run: spy('run') }));
vi.mock('../runner/commands/worker.ts', () => ({ worker: spy('worker') }));
vi.mock('../runner/commands/report.ts', () => ({ report: spy('report') }));
vi.mock('../runner/commands/serve.ts', () => ({ serve: spy('serve') }));
vi.mock('../runner/commands/bench.ts', () => ({ bench: spy('bench') }));
vi.mock('../runner/commands/export.ts', () => ({ exportSweep: spy('export') }));
vi.mock('../runner/commands/synth.ts', () => ({ synth: spy('synth') }));
vi.mock('../runner/commands/launch.ts', () => ({ launch: spy('launch') }));
vi.mock('../runner/commands/status.ts', () => ({ status: spy('status') }));
vi.mock('../runner/commands/pull.ts', () => ({ pull: spy('pull') }));

beforeEach(() => void calls.splice(0));

async function parse(argv: string): Promise<{ command: string; options: Record<string, unknown> }> {
  await buildCli().parseAsync(argv.split(' '), { from: 'user' });
  expect(calls).toHaveLength(1);
  return calls[0];
}

const table: [argv: string, command: string, options: Record<string, unknown>][] = [
  ['validate g.yaml', 'validate', { grid: 'g.yaml' }],
  ['validate g.yaml --data-root /a --data-root /b', 'validate', { grid: 'g.yaml', dataRoot: ['/a', '/b'] }],
  ['plan g.yaml', 'plan', { grid: 'g.yaml', store: DEFAULT_STORE }],
  ['plan g.yaml --store s3://b/p --pack-size 8 --target-minutes 2.5 --cpu-vcpus 4', 'plan', { grid: 'g.yaml', store: 's3://b/p', packSize: 8, targetMinutes: 2.5, cpuVcpus: 4 }],
  ['data g.yaml --out d.csv', 'data', { grid: 'g.yaml', out: 'd.csv' }],
  ['run g.yaml', 'run', { grid: 'g.yaml', store: DEFAULT_STORE }],
  ['run g.yaml --concurrency 3 --engine layers --report --out site', 'run', { grid: 'g.yaml', store: DEFAULT_STORE, concurrency: 3, engine: 'layers', report: true, out: 'site' }],
  ['worker --sweep s --pack 4 --store /tmp/s', 'worker', { sweep: 's', pack: 4, store: '/tmp/s' }],
  ['report s', 'report', { sweep: 's', store: DEFAULT_STORE }],
  ['report s --publish', 'report', { sweep: 's', store: DEFAULT_STORE, publish: true }],
  ['report s --publish s3://b/site --out o', 'report', { sweep: 's', store: DEFAULT_STORE, publish: 's3://b/site', out: 'o' }],
  ['serve s --port 8080', 'serve', { sweep: 's', store: DEFAULT_STORE, port: 8080 }],
  ['bench --quick --json', 'bench', { quick: true, json: true }],
  ['bench --report 100 --summary-only --s3 0', 'bench', { report: 100, summaryOnly: true, s3: 0 }],
  ['bench --calibrate', 'bench', { calibrate: true }],
  ['bench --calibrate c.json', 'bench', { calibrate: 'c.json' }],
  ['export s --out o', 'export', { sweep: 's', store: DEFAULT_STORE, out: 'o', format: 'parquet' }],
  ['export s --out o --format csv', 'export', { sweep: 's', store: DEFAULT_STORE, out: 'o', format: 'csv' }],
  ['synth g.yaml --store /tmp/x --trials 50', 'synth', { grid: 'g.yaml', store: '/tmp/x', trials: 50, failed: 0.01, diverged: 0.005 }],
  ['launch g.yaml --store s3://b/p --stack fitgrid --dry-run', 'launch', { grid: 'g.yaml', store: 's3://b/p', stack: 'fitgrid', dryRun: true, timeout: 3600, attempts: 3, backend: 'tensorflow' }],
  ['launch g.yaml --store s3://b/p --queue q --job-definition jd --timeout 600 --attempts 1', 'launch', { grid: 'g.yaml', store: 's3://b/p', queue: 'q', jobDefinition: 'jd', timeout: 600, attempts: 1, backend: 'tensorflow' }],
  ['status s --watch --interval 5', 'status', { sweep: 's', store: DEFAULT_STORE, watch: true, interval: 5 }],
  ['pull s --store s3://b/p', 'pull', { sweep: 's', store: 's3://b/p', to: DEFAULT_STORE }],
];

describe('buildCli', () => {
  it.each(table)('`fitgrid %s` calls %s with the options the flags say', async (argv, command, options) => {
    const call = await parse(argv);
    expect(call.command).toBe(command);
    expect(call.options).toEqual(options);
  });

  it.each([
    ['run g.yaml --concurrency 0', /concurrency/],
    ['run g.yaml --engine turbo', /turbo/],
    ['synth g.yaml --store x --failed 2', /failed/],
    ['plan g.yaml --target-minutes -1', /target-minutes/],
    ['export s', /--out/],
  ])('`fitgrid %s` is refused before any command runs', async (argv, message) => {
    const cli = buildCli();
    const errors: string[] = [];
    cli.configureOutput({ writeErr: (text) => void errors.push(text) });
    for (const command of cli.commands) command.configureOutput({ writeErr: (text) => void errors.push(text) });
    await expect(cli.parseAsync(argv.split(' '), { from: 'user' })).rejects.toThrow();
    expect(errors.join('')).toMatch(message);
    expect(calls).toHaveLength(0);
  });
});
