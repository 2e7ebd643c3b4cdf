/** A labelled set of examples in plain float64 numbers; images are flattened row-major (h, w, c). */
export interface Split {
  x: number[][];
  /** Class indices 0..C-1. */
  y: number[];
}

export interface Dataset {
  /** Feature names (CSV header, `x0`/`x1` for synthetic, `p<row>_<col>` for images). */
  featureNames: string[];
  /** Label names in class-index order (CSV labels are mapped to 0..C-1 in sorted order). */
  classNames: string[];
  /** [features] for tabular data, [height, width, channels] for images. */
  inputShape: number[];
  train: Split;
  val: Split;
}
