import { describe, expect, it } from 'vitest';
import { reluSurfaceProba } from '../../../runner/train/packed/relu-surface.ts';

/** Every unit at every grid point, the plain way. */
function direct(rows: number[], kernel: number[], bias: number[], g: { x0: number; x1: number; y0: number; y1: number; n: number }): number[] {
  const outputs = bias.length;
  const out: number[] = [];
  for (let i = 0; i < g.n; i++) {
    const y = g.y0 + (i * (g.y1 - g.y0)) / (g.n - 1);
    for (let j = 0; j < g.n; j++) {
      const x = g.x0 + (j * (g.x1 - g.x0)) / (g.n - 1);
      const z = bias.slice();
      for (let u = 0; u < rows.length / 3; u++) {
        const h = Math.max(0, rows[3 * u] * x + rows[3 * u + 1] * y + rows[3 * u + 2]);
        for (let o = 0; o < outputs; o++) z[o] += kernel[u * outputs + o] * h;
      }
      if (outputs === 1) out.push(1 / (1 + Math.exp(-z[0])));
      else {
        const e = z.map((v) => Math.exp(v - Math.max(...z)));
        const sum = e.reduce((a, b) => a + b, 0);
        out.push(...e.map((v) => v / sum));
      }
    }
  }
  return out;
}

const random = (seed: number) => () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;

describe('decision surfaces of one relu layer from its breakpoints', () => {
  const grid = { x0: -1.5, x1: 2.5, y0: -1, y1: 1.5, n: 17 };

  it('equals evaluating every unit at every point, for one output and for softmax classes', () => {
    for (const outputs of [1, 3]) {
      const r = random(7 + outputs);
      const units = 40;
      const rows = Array.from({ length: 3 * units }, r);
      // a unit flat in x that is on everywhere, one flat and off, one whose zero falls on a column
      rows.splice(0, 3, 0, 0.8, 0.3);
      rows.splice(3, 3, 0, 0.5, -2);
      rows.splice(6, 3, 1, 0, -(grid.x0 + 4 * ((grid.x1 - grid.x0) / (grid.n - 1))));
      const kernel = Array.from({ length: units * outputs }, r);
      const bias = Array.from({ length: outputs }, r);
      const fast = reluSurfaceProba(rows, kernel, bias, grid);
      const plain = direct(rows, kernel, bias, grid);
      expect(fast).toHaveLength(grid.n * grid.n * outputs);
      for (const [i, p] of plain.entries()) expect(Math.abs(fast[i] - p)).toBeLessThan(1e-6);
      // the surface is not flat: the test would notice a constant
      expect(new Set(Array.from(fast, (p) => p.toFixed(3))).size).toBeGreaterThan(10);
    }
  });

  it('gives the bias alone when no unit is ever on', () => {
    const rows = [1, 0, -10, -1, 0, -10];
    const [p] = reluSurfaceProba(rows, [5, 5], [0.25], grid);
    expect(p).toBeCloseTo(1 / (1 + Math.exp(-0.25)), 7);
  });
});
