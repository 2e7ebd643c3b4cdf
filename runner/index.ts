/** The library API: plain typed functions over the stages. */
export type * from './grid/types.ts';
export type * from './data/types.ts';
export type * from './train/types.ts';
export type * from './analysis/types.ts';
export type { Store } from './store/store.ts';
export { loadGrid } from './grid/load.ts';
export { expandGrid, matchesPartial } from './grid/expand.ts';
export { planPacks, buildManifest, trialEpochs, DEFAULT_PACK_SIZE } from './grid/plan.ts';
export { canonicalJson, cellId, trialId } from './grid/canonical.ts';
export { DEFAULT_VERDICT } from './grid/schema.ts';
export { dataFilePath, readDataFiles } from './grid/data-files.ts';
export { makeMoons, makeCircles } from './data/synthetic.ts';
export { loadDataset } from './data/load.ts';
export { biasVarianceDecomp, varianceSplit, pointVariance } from './analysis/bias-variance.ts';
export type { BiasVarianceLoss, Decomposition } from './analysis/bias-variance.ts';
export { mean, sd, tQuantile, ciOf, coefficientOfVariation } from './analysis/stats.ts';
export { pairedEffect } from './analysis/effects.ts';
export { verdict } from './analysis/verdict.ts';
