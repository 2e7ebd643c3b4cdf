/**
 * Seeded random streams for everything a trial draws while training (initial weights, dropout
 * masks, augmentation, batch order). Each stream is xoshiro128** (Blackman & Vigna, 2018), a
 * small fast generator whose 128-bit state is the SHA-256 of (seed, purpose, extra): streams
 * for different purposes or replicates are independent, and a trial's draws do not depend on
 * which pack, process or machine trains it.
 */
import { createHash } from 'node:crypto';
import { PolarGaussians } from './gaussian.ts';

export type SeedWords = readonly [number, number, number, number];

/**
 * The 128-bit state of the stream for (seed, purpose, extra), e.g. `streamSeed(3, 'dropout')`
 * or `streamSeed(3, 'augment', replicate)`. For engines that run their own xoshiro128** copy.
 */
export function streamSeed(seed: number, purpose: string, extra?: string | number | null): SeedWords {
  const digest = createHash('sha256').update(JSON.stringify([seed, purpose, extra ?? null])).digest();
  const words = [0, 4, 8, 12].map((o) => digest.readUInt32LE(o)) as [number, number, number, number];
  // xoshiro's one forbidden state; a hash hits it with probability 2^-128, but cost nothing to rule out
  if ((words[0] | words[1] | words[2] | words[3]) === 0) words[0] = 0x9e3779b9;
  return words;
}

/** The stream for (seed, purpose, extra); see `streamSeed`. */
export function streamFor(seed: number, purpose: string, extra?: string | number | null): Stream {
  return new Stream(streamSeed(seed, purpose, extra));
}

export class Stream {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private readonly normals = new PolarGaussians(() => this.uniform());

  constructor(words: SeedWords) {
    [this.s0, this.s1, this.s2, this.s3] = words.map((w) => w >>> 0) as [number, number, number, number];
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 0x9e3779b9;
  }

  /** The next 32 random bits as an unsigned integer. */
  nextUint32(): number {
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

  /** A double in [0, 1) with 53 random bits. */
  uniform(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** A double uniform in [low, high). */
  between(low: number, high: number): number {
    return low + (high - low) * this.uniform();
  }

  /** A standard Gaussian (Marsaglia's polar method; the second of each pair is kept for the next call). */
  gaussian(): number {
    return this.normals.next();
  }

  /** An integer uniform in [0, n), unbiased (rejection of the short last bucket), n ≤ 2³². */
  int(n: number): number {
    if (!(n >= 1 && n <= 0x100000000)) throw new RangeError(`Expected \`n\` to be from 1 to 2**32, got ${n}`);
    const limit = 0x100000000 - (0x100000000 % n);
    let x: number;
    while ((x = this.nextUint32()) >= limit);
    return x % n;
  }

  /** Shuffles `x` in place (Fisher–Yates) and returns it. */
  shuffle<T>(x: T[]): T[] {
    for (let i = x.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = x[i]!;
      x[i] = x[j]!;
      x[j] = t;
    }
    return x;
  }

  /** A random permutation of 0..n-1. */
  permutation(n: number): number[] {
    return this.shuffle(Array.from({ length: n }, (_, i) => i));
  }
}

const rotl = (x: number, k: number) => (x << k) | (x >>> (32 - k));
