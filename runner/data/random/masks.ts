import { Stream } from './streams.ts';

/**
 * A trial's dropout masks, drawn in plain JS into one Float32Array per batch and uploaded once:
 * on wasm, tf.randomUniform for K×B×H masks costs more than the training step itself. Each trial
 * has its own stream, seeded from its own dropout stream, so its masks do not depend on which
 * pack or engine trains it; the layers and packed engines draw identical masks.
 *
 * A rate that is a multiple of 1/2^m (m ≤ 8: 0.5, 0.25, 0.125, 0.375…) decides each unit from m
 * bits, exactly Bernoulli(rate), several units per 32-bit draw; other rates compare one 24-bit
 * draw per unit. Unused bits carry over between calls, so a mask does not depend on how it is
 * split into calls (the layers engine fills a batch at once, the packed engine row by row).
 */
export class MaskStream extends Stream {
  private bits = 0;
  private left = 0;

  /** The next 32 random bits (bits left over from a mask are dropped). */
  next(): number {
    this.left = 0;
    return this.nextUint32();
  }

  /** Fills out[offset, offset+n) with 0 (dropped, probability `rate`) or 1/(1−rate) (kept), as tf.dropout scales; draws nothing for a rate of 0. */
  fillMask(out: Float32Array, offset: number, n: number, rate: number): void {
    const end = offset + n;
    if (rate <= 0) {
      out.fill(1, offset, end);
      return;
    }
    const scale = keepScale(rate);
    const m = dyadicBits(rate);
    if (m === 0) {
      this.left = 0;
      const threshold = Math.round(rate * 0x1000000);
      for (let i = offset; i < end; i++) out[i] = this.nextUint32() >>> 8 >= threshold ? scale : 0;
      return;
    }
    const threshold = rate * 2 ** m;
    const unit = (1 << m) - 1;
    let { bits, left } = this;
    for (let i = offset; i < end; i++) {
      if (left < m) {
        bits = this.nextUint32();
        left = 32;
      }
      out[i] = (bits & unit) >= threshold ? scale : 0;
      bits >>>= m;
      left -= m;
    }
    this.bits = bits;
    this.left = left;
  }
}

/** What tf.dropout multiplies a kept unit by. */
export const keepScale = (rate: number): number => 1 / (1 - rate);

/** The fewest bits m ≤ 8 with rate·2^m whole, or 0 when there is none. */
export function dyadicBits(rate: number): number {
  for (let m = 1; m <= 8; m++) if (Number.isInteger(rate * 2 ** m)) return m;
  return 0;
}
