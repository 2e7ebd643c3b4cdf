import { z } from 'zod';
import type {
  Augmentation, ConvBlock, DataSpec, DropoutValue, ModelSpec, OptimizerSpec, SplitSpec, TrainSpec, VerdictThresholds,
} from '../records/config.ts';
import { didYouMean } from './suggest.ts';

/**
 * The grid file's schema. Every schema carries the phrase that completes "Expected `field` to
 * be …" as its error message, so load.ts can turn any zod issue into one line without guessing.
 * Objects are strict: an unknown field is an error that names the closest known one.
 */

/**
 * Thresholds the analysis uses to label cells (runner/analysis/verdict.ts). bias 0.5: underfit
 * when the squared-loss bias exceeds the best cell's by half, or half of chance level's.
 * variance 0.33: overfit when variance is more than a third of the expected loss (on
 * seed-article with bootstrap 10 the baseline measures 0.39, L2 0.29, dropout 0.32, early
 * stopping 0.18). unstable 0.25: seeds' val-loss coefficient of variation above 25%.
 */
export const DEFAULT_VERDICT: VerdictThresholds = Object.freeze({ bias: 0.5, variance: 0.33, unstable: 0.25 });

const expecting = (phrase: string) => ({ errorMap: () => ({ message: phrase }) });

const number = (phrase: string) => z.number(expecting(phrase)).finite();
const nonNegative = (phrase = 'a number ≥ 0') => number(phrase).min(0);
const positive = (phrase = 'a number > 0') => number(phrase).positive();
const fraction = (phrase = 'a number from 0 up to (not including) 1') => number(phrase).min(0).lt(1);
const int = (min: number, phrase = `an integer ≥ ${min}`) => z.number(expecting(phrase)).int().min(min);
const bool = () => z.boolean(expecting('true or false'));
const str = (phrase = 'a string') => z.string(expecting(phrase)).min(1);
/** A `kind`-tagged section: a bad kind lists the kinds; a non-mapping says a mapping was expected. */
const byKind = (kinds: string[]) => {
  const list = `one of ${kinds.map((k) => `\`${k}\``).join(', ')}`;
  return { errorMap: (issue: z.ZodIssueOptionalMessage) => ({ message: issue.code === 'invalid_union_discriminator' ? list : `a mapping with a \`kind\` (${list})` }) };
};
const oneOf = <T extends string>(values: readonly [T, ...T[]]) =>
  z.enum(values, expecting(`one of ${values.map((v) => `\`${v}\``).join(', ')}`));

/** A strict mapping whose unknown-key issue already says which field the user probably meant. */
function strict<S extends z.ZodRawShape>(shape: S, phrase = 'a mapping') {
  const known = Object.keys(shape);
  return z
    .object(shape, {
      errorMap: (issue) => {
        if (issue.code !== 'unrecognized_keys') return { message: phrase };
        const key = issue.keys[0];
        return { message: `Unknown field \`${key}\`${didYouMean(key, known)}` };
      },
    })
    .strict();
}

// ---- data -------------------------------------------------------------------------------------

// sklearn's train_test_split keeps a quarter for testing by default; stratified, as classifiers want.
const DEFAULT_SPLIT: SplitSpec = { kind: 'fraction', trainFraction: 0.75, stratify: true, seed: 0 };

const firstSplit = strict({ train: int(1, 'an integer ≥ 1 (the first N rows train)') })
  .transform((s): SplitSpec => ({ kind: 'first', train: s.train }));
const fractionSplit = strict({
  trainFraction: number('a number between 0 and 1 (exclusive)').gt(0).lt(1),
  stratify: bool().default(true),
  seed: int(0).default(0),
}).transform((s): SplitSpec => ({ kind: 'fraction', ...s }));
const anySplit = z.union([firstSplit, fractionSplit], expecting('`{ train: N }` or `{ trainFraction, stratify, seed }`'));
const split = anySplit.default({ trainFraction: DEFAULT_SPLIT.trainFraction });

