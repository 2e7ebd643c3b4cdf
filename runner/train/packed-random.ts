import { Stream } from '../data/streams.ts';

/**
 * A trial's dropout masks, drawn in plain JS into one Float32Array per batch and uploaded once:
 * on wasm, tf.randomUniform for K×B×H masks costs more than the training step itself. Each trial
 * has its own stream, seeded from its own dropout stream, so its masks do not depend on which
 * pack or engine trains it; the layers and packed engines draw identical masks.
 */
export class MaskStream extends Stream {
  /** The next 32 random bits. */
  next(): number {
    return this.nextUint32();
  }
}
