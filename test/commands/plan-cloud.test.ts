import { afterEach, describe, expect, test, vi } from 'vitest';
import { plan } from '../../runner/commands/plan.ts';
import { tempDir } from '../grid/helpers.ts';

afterEach(() => vi.restoreAllMocks());

describe('fitgrid plan on AWS Batch', () => {
  test('shows packs, children and the longest child per queue: MLP packs on CPU, the CNN pack on GPU', async () => {
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const result = await plan({ grid: 'test/fixtures/grids/cloud-mixed.yaml', store: tempDir(), cpuVcpus: 2 });
    const output = write.mock.calls.map((c) => String(c[0])).join('');
    expect(result.cloud.map((q) => [q.placement, q.engines, q.trials, q.children])).toEqual([['cpu', ['fused'], 4, 1], ['gpu', ['layers'], 2, 1]]);
    expect(result.cloud[0].figures).toEqual(['measured']);
    expect(result.cloud[1].figures).toEqual(['assumed']);
    expect(output).toMatch(/on AWS Batch \(`fitgrid launch`: packs sized for children of ~5 min; speeds from runner\/exec\/batch\/calibration\.json\)/);
    expect(output).toMatch(/^CPU \(Fargate, 2 vCPUs\) +fused +4 +1 +1 +~\d+ s +measured$/m);
    expect(output).toMatch(/^GPU \(EC2\) +layers +2 +1 +1 +~\d+ s +assumed$/m);
  });

  test('refuses a target time of zero in one line', async () => {
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    await expect(plan({ grid: 'grids/smoke.yaml', store: tempDir(), targetMinutes: 0 })).rejects.toThrow('Expected `--target-minutes` to be a number above 0, got 0');
  });
});
