/**
 * Marsaglia's polar method: two independent standard Gaussians from uniforms in [0, 1). In
 * numpy's legacy order, `next` is returned now and `spare` is kept for the following call, so the
 * MT19937 stream matches numpy's `standard_normal` bit for bit.
 */
function polarPair(uniform: () => number): { next: number; spare: number } {
  let x1: number;
  let x2: number;
  let r2: number;
  do {
    x1 = 2 * uniform() - 1;
    x2 = 2 * uniform() - 1;
    r2 = x1 * x1 + x2 * x2;
  } while (r2 >= 1 || r2 === 0);
  const f = Math.sqrt((-2 * Math.log(r2)) / r2);
  return { next: f * x2, spare: f * x1 };
}

/** Standard Gaussians by the polar method, the spare of each pair kept for the next call. */
export class PolarGaussians {
  private spare: number | null = null;
  constructor(private readonly uniform: () => number) {}

  next(): number {
    if (this.spare !== null) {
      const g = this.spare;
      this.spare = null;
      return g;
    }
    const pair = polarPair(this.uniform);
    this.spare = pair.spare;
    return pair.next;
  }
}
