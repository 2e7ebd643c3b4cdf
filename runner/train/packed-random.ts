/**
 * Dropout masks drawn in plain JS into one Float32Array per epoch and uploaded once: on wasm,
 * tf.randomUniform for K×B×H masks costs more than the training step itself. xoshiro128** is a
 * small, well-tested generator (Blackman & Vigna); each trial gets its own, seeded from its own
 * dropout stream, so a trial's masks do not depend on which pack it trains in.
 */
export class MaskStream {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seedWords: readonly [number, number, number, number]) {
    [this.s0, this.s1, this.s2, this.s3] = seedWords.map((w) => w >>> 0) as [number, number, number, number];
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 0x9e3779b9;
  }

  /** The next 32 random bits. */
  next(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /**
   * Fills out[offset, offset+n) with 0 (dropped, probability `rate`) or 1/(1−rate) (kept), as
   * tf.dropout scales. Compares 24-bit integers, so no float is made per draw.
   */
  fillMask(out: Float32Array, offset: number, n: number, rate: number): void {
    const end = offset + n;
    if (rate <= 0) {
      out.fill(1, offset, end);
      return;
    }
    const scale = 1 / (1 - rate);
    const threshold = Math.round(rate * 0x1000000);
    // next(), inlined on local copies of the state: this loop draws millions of numbers an epoch.
    let { s0, s1, s2, s3 } = this;
    for (let i = offset; i < end; i++) {
      const bits = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      out[i] = bits >>> 8 >= threshold ? scale : 0;
    }
    this.s0 = s0;
    this.s1 = s1;
    this.s2 = s2;
    this.s3 = s3;
  }
}

const rotl = (x: number, k: number) => (x << k) | (x >>> (32 - k));
