import { describe, expect, test } from 'vitest';
import type { CnnModel, MlpModel } from '../../runner/records/config.ts';
import { chooseEngine, cpuEngines, placementFor } from '../../runner/train/train-pack.ts';

const mlp: MlpModel = { kind: 'mlp', hidden: [8], activation: 'relu' };
const cnn: CnnModel = { kind: 'cnn', blocks: [{ filters: 2, kernel: 3, pool: 2 }], dense: [4], activation: 'relu' };

describe('placementFor', () => {
  test('places MLPs that auto trains with the fused engine on CPU', () => {
    expect(placementFor('auto', mlp)).toBe('cpu');
    expect(placementFor(undefined, mlp)).toBe('cpu');
    expect(placementFor('fused', mlp)).toBe('cpu');
  });

  test('places packs that need tfjs on a GPU: an engine asked for by name, or a model no CPU engine trains', () => {
    expect(placementFor('layers', mlp)).toBe('gpu');
    expect(placementFor('packed', mlp)).toBe('gpu');
    expect(placementFor('auto', cnn)).toBe(cpuEngines.has(chooseEngine('auto', cnn, 'wasm')) ? 'cpu' : 'gpu');
    expect(placementFor('layers', cnn)).toBe('gpu');
  });

  test('follows the engine auto picks on a CPU backend, so a CPU engine declares its placement in one place', () => {
    for (const choice of ['auto', 'fused', 'packed', 'layers'] as const)
      for (const model of [mlp, cnn])
        expect(placementFor(choice, model)).toBe(cpuEngines.has(chooseEngine(choice, model, 'wasm')) ? 'cpu' : 'gpu');
  });
});