// scikit-learn's defaults for make_moons / make_circles, except random_state (None there; 0 here, so runs repeat).
const moons = strict({
  kind: z.literal('moons'),
  samples: int(2).default(100),
  noise: nonNegative().default(0),
  randomState: int(0).default(0),
  shuffle: bool().default(true),
  split,
});
const circles = strict({
  kind: z.literal('circles'),
  samples: int(2).default(100),
  noise: nonNegative().default(0),
  factor: number('a number from 0 up to (not including) 1').min(0).lt(1).default(0.8),
  randomState: int(0).default(0),
  shuffle: bool().default(true),
  split,
});
/** `sha256` is filled by load.ts from the file's bytes; it never comes from YAML. */
const csv = strict({
  kind: z.literal('csv'),
  path: str('a file path (relative to the grid file)'),
  label: str('the name of the label column'),
  standardize: bool().default(false),
  split,
});
const digits = strict({
  kind: z.literal('digits'),
  trainSize: int(1).nullable().default(null),
  classes: z.array(int(0, 'a digit from 0 to 9').max(9), expecting('a list of digits 0–9'))
    .min(2)
    .nullable()
    .default(null),
  split,
});
const images = strict({
  kind: z.literal('images'),
  path: str('a file path (relative to the grid file)'),
  label: str('the name of the label column'),
  width: int(1),
  height: int(1),
  channels: z.union([z.literal(1), z.literal(3)], expecting('1 (grey) or 3 (RGB)')).default(1),
  scale: positive('a number > 0 (pixel values are divided by it)').default(255),
  trainSize: int(1).nullable().default(null),
  split,
});

const idxPath = str('an IDX file path (relative to the grid file), gzip or raw');
/** Paths only: load.ts turns each into `{ path, sha256 }` and reads the shape from the header. */
const idx = strict({
  kind: z.literal('idx'),
  images: idxPath,
  labels: idxPath,
  trainSize: int(1).nullable().default(null),
  split: anySplit.nullable().default(null),
  val: strict({ images: idxPath, labels: idxPath, size: int(1).nullable().default(null) }, 'a mapping `{ images, labels, size }`')
    .nullable()
    .default(null),
  classNames: z.array(str('a class name'), expecting('a list of class names, one per label value 0, 1, …')).min(2).nullable().default(null),
});

export const dataSchema: z.ZodType<DataSpec, z.ZodTypeDef, unknown> = z.discriminatedUnion(
  'kind',
  [moons, circles, csv, digits, images, idx],
  byKind(['moons', 'circles', 'csv', 'digits', 'images', 'idx']),
) as never;

/** The fraction split a data section without `split` gets. */
export const defaultSplit = (): SplitSpec => ({ ...DEFAULT_SPLIT });

// ---- model ------------------------------------------------------------------------------------

const activation = oneOf(['relu', 'tanh', 'sigmoid']);
const units = z.array(int(1, 'a number of units ≥ 1'), expecting('a list of layer widths, e.g. [500]'));
const mlp = strict({ kind: z.literal('mlp'), hidden: units.default([64]), activation: activation.default('relu') });
const block = strict({ filters: int(1), kernel: int(1).default(3), pool: int(1).default(2) });
// 'same' padding and 2×2 pooling: 8×8 digits become 4×4×16, then 2×2×32, then a dense layer.
const DEFAULT_BLOCKS: ConvBlock[] = [{ filters: 16, kernel: 3, pool: 2 }, { filters: 32, kernel: 3, pool: 2 }];
const cnn = strict({
  kind: z.literal('cnn'),
  blocks: z.array(block, expecting('a list of `{ filters, kernel, pool }`')).min(1).default(DEFAULT_BLOCKS),
  dense: units.default([64]),
  activation: activation.default('relu'),
});
export const modelSchema: z.ZodType<ModelSpec, z.ZodTypeDef, unknown> = z.discriminatedUnion(
  'kind',
  [mlp, cnn],
  byKind(['mlp', 'cnn']),
) as never;

