import { describe, expect, it } from 'vitest';
import { trainPackFused } from '../../../runner/train/fused/index.ts';
import { createKernel, kernelVariant } from '../../../runner/train/fused/kernel.mjs';
import { kernelJob } from '../../../runner/train/fused/jobs.ts';
import { planTrainings } from '../../../runner/train/replay.ts';
import { trainingSet } from '../../../runner/train/result.ts';
import { earlyStop } from '../../../runner/train/early-stopping.ts';
import type { TrialResult } from '../../../runner/records/result.ts';
import { adam, blobsData, expectSameDistribution, fusedAgainstLayers, freshSeed, makeTrial, maxRelDiff, mean } from './fixtures.ts';

// Deeper and wider nets than in → H → 1 train through the kernel's register-blocked matrix
// tiles: widths here leave every remainder (rows of a partial batch, inputs not a multiple of the
// tile's four, units not a multiple of eight or four) so each edge tile runs. Float32 summation
// order moves ReLU nets apart chaotically after enough epochs (see fused.test.ts): 50 hold 1e-5.
const opts = { sweep: 'fused-blocked-test' };

describe('fused kernel, blocked path, against the layers engine', () => {
  it('matches to 1e-5 relative over 50 epochs on three ReLU layers of odd widths, binary output, L2', async () => {
    const seed = freshSeed();
    const data = blobsData(2, 30, 45, 0.6, seed); // 54 training rows: a partial batch of 6 after 16 × 3
    const trial = makeTrial({ epochs: 50, hidden: [36, 20, 13], batchSize: 16, shuffle: false, l2: 0.001, seed: seed % 1000, optimizer: adam(1e-3) });
    const { fused, layers } = await fusedAgainstLayers(trial, data, opts.sweep);
    expect(maxRelDiff(fused.history.acc, layers.history.acc)).toBeLessThan(1e-6);
  });

  it('matches to 1e-5 relative over 50 epochs through softmax over ten classes, wide hidden layers', async () => {
    const seed = freshSeed();
    const data = blobsData(10, 23, 12, 0.5, seed); // 60 training rows, batch 32: one full and one partial
    const trial = makeTrial({ epochs: 50, hidden: [72, 40], batchSize: 32, shuffle: false, seed: seed % 1000, optimizer: adam(1e-3) });
    const { fused, layers } = await fusedAgainstLayers(trial, data, opts.sweep);
    expect(fused.valProba[0]).toHaveLength(10);
    expect(maxRelDiff(fused.valProba.flat(), layers.valProba.flat(), 1e-2)).toBeLessThan(1e-4);
  });

  it('agrees in distribution over 10 seeds with dropout on two hidden layers and softmax', async () => {
    const data = blobsData(4, 12, 20, 0.5, 4242);
    const seeds = Array.from({ length: 10 }, (_, i) => 300 + i);
    const trials = seeds.map((seed) => makeTrial({ epochs: 40, hidden: [24, 20], dropout: 0.5, batchSize: 16, seed, optimizer: adam(3e-3) }));
    const fused = await expectSameDistribution(opts.sweep, trials, data);
    // dropout acts: the training-mode loss is above the same trials' without it
    const plain = await trainPackFused(seeds.map((seed) => makeTrial({ epochs: 40, hidden: [24, 20], batchSize: 16, seed, optimizer: adam(3e-3) })), data, opts);
    expect(mean(fused.map((r) => r.history.loss.at(-1)!))).toBeGreaterThan(mean(plain.map((r) => r.history.loss.at(-1)!)));
  });

  it('gives each patience value of a replayed group exactly a live run\'s result (three layers, softmax)', async () => {
    const data = blobsData(3, 9, 20, 0.5, 99);
    const trials = [null, 2, 6].map((patience) => makeTrial({ epochs: 80, hidden: [20, 12], dropout: 0.25, augmentation: { jitter: 0.3 },
      batchSize: 8, patience, seed: 5, optimizer: adam(0.02) }));
    expect(planTrainings(trials)).toHaveLength(1);
    const replayed = await trainPackFused(trials, data, opts);
    const live: TrialResult[] = [];
    for (const t of trials) live.push(...(await trainPackFused([t], data, opts)));
    expect(new Set(replayed.map((r) => r.stoppedEpoch)).size).toBeGreaterThan(1);
    for (let i = 0; i < trials.length; i++) {
      expect(replayed[i].history).toEqual(live[i].history);
      expect([replayed[i].stoppedEpoch, replayed[i].bestEpoch]).toEqual([live[i].stoppedEpoch, live[i].bestEpoch]);
      expect(replayed[i].final).toEqual(live[i].final);
      expect(replayed[i].valProba).toEqual(live[i].valProba);
      expect(earlyStop(replayed[0].history.val_loss.slice(0, replayed[i].stoppedEpoch), { patience: trials[i].config.patience, minDelta: 0, restoreBest: true }))
        .toEqual({ stoppedEpoch: replayed[i].stoppedEpoch, bestEpoch: replayed[i].bestEpoch });
    }
  });
});

describe('fused kernel builds', () => {
  it('trains alike in the SIMD128 build and the relaxed-SIMD (fused multiply-add) one', () => {
    const data = blobsData(3, 17, 20, 0.5, freshSeed());
    const trial = makeTrial({ epochs: 30, hidden: [40, 24], batchSize: 16, seed: 11, optimizer: adam(1e-3) });
    const job = kernelJob(trial, planTrainings([trial])[0], data, trainingSet(trial, data), undefined);
    const plain = createKernel({ variant: 'plain' }).trainGroup(job);
    const relaxed = createKernel({ variant: 'relaxed' }).trainGroup(job);
    expect(kernelVariant).toBe(process.env.FITGRID_KERNEL === 'relaxed' ? 'relaxed' : 'plain');
    expect(plain.epochsRun).toBe(30);
    // fused multiply-add rounds once where mul + add round twice: equal to float32 noise
    expect(maxRelDiff(Array.from(relaxed.history.subarray(0, 60)), Array.from(plain.history.subarray(0, 60)))).toBeLessThan(1e-5);
    expect(plain.history[29]).toBeLessThan(plain.history[0]);
  });
});
