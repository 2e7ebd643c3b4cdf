import os from 'node:os';
import { afterEach, describe, expect, test } from 'vitest';
import { UserError } from '../../runner/errors.ts';
import { initBackend, resetBackendForTests } from '../../runner/train/backend.ts';

const saved = process.env.FITGRID_BACKEND;
afterEach(() => {
  if (saved === undefined) delete process.env.FITGRID_BACKEND;
  else process.env.FITGRID_BACKEND = saved;
  resetBackendForTests();
});

async function withBackend(value: string | undefined) {
  if (value === undefined) delete process.env.FITGRID_BACKEND;
  else process.env.FITGRID_BACKEND = value;
  resetBackendForTests();
  return initBackend();
}

describe('initBackend', () => {
  test('FITGRID_BACKEND=cpu selects the plain cpu backend and names the CPU', async () => {
    const b = await withBackend('cpu');
    expect(b.name).toBe('cpu');
    expect(b.tf.getBackend()).toBe('cpu');
    expect(b.device).toContain(os.cpus()[0].model.trim());
  });

  test('FITGRID_BACKEND=wasm selects the WebAssembly backend, which computes', async () => {
    const b = await withBackend('wasm');
    expect(b.name).toBe('wasm');
    expect(b.tf.getBackend()).toBe('wasm');
    expect(b.device).toMatch(/^wasm simd/);
    expect(Array.from(b.tf.sum(b.tf.tensor([1, 2, 3])).dataSync())).toEqual([6]);
  });

  test('trains a convolution on wasm: the filter gradient it lacks is provided and matches cpu', async () => {
    const grad = async (name: string) => {
      const { tf } = await withBackend(name);
      const x = tf.tensor4d(Array.from({ length: 2 * 5 * 4 * 2 }, (_, i) => Math.sin(i)), [2, 5, 4, 2]);
      const dy = tf.tensor4d(Array.from({ length: 2 * 5 * 4 * 3 }, (_, i) => Math.cos(i)), [2, 5, 4, 3]);
      const w = tf.tensor4d(Array.from({ length: 3 * 3 * 2 * 3 }, (_, i) => Math.sin(3 * i)), [3, 3, 2, 3]);
      const g = tf.grad((f) => tf.sum(tf.mul(tf.conv2d(x, f as typeof w, 1, 'same'), dy)))(w);
      return Array.from(g.dataSync());
    };
    const wasm = await grad('wasm');
    const cpu = await grad('cpu');
    expect(wasm).toHaveLength(cpu.length);
    wasm.forEach((v, i) => expect(v).toBeCloseTo(cpu[i], 4));
  });

  test('auto picks the first backend that loads: wasm here, where tfjs-node cannot install', async () => {
    const b = await withBackend(undefined);
    expect(['tensorflow', 'wasm']).toContain(b.name);
  });

  test('FITGRID_BACKEND=tensorflow without tfjs-node is a UserError naming the packages', async () => {
    const err = await withBackend('tensorflow').catch((e: unknown) => e);
    if (!(err instanceof UserError)) return expect((err as { name: string }).name).toBe('tensorflow');
    expect(err.message).toMatch(/@tensorflow\/tfjs-node-gpu or @tensorflow\/tfjs-node/);
    expect(err.exitCode).toBe(2);
  });

  test('an unknown FITGRID_BACKEND is a UserError listing the choices', async () => {
    await expect(withBackend('cuda')).rejects.toThrow(/Expected `FITGRID_BACKEND` to be one of auto, tensorflow, wasm, cpu, got cuda/);
  });

  test('is memoised: every caller of a process gets the same backend', async () => {
    process.env.FITGRID_BACKEND = 'cpu';
    resetBackendForTests();
    const [a, b] = await Promise.all([initBackend(), initBackend()]);
    expect(a).toBe(b);
  });
});
