import type { Augmentation, DataSpec, DropoutValue, ModelSpec, OptimizerSpec, TrialConfig } from '../records/config.ts';

/** Display forms of axis values and configs, shared by summary.json and the site's wording. */
export const augmentationLabel = (a: Augmentation | null): string =>
  a === null || Object.keys(a).length === 0
    ? 'none'
    : Object.entries(a).map(([k, v]) => (v === true ? k : `${k} ${v}`)).join(', ');

export const dropoutLabel = (d: DropoutValue): string => (Array.isArray(d) ? `[${d.join(', ')}]` : String(d));

const patienceLabel = (p: number | null): string => (p === null ? 'no early stopping' : `patience ${p}`);

export const cellLabel = (c: Pick<TrialConfig, 'l2' | 'dropout' | 'augmentation' | 'patience'>): string =>
  `l2 ${c.l2} · dropout ${dropoutLabel(c.dropout)} · ${augmentationLabel(c.augmentation)} · ${patienceLabel(c.patience)}`;

const isZeroDropout = (d: DropoutValue) => (Array.isArray(d) ? d.every((x) => x === 0) : d === 0);

export const isNoRemedy = (c: Pick<TrialConfig, 'l2' | 'dropout' | 'augmentation' | 'patience'>) =>
  c.l2 === 0 && isZeroDropout(c.dropout) && augmentationLabel(c.augmentation) === 'none' && c.patience === null;

/** The remedies a cell applies, in words ("L2 0.001 + dropout 0.5"), or "no remedy". */
export function remedyWords(c: Pick<TrialConfig, 'l2' | 'dropout' | 'augmentation' | 'patience'>): string {
  const parts: string[] = [];
  if (c.l2 !== 0) parts.push(`L2 ${c.l2}`);
  if (!isZeroDropout(c.dropout)) parts.push(`dropout ${dropoutLabel(c.dropout)}`);
  if (augmentationLabel(c.augmentation) !== 'none') parts.push(`augmentation (${augmentationLabel(c.augmentation)})`);
  if (c.patience !== null) parts.push(`early stopping (patience ${c.patience})`);
  return parts.length ? parts.join(' + ') : 'no remedy';
}

export function dataDescription(d: DataSpec): string {
  switch (d.kind) {
    case 'moons': return `two interleaving half-moons: ${d.samples} points, noise ${d.noise}, random_state ${d.randomState}`;
    case 'circles': return `two concentric circles: ${d.samples} points, noise ${d.noise}, factor ${d.factor}, random_state ${d.randomState}`;
    case 'csv': return `CSV file ${d.path}, label column "${d.label}"${d.standardize ? ', standardised' : ''}`;
    case 'digits': return `8×8 handwritten digits${d.trainSize ? `, ${d.trainSize} training images` : ''}${d.classes ? `, classes ${d.classes.join(', ')}` : ''}`;
    case 'images': return `images from ${d.path} (${d.width}×${d.height}×${d.channels}), label column "${d.label}"`;
    case 'idx': return `IDX images ${d.images.path}${d.trainSize ? `, ${d.trainSize} training images` : ''}${d.val ? `, validated on ${d.val.images.path}${d.val.size ? ` (${d.val.size})` : ''}` : ''}`;
  }
}

export function modelDescription(m: ModelSpec): string {
  if (m.kind === 'mlp') return `multilayer perceptron: hidden layers [${m.hidden.join(', ')}], ${m.activation}`;
  const blocks = m.blocks.map((b) => `conv ${b.filters}×${b.kernel}² + pool ${b.pool}`).join(', ');
  return `convolutional network: ${blocks}; dense [${m.dense.join(', ')}], ${m.activation}`;
}

export const optimizerLabel = (o: OptimizerSpec): string =>
  o.kind === 'adam' ? `Adam (learning rate ${o.learningRate})` : `SGD (learning rate ${o.learningRate}, momentum ${o.momentum})`;

const modelShort = (m: ModelSpec): string =>
  m.kind === 'mlp'
    ? `MLP [${m.hidden.join(', ')}] ${m.activation}`
    : `CNN ${m.blocks.map((b) => b.filters).join('-')} + dense [${m.dense.join(', ')}]`;

/**
 * For each config, the parts of its model and training that differ across the configs (empty
 * when all share them): what a cell label must add to tell cells of different setups apart.
 */
export function setupDifferences(configs: TrialConfig[]): string[] {
  const parts: ((c: TrialConfig) => string)[] = [
    (c) => modelShort(c.model),
    (c) => `${c.train.epochs} epochs`,
    (c) => `batch ${c.train.batchSize}`,
    (c) => optimizerLabel(c.train.optimizer),
  ];
  const varying = parts.filter((part) => new Set(configs.map(part)).size > 1);
  return configs.map((c) => varying.map((part) => part(c)).join(' · '));
}
