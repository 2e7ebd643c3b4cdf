import type { Trial } from '../records/config.ts';
import type { Dataset } from '../data/types.ts';

/**
 * Floating-point operations of one epoch of an MLP trial: forward (2 per weight per example) and
 * backward (twice the forward) over the training set, a forward pass over the validation set,
 * and about 14 per parameter for Adam with L2. Activations, loss and dropout are left out: the
 * count is a floor, so achieved GFLOP/s are conservative.
 */
export function epochFlops(trial: Trial, data: Dataset): number {
  const model = trial.config.model;
  if (model.kind !== 'mlp') return NaN;
  const outputs = data.classNames.length > 2 ? data.classNames.length : 1;
  const widths = [data.inputShape.reduce((a, b) => a * b, 1), ...model.hidden, outputs];
  let weights = 0;
  let parameters = 0;
  for (let i = 1; i < widths.length; i++) {
    weights += widths[i - 1] * widths[i];
    parameters += widths[i - 1] * widths[i] + widths[i];
  }
  const forward = 2 * weights;
  return data.train.y.length * 3 * forward + data.val.y.length * forward + 14 * parameters;
}
