/**
 * The typed, defaulted form of a grid file. Nothing past runner/grid/ sees raw YAML:
 * every other stage works on these types.
 */

/** `{ train: N }`: the first N rows train (as the article does); the rest validate. */
export interface FirstSplit { kind: 'first'; train: number }
/** A seeded random split, optionally stratified by label. */
export interface FractionSplit { kind: 'fraction'; trainFraction: number; stratify: boolean; seed: number }
export type SplitSpec = FirstSplit | FractionSplit;

export interface MoonsData { kind: 'moons'; samples: number; noise: number; randomState: number; shuffle: boolean; split: SplitSpec }
export interface CirclesData { kind: 'circles'; samples: number; noise: number; factor: number; randomState: number; shuffle: boolean; split: SplitSpec }
/**
 * A CSV with a header row. `path` is as written in the grid file (relative to it);
 * `sha256` is the file's content hash, which is what trial ids depend on, so the same
 * data gives the same ids wherever the file lives.
 */
export interface CsvData { kind: 'csv'; path: string; sha256: string; label: string; standardize: boolean; split: SplitSpec }
/** The bundled 8×8 digits (pixels scaled to [0, 1]); `trainSize` subsets the training part. */
export interface DigitsData { kind: 'digits'; trainSize: number | null; classes: number[] | null; split: SplitSpec }
/** A user's images: one image per CSV row, `width × height` pixel columns plus a label column. */
export interface ImageCsvData { kind: 'images'; path: string; sha256: string; label: string; width: number; height: number; channels: number; scale: number; trainSize: number | null; split: SplitSpec }
/** One IDX file: `path` as written in the grid file (relative to it), `sha256` its bytes' hash (what ids depend on). */
export interface IdxFile { path: string; sha256: string }
/**
 * Images and labels in IDX files (MNIST, Fashion-MNIST, …). Without `val` the training file is
 * split by `split`; with `val` that file pair validates (its `size`: a stratified subset).
 * The image shape comes from the images file's header (runner/data/idx-dataset.ts).
 */
export interface IdxData {
  kind: 'idx';
  images: IdxFile;
  labels: IdxFile;
  trainSize: number | null;
  split: SplitSpec | null;
  val: { images: IdxFile; labels: IdxFile; size: number | null } | null;
  classNames: string[] | null;
}
export type DataSpec = MoonsData | CirclesData | CsvData | DigitsData | ImageCsvData | IdxData;

export type Activation = 'relu' | 'tanh' | 'sigmoid';
export interface MlpModel { kind: 'mlp'; hidden: number[]; activation: Activation }
export interface ConvBlock { filters: number; kernel: number; pool: number }
export interface CnnModel { kind: 'cnn'; blocks: ConvBlock[]; dense: number[]; activation: Activation }
export type ModelSpec = MlpModel | CnnModel;

export type EngineName = 'layers' | 'packed' | 'fused' | 'conv';
export type EngineChoice = 'auto' | EngineName;

export interface AdamSpec { kind: 'adam'; learningRate: number; beta1: number; beta2: number; epsilon: number }
export interface SgdSpec { kind: 'sgd'; learningRate: number; momentum: number }
export type OptimizerSpec = AdamSpec | SgdSpec;

export interface TrainSpec {
  epochs: number;
  /** Keras semantics: a batch of 32 over 30 points is one step per epoch. */
  batchSize: number;
  optimizer: OptimizerSpec;
  /** Shuffle the training set every epoch (Keras' default), from the trial's own stream. */
  shuffle: boolean;
  /** Early stopping: the monitored quantity is always val_loss; improvements must exceed minDelta. */
  minDelta: number;
  restoreBest: boolean;
  engine: EngineChoice;
}

/**
 * One value of the augmentation axis; `null` is "none". Tabular/2-D options: jitter (Gaussian
 * sigma), rotation (degrees), scale (fraction). Image options (ImageDataGenerator semantics):
 * shift (fraction of width/height), rotation (degrees), zoom (fraction), shear (degrees), flip.
 * Absent options are off; canonical form omits them.
 */
export interface Augmentation {
  jitter?: number;
  rotation?: number;
  scale?: number;
  shift?: number;
  zoom?: number;
  shear?: number;
  flip?: boolean;
}

/** Dropout: one rate after every hidden layer, or one per hidden layer (block, then dense for CNNs). */
export type DropoutValue = number | number[];

/** The four remedy axes. A trial takes one value of each. */
export interface Axes {
  l2: number[];
  dropout: DropoutValue[];
  augmentation: (Augmentation | null)[];
  patience: (number | null)[];
}

/** Everything a trial trains from, seed and replicate aside. Its hash is the cellId. */
export interface TrialConfig {
  data: DataSpec;
  model: ModelSpec;
  train: TrainSpec;
  l2: number;
  dropout: DropoutValue;
  augmentation: Augmentation | null;
  patience: number | null;
}

/** A partial config: axis values and/or partial base sections, used by include/exclude. */
export interface PartialConfig {
  [key: string]: unknown;
}

export interface VerdictThresholds {
  /** A cell is "underfit" when its bias exceeds the best cell's by this fraction (or this fraction of chance level's). */
  bias: number;
  /** "overfit" when variance (without bootstrap: the val loss's rise above its minimum) exceeds this fraction of the loss. */
  variance: number;
  /** "unstable" when the seeds' coefficient of variation of val loss exceeds this. */
  unstable: number;
}

export interface Grid {
  /** Absolute path of the file it was read from (not part of any id). */
  file: string;
  /** Folders its data files may lie in (runner/grid/data-roots.ts); absent: the defaults for `file`. */
  dataRoots?: string[];
  name: string;
  description: string;
  data: DataSpec;
  model: ModelSpec;
  train: TrainSpec;
  axes: Axes;
  /** The seed values; `seeds: 3` in YAML means [0, 1, 2]. */
  seeds: number[];
  /** Bootstrap resamples of the training set per cell and seed; 0 = train on the split as is. */
  bootstrap: number;
  include: PartialConfig[];
  exclude: PartialConfig[];
  verdict: VerdictThresholds;
}

export interface Trial {
  trialId: string;
  cellId: string;
  config: TrialConfig;
  seed: number;
  /** Bootstrap replicate index, or null when the grid has no bootstrap. */
  replicate: number | null;
}
