/**
 * numpy's legacy `RandomState`, bit for bit: the Mersenne Twister (Matsumoto & Nishimura, 1998)
 * with numpy's seeding, doubles, Gaussians and shuffle. scikit-learn's `make_moons` and
 * `make_circles` draw from it, so reproducing it is what makes our datasets theirs.
 *
 * Checked against numpy 1.24 (`numpy/random/_mt19937.pyx` `_legacy_seeding`, `src/mt19937`,
 * `src/distributions/legacy/legacy-distributions.c`, `mtrand.pyx` `shuffle`) and against
 * values numpy printed (test/fixtures/data/).
 */
import { PolarGaussians } from './gaussian.ts';

const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER = 0x80000000;
const LOWER = 0x7fffffff;

export class RandomState {
  private readonly mt = new Uint32Array(N);
  private pos = N;
  private readonly normals = new PolarGaussians(() => this.randomSample());

  /**
   * An integer seed goes through `mt19937_seed` (Knuth's linear recurrence, what
   * `RandomState(seed)` does); an array of integers through `init_by_array` (what
   * `RandomState([a, b, …])` does). Both must lie in [0, 2³²).
   */
  constructor(seed: number | readonly number[]) {
    if (typeof seed === 'number') {
      checkWord(seed);
      this.seedInt(seed);
    } else {
      if (seed.length === 0) throw new RangeError('Expected a non-empty seed array');
      seed.forEach(checkWord);
      this.initByArray(seed);
    }
  }

  private seedInt(seed: number): void {
    let s = seed >>> 0;
    for (let i = 0; i < N; i++) {
      this.mt[i] = s;
      s = (Math.imul(1812433253, s ^ (s >>> 30)) + i + 1) >>> 0;
    }
  }

  private initByArray(key: readonly number[]): void {
    const mt = this.mt;
    this.seedInt(19650218);
    let i = 1;
    let j = 0;
    for (let k = Math.max(N, key.length); k > 0; k--) {
      const prev = mt[i - 1];
      mt[i] = ((mt[i] ^ Math.imul(prev ^ (prev >>> 30), 1664525)) + key[j] + j) >>> 0;
      i++;
      j++;
      if (i >= N) {
        mt[0] = mt[N - 1];
        i = 1;
      }
      if (j >= key.length) j = 0;
    }
    for (let k = N - 1; k > 0; k--) {
      const prev = mt[i - 1];
      mt[i] = ((mt[i] ^ Math.imul(prev ^ (prev >>> 30), 1566083941)) - i) >>> 0;
      i++;
      if (i >= N) {
        mt[0] = mt[N - 1];
        i = 1;
      }
    }
    mt[0] = UPPER;
  }

  private twist(): void {
    const mt = this.mt;
    let kk = 0;
    for (; kk < N - M; kk++) {
      const y = (mt[kk] & UPPER) | (mt[kk + 1] & LOWER);
      mt[kk] = mt[kk + M] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    for (; kk < N - 1; kk++) {
      const y = (mt[kk] & UPPER) | (mt[kk + 1] & LOWER);
      mt[kk] = mt[kk + M - N] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    const y = (mt[N - 1] & UPPER) | (mt[0] & LOWER);
    mt[N - 1] = mt[M - 1] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    this.pos = 0;
  }

  /** The next tempered 32-bit output. */
  nextUint32(): number {
    if (this.pos >= N) this.twist();
    let y = this.mt[this.pos++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** `random_sample()`: a double in [0, 1) from 27 + 26 bits of two outputs. */
  randomSample(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /**
   * `standard_normal()` of the legacy stream: Marsaglia's polar method, which makes two
   * Gaussians per accepted pair; the first returned is `f·x2`, `f·x1` is kept for the next call.
   */
  standardNormal(): number {
    return this.normals.next();
  }

  /** `normal(loc, scale, size)`: `size` values, filled in C order, each `loc + scale·g`. */
  normal(loc: number, scale: number, size: number): number[] {
    const out = new Array<number>(size);
    for (let i = 0; i < size; i++) out[i] = loc + scale * this.standardNormal();
    return out;
  }

  /**
   * `random_interval(max)`: a uniform integer in [0, max] by masked rejection: draw 32 bits,
   * keep the smallest all-ones mask covering `max`, retry while above it.
   */
  interval(max: number): number {
    if (max === 0) return 0;
    if (max > 0xffffffff) throw new RangeError('Expected `max` below 2³² (numpy switches to 64-bit draws there)');
    let mask = max;
    mask |= mask >>> 1;
    mask |= mask >>> 2;
    mask |= mask >>> 4;
    mask |= mask >>> 8;
    mask |= mask >>> 16;
    mask >>>= 0;
    let value: number;
    while ((value = (this.nextUint32() & mask) >>> 0) > max);
    return value;
  }

  /** `shuffle(x)` for a 1-D array: Fisher–Yates from the end, in place. */
  shuffle<T>(x: T[]): T[] {
    for (let i = x.length - 1; i > 0; i--) {
      const j = this.interval(i);
      const t = x[i]!;
      x[i] = x[j]!;
      x[j] = t;
    }
    return x;
  }
}

function checkWord(n: number): void {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) {
    throw new RangeError(`Expected a seed to be an integer from 0 to 2**32 - 1, got ${n}`);
  }
}
