import type { VerdictThresholds } from '../records/config.ts';
import type { Verdict } from '../records/summary.ts';

/**
 * What decides a cell's verdict. Bias and variance are the squared-loss decomposition of the
 * predicted probability of the true class (finer-grained than 0-1 with few validation points);
 * replicates are every ok trial of the cell (bootstrap resamples × seeds, or the seeds alone).
 */
export interface VerdictInput {
  /** Finished (ok) trials; 0 means nothing to judge. */
  ok: number;
  failed: number;
  diverged: number;
  /** Replicates in the decomposition (ok trials). */
  replicates: number;
  /** Whether the replicates include bootstrap resamples, i.e. whether variance sees the training data change. */
  bootstrap: boolean;
  bias: number;
  variance: number;
  /** bias + variance. */
  loss: number;
  /** Means over ok trials at the kept weights. */
  trainAcc: number;
  trainLoss: number;
  valLoss: number;
  /** Mean over ok trials of final val_loss − its minimum over the run: how far it rose again. */
  valLossRise: number;
  /** Coefficient of variation over seeds of the seed's mean val loss (NaN with one seed). */
  seedCv: number;
}

export interface VerdictContext {
  thresholds: VerdictThresholds;
  /** The lowest bias of any cell of the sweep: the grid's own floor. */
  bestBias: number;
  /** The bias of predicting 1/C for every class, (1 − 1/C)²: what no learning at all gives. */
  chanceBias: number;
  /** Squared-loss noise floor of the data, where known (e.g. from the generating distribution). */
  noiseFloor?: number;
}

/**
 * The article's rule made explicit, checked in this order:
 * - failed: no ok trial;
 * - unstable: seeds disagree widely, CV of val loss over seeds > `unstable`;
 * - high bias: bias > (1 + `bias`) × max(best cell's bias, noise floor), or bias above
 *   `bias` × the chance bias (a cell the best of a bad grid cannot excuse). Whether that is
 *   underfitting depends on the training set: a model that does nearly as badly on the data it
 *   trained on (train loss ≥ half its val loss) underfits; one that fits its training data and
 *   still misses on validation memorised it, which is overfitting (the article's "good on the
 *   training set, poor on the test set");
 * - overfit (low bias, high variance): the variance signal > `variance`, where the signal is
 *   variance / loss when the replicates include bootstrap resamples; without them the seeds only
 *   see initialisation and dropout noise (near zero for a full-batch net that memorises its
 *   training set), so the signal is the larger of that share and the val-loss rise share
 *   (final val loss − its minimum) / final val loss, the train/val divergence the learning curves
 *   show; with one replicate only the rise share is left. The train/val gap in cross-entropy is
 *   not used: every net that reaches train accuracy 1 has train loss near 0, remedy or not;
 * - good fit otherwise.
 * The reason names the numbers that decided it and the threshold they were held against.
 */
/** Train loss below this share of val loss means the model fits its training data. */
const FITS_TRAINING = 0.5;

export function verdict(input: VerdictInput, ctx: VerdictContext): { label: Verdict; reason: string } {
  const t = ctx.thresholds;
  if (input.ok === 0) {
    return { label: 'failed', reason: `no finished trial (${input.failed} failed, ${input.diverged} diverged)` };
  }
  const f = fmt;
  const context = `train acc ${f(input.trainAcc)}, val loss ${f(input.valLoss)}${input.valLossRise > 0.005 ? ` rose ${f(input.valLossRise)} above its minimum` : ''}`;
  if (input.seedCv > t.unstable) {
    return { label: 'unstable', reason: `${context}; seeds disagree: val loss CV ${f(input.seedCv)} > ${t.unstable}` };
  }
  const floor = Math.max(ctx.bestBias, ctx.noiseFloor ?? 0);
  const relativeLimit = (1 + t.bias) * floor;
  const chanceLimit = t.bias * ctx.chanceBias;
  const highBias = input.bias > relativeLimit
    ? `bias ${f(input.bias)} > ${f(relativeLimit)} = (1 + ${t.bias}) × ${ctx.noiseFloor !== undefined && ctx.noiseFloor > ctx.bestBias ? 'noise floor' : 'best cell\'s'} ${f(floor)}`
    : input.bias > chanceLimit ? `bias ${f(input.bias)} > ${f(chanceLimit)} = ${t.bias} × chance ${f(ctx.chanceBias)}` : undefined;
  if (highBias) {
    return input.trainLoss >= FITS_TRAINING * input.valLoss
      ? { label: 'underfit', reason: `${context}; ${highBias}, and train loss ${f(input.trainLoss)} ≥ ${FITS_TRAINING} × val loss: it misses the training data too` }
      : { label: 'overfit', reason: `${context}; ${highBias}, yet train loss ${f(input.trainLoss)} < ${FITS_TRAINING} × val loss: it fits its training data and not new data` };
  }
  const { share, signal } = varianceSignal(input);
  if (share > t.variance) return { label: 'overfit', reason: `${context}; ${signal} > ${t.variance}` };
  return { label: 'good fit', reason: `${context}; bias ${f(input.bias)} ≤ ${f(Math.min(relativeLimit, chanceLimit))}, ${signal} ≤ ${t.variance}` };
}

function varianceSignal(input: VerdictInput): { share: number; signal: string } {
  const f = fmt;
  const varianceShare = input.replicates > 1 ? input.variance / input.loss : NaN;
  const riseShare = Math.max(0, input.valLossRise) / input.valLoss;
  const measured = `variance ${f(input.variance)} is ${f(varianceShare)} of loss ${f(input.loss)}`;
  if (input.bootstrap && input.replicates > 1) return { share: varianceShare, signal: measured };
  const rise = `val loss rise ${f(input.valLossRise)} is ${f(riseShare)} of val loss`;
  if (!(input.replicates > 1)) return { share: riseShare, signal: `one replicate, so the curve: ${rise}` };
  return varianceShare > riseShare
    ? { share: varianceShare, signal: `${measured} (seeds only)` }
    : { share: riseShare, signal: `no bootstrap, so the curve: ${rise}` };
}

/** Three significant digits, never exponent notation for the small numbers seen here. */
function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x !== 0 && Math.abs(x) < 0.001) return x.toExponential(1);
  return Number(x.toPrecision(3)).toString();
}
