import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { linspace, makeCircles, makeMoons } from '../../runner/data/synthetic.ts';

interface Case {
  fn: 'make_moons' | 'make_circles';
  n_samples: number;
  noise: number | null;
  factor?: number;
  random_state: number;
  shuffle: boolean;
  X: number[][];
  y: number[];
}

const read = (name: string) => JSON.parse(readFileSync(new URL(`../fixtures/data/${name}`, import.meta.url), 'utf8'));
const shared = ['make_moons_n100_noise0.2_rs1.json', 'make_circles_n100_noise0.1_f0.5_rs1.json'].map((name) => {
  const f = read(name) as { generator: Omit<Case, 'X' | 'y'>; X: number[][]; y: number[] };
  return { ...f.generator, X: f.X, y: f.y } as Case;
});
const generated = (read('sklearn-cases.json') as { cases: Case[] }).cases;

const generate = (c: Case) => {
  const options = { samples: c.n_samples, noise: c.noise, randomState: c.random_state, shuffle: c.shuffle };
  return c.fn === 'make_moons' ? makeMoons(options) : makeCircles({ ...options, factor: c.factor! });
};
const label = (c: Case) =>
  `${c.fn}(n_samples=${c.n_samples}, noise=${c.noise}${c.factor === undefined ? '' : `, factor=${c.factor}`}, random_state=${c.random_state}, shuffle=${c.shuffle})`;

describe('makeMoons and makeCircles', () => {
  for (const c of [...shared, ...generated]) {
    it(`match scikit-learn 1.2.1 ${label(c)} to 1e-12 with identical labels`, () => {
      const { X, y } = generate(c);
      expect(y).toEqual(c.y);
      expect(X).toHaveLength(c.X.length);
      X.forEach((row, i) => {
        expect(row).toHaveLength(2);
        row.forEach((v, j) => expect(Math.abs(v - c.X[i][j])).toBeLessThanOrEqual(1e-12));
      });
    });
  }

  it('rejects a factor outside [0, 1) as scikit-learn does', () => {
    expect(() => makeCircles({ samples: 10, noise: 0, factor: 1, randomState: 0 })).toThrow(/factor/);
  });
});

describe('linspace', () => {
  it('ends exactly at stop with endpoint and excludes it without', () => {
    expect(linspace(0, 1, 5, true)).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(linspace(0, 1, 4, false)).toEqual([0, 0.25, 0.5, 0.75]);
    expect(linspace(2, 3, 1, true)).toEqual([2]);
    expect(linspace(2, 3, 0, true)).toEqual([]);
  });
});