/** Why a CNN's pooling leaves nothing of a height × width image (pooling floors), or null when it fits. */
export function cnnShrinks(model: ModelSpec, height: number, width: number): string | null {
  if (model.kind !== 'cnn') return null;
  let [h, w] = [height, width];
  for (const [i, b] of model.blocks.entries()) {
    [h, w] = [Math.floor(h / b.pool), Math.floor(w / b.pool)];
    if (h < 1 || w < 1) return `Expected the conv blocks to leave at least 1×1 pixel of a ${height}×${width} image; pooling by ${b.pool} in block ${i + 1} leaves ${h}×${w}`;
  }
  return null;
}

/** Hidden layers a dropout list must cover: conv blocks then dense layers for a CNN. */
export const hiddenLayers = (model: ModelSpec) =>
  model.kind === 'mlp' ? model.hidden.length : model.blocks.length + model.dense.length;

// ---- train ------------------------------------------------------------------------------------

// Keras' defaults.
const adam = strict({
  kind: z.literal('adam'),
  learningRate: positive().default(0.001),
  beta1: fraction().default(0.9),
  beta2: fraction().default(0.999),
  epsilon: positive().default(1e-7),
});
const sgd = strict({ kind: z.literal('sgd'), learningRate: positive().default(0.01), momentum: fraction().default(0) });
const optimizer = z
  .discriminatedUnion('kind', [adam, sgd], byKind(['adam', 'sgd']))
  .default({ kind: 'adam' }) as unknown as z.ZodType<OptimizerSpec, z.ZodTypeDef, unknown>;

export const trainSchema: z.ZodType<TrainSpec, z.ZodTypeDef, unknown> = strict({
  epochs: int(1),
  batchSize: int(1).default(32),
  optimizer,
  shuffle: bool().default(true),
  minDelta: nonNegative().default(0),
  restoreBest: bool().default(true),
  engine: oneOf(['auto', 'fused', 'packed', 'layers', 'conv']).default('auto'),
});

// ---- axes -------------------------------------------------------------------------------------

const AUGMENTATION_PHRASE =
  '`none`, null or a mapping of jitter, rotation, scale, shift, zoom, shear, flip';
const augmentationOptions = strict({
  jitter: nonNegative('a noise standard deviation ≥ 0').optional(),
  rotation: number('an angle in degrees from 0 to 180').min(0).max(180).optional(),
  scale: fraction('a fraction from 0 up to (not including) 1').optional(),
  shift: fraction('a fraction of the width from 0 up to (not including) 1').optional(),
  zoom: fraction('a fraction from 0 up to (not including) 1').optional(),
  shear: number('an angle in degrees from 0 to 90').min(0).max(90).optional(),
  flip: bool().optional(),
}, AUGMENTATION_PHRASE);

/** Options that only make sense on images; the rest apply to points too. */
export const IMAGE_ONLY_AUGMENTATIONS = ['shift', 'zoom', 'shear', 'flip'] as const;

/** Off options (0, false) are dropped, and nothing left means no augmentation: one spelling per meaning. */
function canonicalAugmentation(a: Augmentation | null | undefined): Augmentation | null {
  if (!a) return null;
  const out: Augmentation = {};
  for (const [k, v] of Object.entries(a)) if (v !== undefined && v !== 0 && v !== false) (out as Record<string, unknown>)[k] = v;
  return Object.keys(out).length ? out : null;
}

const augmentationValue = z
  .union([z.literal('none'), z.null(), augmentationOptions], expecting(AUGMENTATION_PHRASE))
  .transform((a) => canonicalAugmentation(a === 'none' ? null : a));

