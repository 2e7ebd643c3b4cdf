import type { ModelSpec, Trial } from '../../records/config.ts';
import type { Dataset } from '../../data/types.ts';

/** kernel.c's fixed tables. */
const MAX_BLOCKS = 8;
const MAX_DENSE = 8;

/**
 * Why the conv kernel cannot train this model (train-pack then gives it to layers), or null when
 * it can: ReLU CNNs whose blocks have a multiple of 4 filters (one SIMD vector) on image data.
 */
export function convUnsupportedModel(model: ModelSpec): string | null {
  if (model.kind !== 'cnn') return 'the conv kernel trains CNNs only';
  if (model.activation !== 'relu') return `the conv kernel trains ReLU CNNs, not ${model.activation}`;
  if (model.blocks.length > MAX_BLOCKS) return `the conv kernel takes at most ${MAX_BLOCKS} conv blocks`;
  if (model.dense.length > MAX_DENSE) return `the conv kernel takes at most ${MAX_DENSE} dense layers`;
  const odd = model.blocks.find((b) => b.filters % 4 !== 0);
  if (odd) return `the conv kernel takes multiples of 4 filters, not ${odd.filters}`;
  return null;
}

/** The conv engine's `supports`: convUnsupportedModel for one trial, on image data only. */
export function convSupports(trial: Trial, data: Pick<Dataset, 'inputShape'>): string | null {
  if (data.inputShape.length !== 3) return 'the conv kernel trains on images';
  return convUnsupportedModel(trial.config.model);
}
