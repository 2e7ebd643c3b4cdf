/** The library API: plain typed functions over the stages. */
export type * from './grid/types.ts';
export type * from './data/types.ts';
export type * from './train/types.ts';
export type * from './analysis/types.ts';
export type { Store } from './store/store.ts';