const l2Value = nonNegative('a number ≥ 0 (an L2 coefficient)');
const rate = fraction('a dropout rate from 0 up to (not including) 1');
const dropoutValue: z.ZodType<DropoutValue, z.ZodTypeDef, unknown> = z.union(
  [rate, z.array(rate).min(1)],
  expecting('a dropout rate from 0 up to (not including) 1, or a list of rates, one per hidden layer'),
);
const patienceValue = int(0, 'an integer ≥ 0 (epochs without improvement) or null').nullable();

const axis = <T extends z.ZodTypeAny>(value: T, phrase: string) =>
  z.array(value, expecting(phrase)).min(1);

const axes = strict({
  l2: axis(l2Value, 'a non-empty list of L2 coefficients').default([0]),
  dropout: axis(dropoutValue, 'a non-empty list of dropout rates').default([0]),
  augmentation: axis(augmentationValue, 'a non-empty list of augmentations').default([null]),
  patience: axis(patienceValue, 'a non-empty list of patience values (null: no early stopping)').default([null]),
});

/** The fields a partial config (include/exclude) may name; sections are checked by merging them over the base. */
const partialSchema = strict({
  data: z.record(z.unknown(), expecting('a mapping')).optional(),
  model: z.record(z.unknown(), expecting('a mapping')).optional(),
  train: z.record(z.unknown(), expecting('a mapping')).optional(),
  l2: l2Value.optional(),
  dropout: dropoutValue.optional(),
  augmentation: augmentationValue.optional(),
  patience: patienceValue.optional(),
}, 'a mapping of axis values (l2, dropout, augmentation, patience) and sections (data, model, train)');

const SEEDS_PHRASE = 'an integer ≥ 1 (that many seeds from 0) or a non-empty list of distinct integers ≥ 0';
// A count stays a count here: load.ts checks it against `limits.seeds` before making the list.
const seeds = z
  .union([int(1, SEEDS_PHRASE), z.array(int(0, 'an integer ≥ 0'), expecting(SEEDS_PHRASE)).min(1)], expecting(SEEDS_PHRASE))
  .default(1);

/** Raised ceilings (runner/grid/limits.ts); what is not named keeps its default. */
const ceiling = (phrase: string) => int(1, phrase).optional();
const limits = strict({
  trials: ceiling('an integer ≥ 1 (most trials in the sweep)'),
  seeds: ceiling('an integer ≥ 1 (most seeds)'),
  bootstrap: ceiling('an integer ≥ 1 (most bootstrap resamples)'),
  samples: ceiling('an integer ≥ 1 (most points of a synthetic dataset)'),
  units: ceiling('an integer ≥ 1 (most units or filters in one layer)'),
  epochs: ceiling('an integer ≥ 1 (most epochs)'),
  memoryMiB: ceiling('an integer ≥ 1 (most estimated MiB per trial)'),
}, 'a mapping of ceilings (trials, seeds, bootstrap, samples, units, epochs, memoryMiB)');

/** The whole file, before the checks that span fields (duplicates, per-layer dropout, include/exclude, files). */
export const gridFileSchema = strict({
  name: z.string(expecting('a sweep name of lowercase letters, digits and dashes')).regex(/^[a-z0-9-]+$/),
  description: z.string(expecting('a string')).default(''),
  data: dataSchema,
  model: modelSchema,
  train: trainSchema,
  grid: axes.default({}),
  seeds,
  bootstrap: int(0, 'an integer ≥ 0 (bootstrap resamples per cell)').default(0),
  include: z.array(partialSchema, expecting('a list of partial configs')).default([]),
  exclude: z.array(partialSchema, expecting('a list of partial configs')).default([]),
  limits: limits.default({}),
  verdict: strict({
    bias: positive().default(DEFAULT_VERDICT.bias),
    variance: positive().default(DEFAULT_VERDICT.variance),
    unstable: positive().default(DEFAULT_VERDICT.unstable),
  }).default({}),
});

export type GridFile = z.output<typeof gridFileSchema>;
