import { describe, expect, it } from 'vitest';
import { axisEffects, type AxisCell } from '../../runner/analysis/axis-effects.ts';

const order = { l2: [0, 0.01], dropout: [0, 0.5], augmentation: ['none'], patience: [null] };
const cell = (l2: number, dropout: number, value: number): AxisCell => ({ axes: { l2, dropout, augmentation: 'none', patience: null }, value });

describe('axisEffects', () => {
  it('splits an additive grid into main effects: paired differences and variance shares', () => {
    // y = 1 − 0.2·[l2 on] − 0.1·[dropout on]
    const cells = [cell(0, 0, 1), cell(0.01, 0, 0.8), cell(0, 0.5, 0.9), cell(0.01, 0.5, 0.7)];
    const a = axisEffects(cells, order);
    expect(a.axes.map((x) => x.axis)).toEqual(['l2', 'dropout']);
    expect(a.axes[0].share).toBeCloseTo(0.8, 12);
    expect(a.axes[1].share).toBeCloseTo(0.2, 12);
    expect(a.interactions).toBeCloseTo(0, 12);
    const l2 = a.axes[0].values;
    expect(l2.map((v) => v.value)).toEqual(['0', '0.01']);
    expect(l2[1].effect.mean).toBeCloseTo(-0.2, 12);
    expect(l2[1].effect.n).toBe(2);
    expect(l2[1].effect.sd).toBeCloseTo(0, 12);
    expect(l2[0].effect.mean).toBe(0);
    expect(l2[1].mean).toBeCloseTo(0.75, 12);
  });

  it('leaves to interactions what no single axis explains', () => {
    // y depends only on whether exactly one remedy is on
    const cells = [cell(0, 0, 0), cell(0.01, 0, 1), cell(0, 0.5, 1), cell(0.01, 0.5, 0)];
    const a = axisEffects(cells, order);
    expect(a.axes.every((x) => Math.abs(x.share) < 1e-12)).toBe(true);
    expect(a.interactions).toBeCloseTo(1, 12);
  });

  it('ignores cells without a finite metric and axes with one value', () => {
    const a = axisEffects([cell(0, 0, 1), cell(0.01, 0, NaN), cell(0, 0.5, 0.5), cell(0.01, 0.5, 0.4)], order);
    expect(a.cells).toBe(3);
    expect(a.axes.find((x) => x.axis === 'augmentation')).toBeUndefined();
    expect(a.axes.find((x) => x.axis === 'l2')!.values[1].effect.n).toBe(1);
  });
});
