import os from 'node:os';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { kernelVariant } from '../train/fused/kernel.mjs';
import { suiteWorkloads, type SuiteWorkload, type Timing } from './workloads.ts';

/**
 * `fitgrid bench --suite`: every workload without and with dropout, per core, fitgrid and the
 * PyTorch reference loop side by side (each variant of a workload timed in fitgrid, then at once
 * in PyTorch, so a busy moment on a shared machine falls on both). The figures are CPU
 * milliseconds per epoch of the fastest repetition; wall times are kept in the JSON.
 */
interface SuiteRow {
  workload: string;
  shape: string;
  dropout: number;
  epochs: number;
  fitgrid: Timing & { gflops: number };
  /** `measured`: timed now; `quoted`: the workload's last figure from the project's machine (no python3 with torch here). */
  pytorch: { cpuMs: number; wallMs: number | null; gflops: number; source: 'measured' | 'quoted'; date?: string } | null;
  /** PyTorch's CPU time over fitgrid's: above 1, fitgrid is faster. */
  ratio: number | null;
}

export interface SuiteReport {
  device: string;
  kernel: string;
  pytorch: { python: string; torch: string } | null;
  rows: SuiteRow[];
}

export interface SuiteOptions {
  quick?: boolean;
  /** Timed repetitions per variant (default 3, or 2 with quick). */
  reps?: number;
  /** Pythons to try for torch, in order (default: $FITGRID_PYTHON, python3, /usr/bin/python3). */
  pythons?: string[];
  workloads?: SuiteWorkload[];
  log?: (line: string) => void;
}

const referenceScript = fileURLToPath(new URL('./references/suite.py', import.meta.url));

export async function runSuite(options: SuiteOptions = {}): Promise<SuiteReport> {
  const log = options.log ?? (() => {});
  const reps = options.reps ?? (options.quick ? 2 : 3);
  const python = findTorch(options.pythons ?? [process.env.FITGRID_PYTHON, 'python3', '/usr/bin/python3'].filter((p): p is string => !!p));
  log(python ? `PyTorch ${python.torch} (${python.python}), one thread` : 'no python3 with torch found: quoting the last PyTorch figures measured');
  const reference = python ? new ReferenceLoops(python.python) : null;
  const rows: SuiteRow[] = [];
  try {
    for (const w of options.workloads ?? suiteWorkloads) {
      const epochs = options.quick ? w.epochs.quick : w.epochs.full;
      for (const dropout of [0, w.dropout]) {
        log(`${w.name}${dropout ? ` dropout ${dropout}` : ''}: ${epochs} epochs × ${reps}…`);
        const f = w.fitgrid({ dropout, epochs, reps });
        const flops = w.flopsPerEpoch;
        const fitgrid = { ...f, gflops: flops / f.cpuMs / 1e6 };
        let pytorch: SuiteRow['pytorch'] = null;
        if (reference) {
          const p = await reference.time({ ...w.pytorch, dropout, epochs, reps });
          pytorch = { ...p, gflops: flops / p.cpuMs / 1e6, source: 'measured' };
        } else {
          const cpuMs = dropout ? w.measured.dropout : w.measured.plain;
          if (cpuMs > 0) pytorch = { cpuMs, wallMs: null, gflops: flops / cpuMs / 1e6, source: 'quoted', date: w.measured.date };
        }
        rows.push({ workload: w.name, shape: w.shape, dropout, epochs, fitgrid, pytorch, ratio: pytorch ? pytorch.cpuMs / fitgrid.cpuMs : null });
      }
    }
  } finally {
    reference?.close();
  }
  return {
    device: `${os.cpus()[0]?.model?.trim() || 'CPU'}, ${os.availableParallelism()} cores`,
    kernel: `fused wasm (${kernelVariant === 'relaxed' ? 'SIMD128 + relaxed SIMD' : 'SIMD128'})`,
    pytorch: python, rows,
  };
}

/** The first python that imports torch, with its version, or null. */
export function findTorch(pythons: string[]): { python: string; torch: string } | null {
  for (const python of [...new Set(pythons)]) {
    const probe = spawnSync(python, [referenceScript, '--probe'], { encoding: 'utf8', timeout: 60_000 });
    if (probe.status !== 0) continue;
    try {
      return { python, torch: String(JSON.parse(probe.stdout).torch) };
    } catch {
      continue;
    }
  }
  return null;
}

/** references/suite.py as one long-lived child: one JSON line in, one out. */
class ReferenceLoops {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly lines: AsyncIterator<string>;
  private stderr = '';

  constructor(python: string) {
    this.child = spawn(python, [referenceScript], { stdio: 'pipe' });
    this.child.stderr.on('data', (chunk: Buffer) => { this.stderr = (this.stderr + chunk.toString()).slice(-2000); });
    this.lines = createInterface({ input: this.child.stdout })[Symbol.asyncIterator]();
  }

  async time(spec: Record<string, unknown>): Promise<Timing> {
    this.child.stdin.write(`${JSON.stringify(spec)}\n`);
    const next = await this.lines.next();
    if (next.done) throw new Error(`the PyTorch reference loop ended: ${this.stderr.trim().split('\n').at(-1) ?? ''}`);
    const answer = JSON.parse(next.value) as Timing & { error?: string };
    if (answer.error) throw new Error(`the PyTorch reference loop failed: ${answer.error}`);
    return { cpuMs: answer.cpuMs, wallMs: answer.wallMs };
  }

  close(): void {
    this.child.stdin.end();
  }
}

export function formatSuite(r: SuiteReport): string {
  const ms = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toFixed(3));
  const head = `fitgrid bench --suite: per core (one thread, one process, CPU ms per epoch, fastest repetition), ${r.device}\n` +
    `  fitgrid: ${r.kernel}; PyTorch: ${r.pytorch ? `${r.pytorch.torch}, one thread (${r.pytorch.python})` : 'not found here, last measured figures quoted'}\n`;
  const table = [['workload', 'dropout', 'fitgrid ms', 'GFLOP/s', 'PyTorch ms', 'GFLOP/s', 'ratio']];
  for (const row of r.rows) {
    const p = row.pytorch;
    table.push([row.workload, String(row.dropout), ms(row.fitgrid.cpuMs), row.fitgrid.gflops.toFixed(1),
      p ? `${ms(p.cpuMs)}${p.source === 'quoted' ? ` (${p.date})` : ''}` : '—', p ? p.gflops.toFixed(1) : '—',
      row.ratio === null ? '—' : `${row.ratio.toFixed(2)}×`]);
  }
  const widths = table[0].map((_, c) => Math.max(...table.map((t) => t[c].length)));
  const lines = table.map((t) => `  ${t.map((cell, c) => (c < 2 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ')}`);
  const shapes = [...new Map(r.rows.map((row) => [row.workload, row.shape])).entries()].map(([name, shape]) => `  ${name}: ${shape}`);
  return `${head}${lines.join('\n')}\n  ratio: PyTorch's time over fitgrid's (above 1: fitgrid faster)\n${shapes.join('\n')}\n`;
}
