/**
 * The report's sample images: a few training images of an image sweep (the first of each
 * class) and, for every augmentation on the grid's axis, versions of them drawn by the very
 * augmenter trials train with (runner/data/augment.ts), from fixed seeded streams so a report
 * rebuilt from the same store shows the same pictures.
 */
import type { Augmentation, DataSpec } from '../records/config.ts';
import { augmenter } from '../data/augment.ts';
import { streamFor } from '../data/random/streams.ts';
import type { Dataset } from '../data/types.ts';
import type { ImagesSummary } from '../records/summary.ts';
import { augmentationLabel } from '../grid/labels.ts';

export interface ImageSampleOptions {
  /** Most sample images (one per class, lowest class indices first). */
  samples?: number;
  /** Augmented versions of each sample per augmentation (one table row each). */
  draws?: number;
  /** Most pixel values in the whole section; bigger images get fewer draws, then fewer samples. */
  budget?: number;
}

const SAMPLE_DEFAULTS: Readonly<Required<ImageSampleOptions>> = Object.freeze({ samples: 10, draws: 4, budget: 60_000 });

export const isImageData = (d: DataSpec) => d.kind === 'digits' || d.kind === 'images' || d.kind === 'idx';

/**
 * The pure part: sample images of `data` and their augmented versions, keyed
 * "<augmentation label> · <draw>" (e.g. "shift 0.1, rotation 10 · 2"), each holding one version
 * per sample in the samples' order. Augmentations that change nothing ("none") are left out.
 */
export function imageSamples(data: Pick<Dataset, 'inputShape' | 'train'>, augmentations: readonly (Augmentation | null)[],
  options: ImageSampleOptions = {}): ImagesSummary {
  const [height, width, channels] = data.inputShape as [number, number, number];
  const budget = options.budget ?? SAMPLE_DEFAULTS.budget;
  const size = height * width * channels;
  const augmenters = uniqueByLabel(augmentations)
    .map((aug) => ({ label: augmentationLabel(aug), augment: augmenter(data, aug) }))
    .filter((a): a is { label: string; augment: NonNullable<ReturnType<typeof augmenter>> } => a.augment !== null);

  let picks = firstOfEachClass(data.train.y).slice(0, options.samples ?? SAMPLE_DEFAULTS.samples);
  let draws = augmenters.length ? options.draws ?? SAMPLE_DEFAULTS.draws : 0;
  const cost = () => picks.length * (1 + augmenters.length * draws) * size;
  // big user images: fewer draws first (one still shows what an augmentation does), then fewer samples
  while (cost() > budget && draws > 1) draws--;
  while (cost() > budget && picks.length > 0) picks = picks.slice(0, -1);
  if (!picks.length) return { width, height, channels };

  const originals = picks.map((i) => data.train.x[i]);
  const augmented: Record<string, number[][]> = {};
  for (const { label, augment } of augmenters) {
    // one stream per augmentation, drawn in order: adding an axis value never changes another's pictures
    const stream = streamFor(0, 'report-samples', label);
    for (let d = 1; d <= draws; d++) augmented[`${label} · ${d}`] = augment(originals, stream).map(round);
  }
  return {
    width, height, channels,
    samples: picks.map((i, k) => ({ label: data.train.y[i], pixels: round(originals[k]) })),
    ...(augmenters.length ? { augmented } : {}),
  };
}

/** Row indices of the first example of each class, in class order. */
function firstOfEachClass(y: readonly number[]): number[] {
  const first = new Map<number, number>();
  y.forEach((c, i) => { if (!first.has(c)) first.set(c, i); });
  return [...first].sort((a, b) => a[0] - b[0]).map(([, i]) => i);
}

function uniqueByLabel(augmentations: readonly (Augmentation | null)[]): (Augmentation | null)[] {
  const seen = new Set<string>();
  return augmentations.filter((a) => !seen.has(augmentationLabel(a)) && seen.add(augmentationLabel(a)));
}

// three decimals are finer than a screen shows and keep summary.json small
const round = (pixels: readonly number[]) => pixels.map((v) => Math.round(v * 1000) / 1000);
