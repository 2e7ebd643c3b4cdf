/*
 * fitgrid's fused MLP trainer: one trial's whole training (shuffle, jitter, forward, dropout,
 * loss, backward, L2, Adam/SGD, validation, early stopping with weight snapshots) in one call,
 * over weights that stay in cache. Semantics follow the tfjs layers engine (Keras): a batch
 * loss is the mean cross-entropy plus c·Σw² over kernels, epoch loss/acc are batch-size
 * weighted means, probabilities are clipped to [1e-7, 1-1e-7] (zero gradient outside).
 *
 * Built for wasm32 + SIMD128 without libc (build.sh) and natively for the speed comparison
 * (runner/bench/native/native.c includes this file), so it uses only the few functions defined here.
 */
#include <stdint.h>

#ifdef __wasm__
#include <wasm_simd128.h>
#define EXPORT(name) __attribute__((export_name(#name)))
#else
#define EXPORT(name)
#include "simd-native.h"
#endif

typedef float f32;
typedef double f64;

/* ---------- memory: a bump allocator over the module's linear memory ---------- */

#ifdef __wasm__
extern unsigned char __heap_base;
static uintptr_t heap_top = 0;

EXPORT(alloc) void *fg_alloc(uint32_t bytes) {
  if (!heap_top) heap_top = (uintptr_t)&__heap_base;
  uintptr_t p = (heap_top + 15) & ~(uintptr_t)15;
  uintptr_t end = p + bytes;
  uintptr_t have = __builtin_wasm_memory_size(0) * 65536u;
  if (end > have) {
    uintptr_t pages = (end - have + 65535u) / 65536u;
    if (__builtin_wasm_memory_grow(0, pages) == (uintptr_t)-1) return 0;
  }
  heap_top = end;
  return (void *)p;
}

/* Everything allocated after `mark()` is freed by `release(mark)`. */
EXPORT(mark) uintptr_t fg_mark(void) {
  if (!heap_top) heap_top = (uintptr_t)&__heap_base;
  return heap_top;
}
EXPORT(release) void fg_release(uintptr_t m) { heap_top = m; }
#else
#include <stdlib.h>
void *fg_alloc(uint32_t bytes) { return aligned_alloc(16, (bytes + 15) & ~15u); }
#endif

/* ---------- scalar maths (no libc): double precision, so float results are correctly rounded in practice ---------- */

static f64 f64_from_bits(uint64_t u) { union { uint64_t u; f64 d; } v = { u }; return v.d; }
static uint64_t f64_bits(f64 d) { union { f64 d; uint64_t u; } v = { d }; return v.u; }

static f64 fg_exp(f64 x) {
  if (x != x) return x;
  if (x > 709.0) return 1.0 / 0.0;
  if (x < -745.0) return 0.0;
  const f64 ln2 = 0.69314718055994530942;
  f64 kf = x / ln2;
  int k = (int)(kf < 0 ? kf - 0.5 : kf + 0.5);
  /* two-part ln2 keeps the reduction exact enough for |k| up to ~1000 */
  f64 r = (x - k * 6.93147180369123816490e-01) - k * 1.90821492927058770002e-10;
  /* exp(r) = exp(r/16)^16, Taylor to degree 7 on |r/16| <= 0.022 */
  f64 s = r * 0.0625;
  f64 p = 1.0 + s * (1.0 + s * (0.5 + s * (1.0 / 6 + s * (1.0 / 24 + s * (1.0 / 120 + s * (1.0 / 720 + s * (1.0 / 5040)))))));
  p *= p; p *= p; p *= p; p *= p;
  /* scale by 2^k in two halves so subnormal results stay right */
  int k1 = k / 2, k2 = k - k1;
  return p * f64_from_bits((uint64_t)(k1 + 1023) << 52) * f64_from_bits((uint64_t)(k2 + 1023) << 52);
}

static f64 fg_log(f64 x) {
  if (x != x || x < 0) return 0.0 / 0.0;
  if (x == 0) return -1.0 / 0.0;
  if (x == 1.0 / 0.0) return x;
  uint64_t u = f64_bits(x);
  int e = (int)((u >> 52) & 0x7ff);
  if (e == 0) { /* subnormal */
    x *= 18014398509481984.0; /* 2^54 */
    u = f64_bits(x);
    e = (int)((u >> 52) & 0x7ff) - 54;
  }
  e -= 1023;
  f64 m = f64_from_bits((u & 0x000fffffffffffffull) | 0x3ff0000000000000ull);
  if (m > 1.41421356237309504880) { m *= 0.5; e += 1; }
  f64 s = (m - 1.0) / (m + 1.0), s2 = s * s;
  f64 t = 1.0 / 19;
  t = 1.0 / 17 + s2 * t; t = 1.0 / 15 + s2 * t; t = 1.0 / 13 + s2 * t; t = 1.0 / 11 + s2 * t;
  t = 1.0 / 9 + s2 * t; t = 1.0 / 7 + s2 * t; t = 1.0 / 5 + s2 * t; t = 1.0 / 3 + s2 * t; t = 1.0 + s2 * t;
  return 2.0 * s * t + e * 0.69314718055994530942;
}

static f32 fg_sigmoid(f32 z) {
  f64 x = z;
  return (f32)(x >= 0 ? 1.0 / (1.0 + fg_exp(-x)) : fg_exp(x) / (1.0 + fg_exp(x)));
}

static f32 fg_tanh(f32 z) {
  f64 x = z, ax = x < 0 ? -x : x;
  if (ax < 1e-4) return (f32)(x - x * x * x / 3.0);
  if (ax > 20) return x < 0 ? -1.0f : 1.0f;
  f64 e = fg_exp(2.0 * ax), t = (e - 1.0) / (e + 1.0);
  return (f32)(x < 0 ? -t : t);
}

/* sin and cos of |a| <= pi: Taylor series at a/4, then the double-angle formulas twice */
static void fg_sincos(f64 a, f64 *s, f64 *c) {
  f64 x = a * 0.25, x2 = x * x;
  f64 sn = x * (1 - x2 / 6 * (1 - x2 / 20 * (1 - x2 / 42 * (1 - x2 / 72 * (1 - x2 / 110 * (1 - x2 / 156 * (1 - x2 / 210)))))));
  f64 cs = 1 - x2 / 2 * (1 - x2 / 12 * (1 - x2 / 30 * (1 - x2 / 56 * (1 - x2 / 90 * (1 - x2 / 132 * (1 - x2 / 182 * (1 - x2 / 240)))))));
  for (int k = 0; k < 2; k++) { f64 s2 = 2 * sn * cs, c2 = cs * cs - sn * sn; sn = s2; cs = c2; }
  *s = sn; *c = cs;
}

/* ---------- random streams: xoshiro128+ seeded through splitmix64 ---------- */

typedef struct { uint32_t s[4]; } rng_t;

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static void rng_seed(rng_t *r, uint64_t seed) {
  uint64_t a = splitmix64(&seed), b = splitmix64(&seed);
  r->s[0] = (uint32_t)a; r->s[1] = (uint32_t)(a >> 32);
  r->s[2] = (uint32_t)b; r->s[3] = (uint32_t)(b >> 32);
}

static uint32_t rotl(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }

static uint32_t rng_next(rng_t *r) {
  uint32_t *s = r->s, out = s[0] + s[3], t = s[1] << 9;
  s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
  s[2] ^= t; s[3] = rotl(s[3], 11);
  return out;
}

/*
 * Four independent xoshiro128+ streams advanced together: four dropout draws per step, in SIMD
 * lanes on wasm and in a plain array natively (the same numbers either way).
 */
typedef struct { uint32_t s[4][4]; /* s[word][lane] */ } rng4_t;

static void rng4_seed(rng4_t *r, uint64_t seed) {
  for (int lane = 0; lane < 4; lane++) {
    rng_t one;
    rng_seed(&one, seed + 0x9e3779b97f4a7c15ull * (uint64_t)(lane + 1));
    for (int w = 0; w < 4; w++) r->s[w][lane] = one.s[w];
  }
}


/*
 * Inverted dropout over n activations: each kept with probability keep (24 random bits per unit),
 * kept ones scaled by 1/keep; the derivative factors g get the same factor.
 */
static void dropout(rng4_t *r, int n, f32 keep, f32 inv_keep, f32 *restrict h, f32 *restrict g) {
  v128_t s0 = wasm_v128_load(r->s[0]), s1 = wasm_v128_load(r->s[1]), s2 = wasm_v128_load(r->s[2]), s3 = wasm_v128_load(r->s[3]);
  const v128_t vkeep = wasm_f32x4_splat(keep), vinv = wasm_f32x4_splat(inv_keep), unit = wasm_f32x4_splat(1.0f / 16777216.0f);
  for (int i = 0; i < n; i += 4) {
    v128_t out = wasm_i32x4_add(s0, s3), t = wasm_i32x4_shl(s1, 9);
    s2 = wasm_v128_xor(s2, s0); s3 = wasm_v128_xor(s3, s1); s1 = wasm_v128_xor(s1, s2); s0 = wasm_v128_xor(s0, s3);
    s2 = wasm_v128_xor(s2, t); s3 = wasm_v128_or(wasm_i32x4_shl(s3, 11), wasm_u32x4_shr(s3, 21));
    v128_t u = wasm_f32x4_mul(wasm_f32x4_convert_i32x4(wasm_u32x4_shr(out, 8)), unit);
    v128_t scale = wasm_v128_and(vinv, wasm_f32x4_lt(u, vkeep));
    if (i + 4 <= n) {
      wasm_v128_store(h + i, wasm_f32x4_mul(wasm_v128_load(h + i), scale));
      wasm_v128_store(g + i, wasm_f32x4_mul(wasm_v128_load(g + i), scale));
    } else {
      f32 sc[4];
      wasm_v128_store(sc, scale);
      for (int k = 0; i + k < n; k++) { h[i + k] *= sc[k]; g[i + k] *= sc[k]; }
    }
  }
  wasm_v128_store(r->s[0], s0); wasm_v128_store(r->s[1], s1); wasm_v128_store(r->s[2], s2); wasm_v128_store(r->s[3], s3);
}

/* uniform in [0, 1) with 53 random bits */
static f64 rng_uniform53(rng_t *r) {
  uint32_t a = rng_next(r) >> 5, b = rng_next(r) >> 6;
  return (a * 67108864.0 + b) * (1.0 / 9007199254740992.0);
}

static uint32_t rng_below(rng_t *r, uint32_t n) { return (uint32_t)(((uint64_t)rng_next(r) * n) >> 32); }

/* standard normal, Marsaglia's polar method (needs only log and sqrt) */
static f32 rng_normal(rng_t *r, f32 *spare, int *has_spare) {
  if (*has_spare) { *has_spare = 0; return *spare; }
  f64 u, v, s;
  do {
    u = 2.0 * ((rng_next(r) >> 8) * (1.0 / 16777216.0)) - 1.0;
    v = 2.0 * ((rng_next(r) >> 8) * (1.0 / 16777216.0)) - 1.0;
    s = u * u + v * v;
  } while (s >= 1.0 || s == 0.0);
  f64 m = __builtin_sqrt(-2.0 * fg_log(s) / s);
  *spare = (f32)(v * m); *has_spare = 1;
  return (f32)(u * m);
}

/* ---------- dense vector helpers (SIMD128 on wasm; the native build lets clang vectorize) ---------- */

/* y += a·x */
static void axpy(int n, f32 a, const f32 *restrict x, f32 *restrict y) {
  int i = 0;
  v128_t va = wasm_f32x4_splat(a);
  for (; i + 8 <= n; i += 8) {
    v128_t y0 = wasm_v128_load(y + i), y1 = wasm_v128_load(y + i + 4);
    y0 = wasm_f32x4_add(y0, wasm_f32x4_mul(va, wasm_v128_load(x + i)));
    y1 = wasm_f32x4_add(y1, wasm_f32x4_mul(va, wasm_v128_load(x + i + 4)));
    wasm_v128_store(y + i, y0); wasm_v128_store(y + i + 4, y1);
  }
  for (; i < n; i++) y[i] += a * x[i];
}

/* Σ x·y with four interleaved partial sums (the same order on every build) */
static f32 dot(int n, const f32 *restrict x, const f32 *restrict y) {
  int i = 0;
  f32 s;
  v128_t a0 = wasm_f32x4_splat(0), a1 = a0;
  for (; i + 8 <= n; i += 8) {
    a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(wasm_v128_load(x + i), wasm_v128_load(y + i)));
    a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(wasm_v128_load(x + i + 4), wasm_v128_load(y + i + 4)));
  }
  a0 = wasm_f32x4_add(a0, a1);
  s = (wasm_f32x4_extract_lane(a0, 0) + wasm_f32x4_extract_lane(a0, 1)) +
      (wasm_f32x4_extract_lane(a0, 2) + wasm_f32x4_extract_lane(a0, 3));
  for (; i < n; i++) s += x[i] * y[i];
  return s;
}

static void copy(int n, const f32 *restrict x, f32 *restrict y) { for (int i = 0; i < n; i++) y[i] = x[i]; }
static void fill(int n, f32 v, f32 *y) { for (int i = 0; i < n; i++) y[i] = v; }

/* ---------- the model ---------- */

enum { ACT_RELU = 0, ACT_TANH = 1, ACT_SIGMOID = 2 };
enum { OPT_ADAM = 0, OPT_SGD = 1 };
#define MAX_LAYERS 16
#define EPS 1e-7
#define MAX_AUG_FEATURES 256 /* scale/rotation augmentation: at most this many features */

/* Integer configuration, laid out by the caller (index.ts / worker.mjs) in this order. */
enum {
  C_IN, C_OUT, C_HIDDEN, C_ACT, C_NTRAIN, C_NVAL, C_BATCH, C_EPOCHS, C_OPT, C_SHUFFLE,
  C_NPATIENCE, C_RESTORE, C_SEED_LO, C_SEED_HI, C_WIDTHS /* then C_HIDDEN widths */
};
/* Real configuration (float64). */
enum { F_LR, F_BETA1, F_BETA2, F_EPSILON, F_MOMENTUM, F_L2, F_JITTER, F_MIN_DELTA, F_SCALE, F_ROTATION, F_DROPOUT /* then C_HIDDEN rates */ };

typedef struct {
  int layers;              /* dense layers: hidden + output */
  int w[MAX_LAYERS + 1];   /* widths: w[0] inputs ... w[layers] outputs */
  int wo[MAX_LAYERS], bo[MAX_LAYERS]; /* offsets of kernel and bias of layer l in the flat weights */
  int nw;
  int act;
} net_t;

static void net_init(net_t *n, const int32_t *cfg) {
  n->layers = cfg[C_HIDDEN] + 1;
  n->w[0] = cfg[C_IN];
  for (int l = 1; l < n->layers; l++) n->w[l] = cfg[C_WIDTHS + l - 1];
  n->w[n->layers] = cfg[C_OUT];
  int off = 0;
  for (int l = 0; l < n->layers; l++) {
    n->wo[l] = off; off += n->w[l] * n->w[l + 1];
    n->bo[l] = off; off += n->w[l + 1];
  }
  n->nw = off;
  n->act = cfg[C_ACT];
}

EXPORT(weight_count) int32_t fg_weight_count(const int32_t *cfg) { net_t n; net_init(&n, cfg); return n.nw; }

/* Hidden activation of one value; *g receives f'(a). */
static f32 act_scalar(int act, f32 z, f32 *g) {
  if (act == ACT_RELU) { *g = z > 0 ? 1.0f : 0.0f; return z > 0 ? z : 0.0f; }
  if (act == ACT_TANH) { f32 a = fg_tanh(z); *g = 1.0f - a * a; return a; }
  f32 a = fg_sigmoid(z); *g = a * (1.0f - a); return a;
}

/*
 * ---------- dense layers over a minibatch: register-blocked matrix products ----------
 *
 * Every product below is C[m][j] = Σ_k A(m,k)·Bm[k][j] computed in tiles of up to 4 rows × 8
 * columns (eight accumulators, one 4-wide vector per row and half-tile) held in registers over
 * the whole k loop, each B vector loaded once per tile and each A value splat once per k. One
 * row per accumulator lane sums in k order, so results keep the summation order of a plain loop
 * (bias first, then inputs in order, as XNNPACK's fused matmul in tfjs' Dense). A(m,k) is read
 * at A[m·ars + k·acs], so the same tile serves in·W (rows of in) and inᵀ·dz (columns of in).
 */
/* Scratch for a transposed operand: fg_train points it at room for its batch × widest layer. */
static f32 *scratch;

#ifdef FG_RELAXED
#define MADD(a, b, c) wasm_f32x4_relaxed_madd(a, b, c)
#else
#define MADD(a, b, c) wasm_f32x4_add(c, wasm_f32x4_mul(a, b))
#endif

#ifndef TILE_ROWS
#define TILE_ROWS 4
#endif

static inline __attribute__((always_inline)) void tile_product(const int MR, const int NV, int K, const f32 *restrict A, int ars, int acs,
                                                               const f32 *restrict Bm, int ldb, v128_t acc[TILE_ROWS][2]) {
  for (int k = 0; k < K; k++, A += acs, Bm += ldb) {
    const v128_t b0 = wasm_v128_load(Bm), b1 = NV > 1 ? wasm_v128_load(Bm + 4) : b0;
    for (int m = 0; m < MR; m++) {
      const v128_t a = wasm_v128_load32_splat(A + m * ars);
      acc[m][0] = MADD(a, b0, acc[m][0]);
      if (NV > 1) acc[m][1] = MADD(a, b1, acc[m][1]);
    }
  }
}

/* One forward tile: MR rows × 4·NV units from column j, bias, activation and derivative included. */
static inline __attribute__((always_inline)) void forward_tile(const int MR, const int NV, int r, int j, int nin, int nout,
    const f32 *restrict in, const f32 *restrict W, const f32 *restrict bias, int act, f32 *restrict h, f32 *restrict g) {
  v128_t acc[TILE_ROWS][2];
  for (int m = 0; m < MR; m++) for (int v = 0; v < NV; v++) acc[m][v] = wasm_v128_load(bias + j + 4 * v);
  tile_product(MR, NV, nin, in + r * nin, nin, 1, W + j, nout, acc);
  const v128_t zero = wasm_f32x4_splat(0), one = wasm_f32x4_splat(1);
  for (int m = 0; m < MR; m++) for (int v = 0; v < NV; v++) {
    f32 *hp = h + (r + m) * nout + j + 4 * v;
    if (act == ACT_RELU) {
      const v128_t p = wasm_f32x4_gt(acc[m][v], zero);
      wasm_v128_store(hp, wasm_v128_and(acc[m][v], p));
      if (g) wasm_v128_store(g + (hp - h), wasm_v128_and(one, p));
    } else {
      wasm_v128_store(hp, acc[m][v]);
      if (act >= 0) for (int k = 0; k < 4; k++) { f32 d; hp[k] = act_scalar(act, hp[k], &d); if (g) g[hp - h + k] = d; }
    }
  }
}

/* Row blocks of TILE_ROWS, then the rows left, each with a tile of constant shape. */
#define ROW_BLOCKS(rows, CALL)                                                                       \
  do {                                                                                               \
    int r_ = 0;                                                                                      \
    for (; r_ + TILE_ROWS <= (rows); r_ += TILE_ROWS) CALL(TILE_ROWS, r_);                           \
    switch ((rows) - r_) {                                                                           \
      case 5: CALL(5, r_); break; case 4: CALL(4, r_); break; case 3: CALL(3, r_); break;            \
      case 2: CALL(2, r_); break; case 1: CALL(1, r_); break;                                        \
    }                                                                                                \
  } while (0)

/*
 * h[r] = act(bias + in[r]·W) for `rows` rows, with g[r] = act'(·) when g is given; act < 0: no
 * activation. Column panels of eight units outermost, so a panel of W stays in L1 while every
 * row passes over it and W leaves the outer caches once per call.
 */
/* noinline (as backward_layer): inlined, they cost the in → H → 1 path's loop its register allocation */
static __attribute__((noinline)) void dense_forward(int rows, int nin, int nout, const f32 *restrict in, const f32 *restrict W,
                          const f32 *restrict bias, int act, f32 *restrict h, f32 *restrict g) {
  if (nout == 1) {
    for (int r = 0; r < rows; r++) {
      f32 z = bias[0] + dot(nin, in + r * nin, W), d = 1;
      h[r] = act < 0 ? z : act_scalar(act, z, &d);
      if (g) g[r] = d;
    }
    return;
  }
  int j = 0;
#define FWD8(MR, r) forward_tile(MR, 2, r, j, nin, nout, in, W, bias, act, h, g)
#define FWD4(MR, r) forward_tile(MR, 1, r, j, nin, nout, in, W, bias, act, h, g)
  for (; j + 8 <= nout; j += 8) ROW_BLOCKS(rows, FWD8);
  for (; j + 4 <= nout; j += 4) ROW_BLOCKS(rows, FWD4);
#undef FWD8
#undef FWD4
  for (; j < nout; j++)
    for (int r = 0; r < rows; r++) {
      const f32 *x = in + r * nin;
      f32 z = bias[j], d = 1;
      for (int i = 0; i < nin; i++) z += x[i] * W[i * nout + j];
      h[r * nout + j] = act < 0 ? z : act_scalar(act, z, &d);
      if (g) g[r * nout + j] = d;
    }
}

/* dst = srcᵀ for src of rows × cols, in 4 × 4 blocks through registers. */
static void transpose(int rows, int cols, const f32 *restrict src, f32 *restrict dst) {
  int r = 0;
  for (; r + 4 <= rows; r += 4) {
    int c = 0;
    for (; c + 4 <= cols; c += 4) {
      const f32 *w = src + r * cols + c;
      const v128_t r0 = wasm_v128_load(w), r1 = wasm_v128_load(w + cols), r2 = wasm_v128_load(w + 2 * cols), r3 = wasm_v128_load(w + 3 * cols);
      const v128_t t0 = wasm_i32x4_shuffle(r0, r1, 0, 4, 1, 5), t1 = wasm_i32x4_shuffle(r0, r1, 2, 6, 3, 7);
      const v128_t t2 = wasm_i32x4_shuffle(r2, r3, 0, 4, 1, 5), t3 = wasm_i32x4_shuffle(r2, r3, 2, 6, 3, 7);
      f32 *o = dst + c * rows + r;
      wasm_v128_store(o, wasm_i32x4_shuffle(t0, t2, 0, 1, 4, 5));
      wasm_v128_store(o + rows, wasm_i32x4_shuffle(t0, t2, 2, 3, 6, 7));
      wasm_v128_store(o + 2 * rows, wasm_i32x4_shuffle(t1, t3, 0, 1, 4, 5));
      wasm_v128_store(o + 3 * rows, wasm_i32x4_shuffle(t1, t3, 2, 3, 6, 7));
    }
    for (; c < cols; c++) for (int m = r; m < r + 4; m++) dst[c * rows + m] = src[m * cols + c];
  }
  for (; r < rows; r++) for (int c = 0; c < cols; c++) dst[c * rows + r] = src[r * cols + c];
}

/* One weight-gradient tile: inputs i..i+MR × units j..j+4·NV, summed over the batch, plus 2c·W. */
static inline __attribute__((always_inline)) void grad_tile(const int MR, const int NV, int i, int j, int B, int nin, int nout,
    const f32 *restrict inT, const f32 *restrict dz, const f32 *restrict W, f32 l2x2, f32 *restrict gW) {
  v128_t acc[TILE_ROWS][2];
  const v128_t zero = wasm_f32x4_splat(0), vl2 = wasm_f32x4_splat(l2x2);
  for (int m = 0; m < MR; m++) for (int v = 0; v < NV; v++) acc[m][v] = zero;
  tile_product(MR, NV, B, inT + i * B, B, 1, dz + j, nout, acc);
  for (int m = 0; m < MR; m++) for (int v = 0; v < NV; v++) {
    const int at = (i + m) * nout + j + 4 * v;
    wasm_v128_store(gW + at, wasm_f32x4_add(acc[m][v], wasm_f32x4_mul(vl2, wasm_v128_load(W + at))));
  }
}

static f32 hsum(v128_t a) {
  return (wasm_f32x4_extract_lane(a, 0) + wasm_f32x4_extract_lane(a, 1)) + (wasm_f32x4_extract_lane(a, 2) + wasm_f32x4_extract_lane(a, 3));
}

/*
 * One input-delta tile: rows b..b+MB × inputs i, i+1 of din = (dz·Wᵀ) ⊙ g, as dot products of
 * dz's rows with W's rows (W is [nin][nout]: its rows are Wᵀ's columns), eight partial sums in
 * registers, so W needs no transposed copy.
 */
static inline __attribute__((always_inline)) void delta_tile(const int MB, const int NI, int b, int i, int nin, int nout,
    const f32 *restrict dz, const f32 *restrict W, const f32 *restrict g, f32 *restrict din) {
  v128_t acc[TILE_ROWS][2];
  const v128_t zero = wasm_f32x4_splat(0);
  for (int m = 0; m < MB; m++) for (int v = 0; v < NI; v++) acc[m][v] = zero;
  const f32 *w0 = W + i * nout, *w1 = w0 + nout, *d = dz + b * nout;
  int j = 0;
  for (; j + 4 <= nout; j += 4) {
    const v128_t a0 = wasm_v128_load(w0 + j), a1 = NI > 1 ? wasm_v128_load(w1 + j) : a0;
    for (int m = 0; m < MB; m++) {
      const v128_t dd = wasm_v128_load(d + m * nout + j);
      acc[m][0] = MADD(dd, a0, acc[m][0]);
      if (NI > 1) acc[m][1] = MADD(dd, a1, acc[m][1]);
    }
  }
  for (int m = 0; m < MB; m++) for (int v = 0; v < NI; v++) {
    const f32 *wr = v ? w1 : w0;
    f32 s = hsum(acc[m][v]);
    for (int t = j; t < nout; t++) s += d[m * nout + t] * wr[t];
    const int at = (b + m) * nin + i + v;
    din[at] = s * g[at];
  }
}

/*
 * One dense layer's backward pass over B rows: gW = inᵀ·dz + l2x2·W, gb = Σ_b dz[b], and when din
 * is given din = (dz·Wᵀ) ⊙ g (g: the input's activation derivative times its dropout scale).
 * Gradients are summed in registers over the batch and written once.
 */
static __attribute__((noinline)) void backward_layer(int B, int nin, int nout, const f32 *restrict in, const f32 *restrict dz,
                           const f32 *restrict W, f32 l2x2, f32 *restrict gW, f32 *restrict gb,
                           f32 *restrict din, const f32 *restrict g) {
  if (nout == 1) {
    f32 sb = 0;
    for (int b = 0; b < B; b++) sb += dz[b];
    gb[0] = sb;
    int i = 0;
    const v128_t vl2 = wasm_f32x4_splat(l2x2);
    for (; i + 8 <= nin; i += 8) {
      v128_t a0 = wasm_f32x4_splat(0), a1 = a0;
      for (int b = 0; b < B; b++) {
        v128_t d = wasm_f32x4_splat(dz[b]);
        a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(wasm_v128_load(in + b * nin + i), d));
        a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(wasm_v128_load(in + b * nin + i + 4), d));
      }
      wasm_v128_store(gW + i, wasm_f32x4_add(a0, wasm_f32x4_mul(vl2, wasm_v128_load(W + i))));
      wasm_v128_store(gW + i + 4, wasm_f32x4_add(a1, wasm_f32x4_mul(vl2, wasm_v128_load(W + i + 4))));
    }
    for (; i < nin; i++) {
      f32 a = 0;
      for (int b = 0; b < B; b++) a += in[b * nin + i] * dz[b];
      gW[i] = a + l2x2 * W[i];
    }
    if (din)
      for (int b = 0; b < B; b++) {
        const f32 d = dz[b];
        f32 *db = din + b * nin;
        const f32 *gg = g + b * nin;
        for (int k = 0; k < nin; k++) db[k] = d * W[k] * gg[k];
      }
    return;
  }
  /* gb = Σ_b dz[b] */
  int j = 0;
  for (; j + 4 <= nout; j += 4) {
    v128_t sb = wasm_f32x4_splat(0);
    for (int b = 0; b < B; b++) sb = wasm_f32x4_add(sb, wasm_v128_load(dz + b * nout + j));
    wasm_v128_store(gb + j, sb);
  }
  for (; j < nout; j++) {
    f32 sb = 0;
    for (int b = 0; b < B; b++) sb += dz[b * nout + j];
    gb[j] = sb;
  }
  /* gW = inᵀ·dz + 2c·W: tiles of inputs × units, the batch as the summed dimension */
  j = 0;
  /* inᵀ first (1/nout of the product's work), so each tile reads its inputs' batch columns contiguously */
  f32 *inT = scratch;
  transpose(B, nin, in, inT);
#define GRAD8(MR, i) grad_tile(MR, 2, i, j, B, nin, nout, inT, dz, W, l2x2, gW)
#define GRAD4(MR, i) grad_tile(MR, 1, i, j, B, nin, nout, inT, dz, W, l2x2, gW)
  for (; j + 8 <= nout; j += 8) ROW_BLOCKS(nin, GRAD8);
  for (; j + 4 <= nout; j += 4) ROW_BLOCKS(nin, GRAD4);
#undef GRAD8
#undef GRAD4
  for (; j < nout; j++)
    for (int i = 0; i < nin; i++) {
      f32 a = 0;
      for (int b = 0; b < B; b++) a += inT[i * B + b] * dz[b * nout + j];
      gW[i * nout + j] = a + l2x2 * W[i * nout + j];
    }
  /* din = (dz·Wᵀ) ⊙ g */
  if (din) {
    int i = 0;
#define DELTA2(MB, b) delta_tile(MB, 2, b, i, nin, nout, dz, W, g, din)
#define DELTA1(MB, b) delta_tile(MB, 1, b, i, nin, nout, dz, W, g, din)
    for (; i + 2 <= nin; i += 2) ROW_BLOCKS(B, DELTA2);
    for (; i < nin; i++) ROW_BLOCKS(B, DELTA1);
#undef DELTA2
#undef DELTA1
  }
}

/*
 * Loss of one row of logits z (width nout) against class y: returns the clipped cross-entropy,
 * writes p(class) into proba (nout==1: one value, p(class 1)), and if dz is given the gradient
 * scale·(p - onehot), zero where Keras' clip cuts the gradient off.
 */
static f64 row_loss(int nout, const f32 *z, int y, f32 *proba, f32 *dz, f32 scale, int *correct) {
  if (nout == 1) {
    f32 p = fg_sigmoid(z[0]);
    proba[0] = p;
    *correct = (p > 0.5f) == (y == 1);
    f64 pc = p, clipped = 0;
    if (pc < EPS) { pc = EPS; clipped = 1; }
    if (pc > 1 - EPS) { pc = 1 - EPS; clipped = 1; }
    if (dz) dz[0] = clipped ? 0.0f : scale * (p - (f32)y);
    return -(y ? fg_log(pc) : fg_log(1 - pc));
  }
  f32 mx = z[0];
  int arg = 0;
  for (int j = 1; j < nout; j++) if (z[j] > mx) { mx = z[j]; arg = j; }
  f64 sum = 0;
  for (int j = 0; j < nout; j++) { f64 e = fg_exp((f64)z[j] - mx); proba[j] = (f32)e; sum += e; }
  for (int j = 0; j < nout; j++) proba[j] = (f32)(proba[j] / sum);
  *correct = arg == y;
  f64 py = proba[y], clipped = 0;
  if (py < EPS) { py = EPS; clipped = 1; }
  if (py > 1 - EPS) { py = 1 - EPS; clipped = 1; }
  if (dz) for (int j = 0; j < nout; j++) dz[j] = clipped ? 0.0f : scale * (proba[j] - (j == y ? 1.0f : 0.0f));
  return -fg_log(py);
}

/* Rows inference passes through the layers together: enough to share each panel of W, few enough to stay in cache. */
#define INFER_ROWS 32

/*
 * Inference over `rows` rows of x: writes per-row probabilities (nout per row) into proba if given,
 * returns the summed cross-entropy and adds the number of correct rows to *correct.
 * INFER_ROWS rows at a time through two buffers of INFER_ROWS × the widest layer.
 */
static f64 infer(const net_t *n, const f32 *W, int rows, const f32 *x, const int32_t *y, f32 *proba,
                 f32 *buf0, f32 *buf1, int *correct) {
  f64 loss = 0;
  f32 pr[64];
  int nout = n->w[n->layers];
  for (int r0 = 0; r0 < rows; r0 += INFER_ROWS) {
    const int R = rows - r0 < INFER_ROWS ? rows - r0 : INFER_ROWS;
    const f32 *in = x + r0 * n->w[0];
    f32 *out = buf0;
    for (int l = 0; l < n->layers; l++) {
      dense_forward(R, n->w[l], n->w[l + 1], in, W + n->wo[l], W + n->bo[l], l + 1 < n->layers ? n->act : -1, out, 0);
      in = out;
      out = out == buf0 ? buf1 : buf0;
    }
    for (int r = 0; r < R; r++) {
      int ok = 0;
      f32 *p = proba ? proba + (r0 + r) * nout : pr;
      loss += row_loss(nout, in + r * nout, y ? y[r0 + r] : 0, p, 0, 0, &ok);
      *correct += ok;
    }
  }
  return loss;
}

/* Probabilities for arbitrary rows (final metrics, valProba, decision surfaces). */
EXPORT(predict) void fg_predict(const int32_t *cfg, const f32 *W, int32_t rows, const f32 *x, f32 *proba) {
  net_t n; net_init(&n, cfg);
  int maxw = 0;
  for (int l = 0; l <= n.layers; l++) if (n.w[l] > maxw) maxw = n.w[l];
#ifdef __wasm__
  uintptr_t m = fg_mark();
#endif
  f32 *b0 = fg_alloc(4 * INFER_ROWS * (maxw + 4)), *b1 = fg_alloc(4 * INFER_ROWS * (maxw + 4));
  int correct = 0;
  infer(&n, W, rows, x, 0, proba, b0, b1, &correct);
#ifdef __wasm__
  fg_release(m);
#else
  free(b0); free(b1);
#endif
}


/* ---------- the common shape, in → H (ReLU) → 1 (sigmoid), fused per row ---------- */

/*
 * Forward for `rows` rows: hidden units in blocks of four stay in registers from the input sum
 * through ReLU, dropout and the output's partial sum; only the activations backward needs are
 * stored (h, when given). Draws the same dropout masks, in the same order, as dropout().
 */
static inline __attribute__((always_inline)) void mlp1_forward(int rows, int nin, int H, const f32 *restrict x, const f32 *restrict W1,
                                const f32 *restrict b1, const f32 *restrict W2, f32 b2, f32 *restrict h,
                                f32 *restrict z, rng4_t *r, f32 keep, f32 inv_keep) {
  const v128_t zero = wasm_f32x4_splat(0), vkeep = wasm_f32x4_splat(keep), vinv = wasm_f32x4_splat(inv_keep);
  const v128_t unit = wasm_f32x4_splat(1.0f / 16777216.0f);
  v128_t s0 = zero, s1 = zero, s2 = zero, s3 = zero;
  if (r) { s0 = wasm_v128_load(r->s[0]); s1 = wasm_v128_load(r->s[1]); s2 = wasm_v128_load(r->s[2]); s3 = wasm_v128_load(r->s[3]); }
  int row = 0;
  if (!h && !r) /* inference: two rows at a time share each weight load */
    for (; row + 2 <= rows; row += 2) {
      const f32 *xa = x + row * nin, *xb = xa + nin;
      v128_t acc_a = zero, acc_b = zero;
      for (int j = 0; j < H; j += 4) {
        v128_t a = wasm_v128_load(b1 + j), b = a;
        for (int i = 0; i < nin; i++) {
          const v128_t w = wasm_v128_load(W1 + i * H + j);
          a = wasm_f32x4_add(a, wasm_f32x4_mul(wasm_v128_load32_splat(xa + i), w));
          b = wasm_f32x4_add(b, wasm_f32x4_mul(wasm_v128_load32_splat(xb + i), w));
        }
        const v128_t w2 = wasm_v128_load(W2 + j);
        acc_a = wasm_f32x4_add(acc_a, wasm_f32x4_mul(wasm_f32x4_pmax(zero, a), w2));
        acc_b = wasm_f32x4_add(acc_b, wasm_f32x4_mul(wasm_f32x4_pmax(zero, b), w2));
      }
      z[row] = b2 + ((wasm_f32x4_extract_lane(acc_a, 0) + wasm_f32x4_extract_lane(acc_a, 1)) +
                     (wasm_f32x4_extract_lane(acc_a, 2) + wasm_f32x4_extract_lane(acc_a, 3)));
      z[row + 1] = b2 + ((wasm_f32x4_extract_lane(acc_b, 0) + wasm_f32x4_extract_lane(acc_b, 1)) +
                         (wasm_f32x4_extract_lane(acc_b, 2) + wasm_f32x4_extract_lane(acc_b, 3)));
    }
  for (; row < rows; row++) {
    const f32 *xr = x + row * nin;
    v128_t acc = zero;
    for (int j = 0; j < H; j += 4) {
      /* bias first, then x·W in input order, as XNNPACK's fused matmul (tfjs' Dense) sums them */
      v128_t a = wasm_v128_load(b1 + j);
      for (int i = 0; i < nin; i++) a = wasm_f32x4_add(a, wasm_f32x4_mul(wasm_v128_load32_splat(xr + i), wasm_v128_load(W1 + i * H + j)));
      a = wasm_f32x4_pmax(zero, a);
      if (r) {
        v128_t out = wasm_i32x4_add(s0, s3), t = wasm_i32x4_shl(s1, 9);
        s2 = wasm_v128_xor(s2, s0); s3 = wasm_v128_xor(s3, s1); s1 = wasm_v128_xor(s1, s2); s0 = wasm_v128_xor(s0, s3);
        s2 = wasm_v128_xor(s2, t); s3 = wasm_v128_or(wasm_i32x4_shl(s3, 11), wasm_u32x4_shr(s3, 21));
        v128_t u = wasm_f32x4_mul(wasm_f32x4_convert_i32x4(wasm_u32x4_shr(out, 8)), unit);
        a = wasm_f32x4_mul(a, wasm_v128_and(vinv, wasm_f32x4_lt(u, vkeep)));
      }
      if (h) wasm_v128_store(h + row * H + j, a);
      acc = wasm_f32x4_add(acc, wasm_f32x4_mul(a, wasm_v128_load(W2 + j)));
    }
    z[row] = b2 + ((wasm_f32x4_extract_lane(acc, 0) + wasm_f32x4_extract_lane(acc, 1)) +
                   (wasm_f32x4_extract_lane(acc, 2) + wasm_f32x4_extract_lane(acc, 3)));
  }
  if (r) { wasm_v128_store(r->s[0], s0); wasm_v128_store(r->s[1], s1); wasm_v128_store(r->s[2], s2); wasm_v128_store(r->s[3], s3); }
}

/*
 * Backward for the same shape, hidden units in blocks of four, summed over the batch in
 * registers: gW2 = hᵀ·dz, the hidden delta d = dz·W2 ⊙ ReLU' ⊙ dropout scale (ReLU' times the
 * scale is 1/keep exactly where the stored activation is positive), gW1 = xᵀ·d, gb1 = Σ d,
 * plus 2c·W on both kernels. nin ≤ 8.
 */
static inline __attribute__((always_inline)) void mlp1_backward(int B, int nin, int H, const f32 *restrict x, const f32 *restrict h,
                                 const f32 *restrict dz, const f32 *restrict W1, const f32 *restrict W2,
                                 f32 inv_keep, f32 l2x2, f32 *restrict gW1, f32 *restrict gb1,
                                 f32 *restrict gW2, f32 *restrict gb2) {
  f32 sb = 0;
  for (int b = 0; b < B; b++) sb += dz[b];
  *gb2 = sb;
  const v128_t zero = wasm_f32x4_splat(0), vinv = wasm_f32x4_splat(inv_keep), vl2 = wasm_f32x4_splat(l2x2);
  for (int j = 0; j < H; j += 4) {
    const v128_t w2 = wasm_v128_load(W2 + j);
    v128_t g2 = zero, gb = zero, gw[8];
    for (int i = 0; i < nin; i++) gw[i] = zero;
    for (int b = 0; b < B; b++) {
      const v128_t hb = wasm_v128_load(h + b * H + j), d = wasm_v128_load32_splat(dz + b);
      g2 = wasm_f32x4_add(g2, wasm_f32x4_mul(hb, d));
      const v128_t dd = wasm_f32x4_mul(wasm_f32x4_mul(d, w2), wasm_v128_and(vinv, wasm_f32x4_gt(hb, zero)));
      gb = wasm_f32x4_add(gb, dd);
      for (int i = 0; i < nin; i++) gw[i] = wasm_f32x4_add(gw[i], wasm_f32x4_mul(wasm_v128_load32_splat(x + b * nin + i), dd));
    }
    wasm_v128_store(gW2 + j, wasm_f32x4_add(g2, wasm_f32x4_mul(vl2, w2)));
    wasm_v128_store(gb1 + j, gb);
    for (int i = 0; i < nin; i++)
      wasm_v128_store(gW1 + i * H + j, wasm_f32x4_add(gw[i], wasm_f32x4_mul(vl2, wasm_v128_load(W1 + i * H + j))));
  }
}

/* Copies specialised for two inputs (2-D data, the common case), so their input loops unroll. */
static __attribute__((noinline)) void mlp1_forward_2(int rows, int H, const f32 *x, const f32 *W1, const f32 *b1, const f32 *W2,
                                                     f32 b2, f32 *h, f32 *z, rng4_t *r, f32 keep, f32 inv_keep) {
  mlp1_forward(rows, 2, H, x, W1, b1, W2, b2, h, z, r, keep, inv_keep);
}
static __attribute__((noinline)) void mlp1_forward_n(int rows, int nin, int H, const f32 *x, const f32 *W1, const f32 *b1, const f32 *W2,
                                                     f32 b2, f32 *h, f32 *z, rng4_t *r, f32 keep, f32 inv_keep) {
  if (nin == 2) mlp1_forward_2(rows, H, x, W1, b1, W2, b2, h, z, r, keep, inv_keep);
  else mlp1_forward(rows, nin, H, x, W1, b1, W2, b2, h, z, r, keep, inv_keep);
}
static __attribute__((noinline)) void mlp1_backward_2(int B, int H, const f32 *x, const f32 *h, const f32 *dz, const f32 *W1,
                                                      const f32 *W2, f32 inv_keep, f32 l2x2, f32 *gW1, f32 *gb1, f32 *gW2, f32 *gb2) {
  mlp1_backward(B, 2, H, x, h, dz, W1, W2, inv_keep, l2x2, gW1, gb1, gW2, gb2);
}
static __attribute__((noinline)) void mlp1_backward_n(int B, int nin, int H, const f32 *x, const f32 *h, const f32 *dz, const f32 *W1,
                                                      const f32 *W2, f32 inv_keep, f32 l2x2, f32 *gW1, f32 *gb1, f32 *gW2, f32 *gb2) {
  if (nin == 2) mlp1_backward_2(B, H, x, h, dz, W1, W2, inv_keep, l2x2, gW1, gb1, gW2, gb2);
  else mlp1_backward(B, nin, H, x, h, dz, W1, W2, inv_keep, l2x2, gW1, gb1, gW2, gb2);
}

/* Whether the network has the shape the fused per-row path handles. */
static int is_mlp1(const net_t *n) {
  return n->layers == 2 && n->w[2] == 1 && n->act == ACT_RELU && n->w[1] % 4 == 0 && n->w[0] <= 8;
}

/*
 * Trains one trial (or one patience group: trials that differ only in patience) from the initial
 * weights in W.
 *   patience[k]: the group's patience values, -1 = none.
 *   hist: 4 × epochs floats (loss, val_loss, acc, val_acc), filled for the epochs that ran.
 *   snaps: npatience × nw floats: each patience value's kept weights.
 *   stops: 2 × npatience ints (stoppedEpoch, bestEpoch).
 * W holds the last epoch's weights on return. Returns the number of epochs run.
 */
EXPORT(train) int32_t fg_train(const int32_t *cfg, const f64 *fcfg, const int32_t *patience,
                               const f32 *xtrain, const int32_t *ytrain, const f32 *xval, const int32_t *yval,
                               f32 *W, f32 *hist, f32 *snaps, int32_t *stops) {
  net_t n; net_init(&n, cfg);
  const int L = n.layers, nin = n.w[0], nout = n.w[L], nw = n.nw;
  const int ntrain = cfg[C_NTRAIN], nval = cfg[C_NVAL], epochs = cfg[C_EPOCHS];
  const int batch = cfg[C_BATCH] < ntrain ? cfg[C_BATCH] : ntrain;
  const int np = cfg[C_NPATIENCE], restore = cfg[C_RESTORE];
  const f32 l2 = (f32)fcfg[F_L2], jitter = (f32)fcfg[F_JITTER];
  const f64 min_delta = fcfg[F_MIN_DELTA], scale = fcfg[F_SCALE], rotation = fcfg[F_ROTATION];
  int maxw = 0;
  for (int l = 0; l <= L; l++) if (n.w[l] > maxw) maxw = n.w[l];

#ifdef __wasm__
  uintptr_t heap_mark = fg_mark();
#endif
  /* activations per layer (h[0] = the batch's inputs), derivative factors, deltas, gradients, optimizer state */
  f32 *h[MAX_LAYERS + 1], *g[MAX_LAYERS + 1];
  for (int l = 0; l <= L; l++) { h[l] = fg_alloc(4 * batch * n.w[l] + 16); g[l] = fg_alloc(4 * batch * n.w[l] + 16); }
  f32 *d0 = fg_alloc(4 * batch * maxw + 16), *d1 = fg_alloc(4 * batch * maxw + 16);
  scratch = fg_alloc(4 * batch * maxw + 16);
  f32 *grad = fg_alloc(4 * nw + 16), *m1 = fg_alloc(4 * nw + 16), *m2 = fg_alloc(4 * nw + 16);
  f32 *best = fg_alloc(4 * nw + 16), *vb0 = fg_alloc(4 * INFER_ROWS * maxw + 16), *vb1 = fg_alloc(4 * INFER_ROWS * maxw + 16);
  f32 *proba = fg_alloc(4 * nout + 16);
  int32_t *order = fg_alloc(4 * ntrain + 16);
  f32 *vz = fg_alloc(4 * nval + 16);
  const int mlp1 = is_mlp1(&n);
  /* the centre scale and rotation act about: the training set's mean */
  f64 centre[MAX_AUG_FEATURES];
  for (int i = 0; i < MAX_AUG_FEATURES; i++) centre[i] = 0; /* a loop: `= {0}` would call memset, which there is none of */
  if (scale > 0 || rotation > 0) {
    for (int r = 0; r < ntrain; r++) for (int i = 0; i < nin; i++) centre[i] += xtrain[r * nin + i];
    for (int i = 0; i < nin; i++) centre[i] /= ntrain;
  }
  fill(nw, 0, m1); fill(nw, 0, m2);
  for (int i = 0; i < ntrain; i++) order[i] = i;

  f32 keep[MAX_LAYERS], inv_keep[MAX_LAYERS];
  for (int l = 1; l < L; l++) { keep[l] = 1.0f - (f32)fcfg[F_DROPOUT + l - 1]; inv_keep[l] = 1.0f / keep[l]; }

  rng_t rng;
  const uint64_t seed = ((uint64_t)(uint32_t)cfg[C_SEED_HI] << 32) | (uint32_t)cfg[C_SEED_LO];
  rng_seed(&rng, seed);
  rng4_t mask_rng;
  rng4_seed(&mask_rng, seed ^ 0x6a09e667f3bcc909ull);
  f32 spare = 0; int has_spare = 0;

  /* Adam's running β^t products in float32, as tfjs keeps them */
  f32 acc_b1 = (f32)fcfg[F_BETA1], acc_b2 = (f32)fcfg[F_BETA2];
  const f32 lr = (f32)fcfg[F_LR], b1 = (f32)fcfg[F_BETA1], b2 = (f32)fcfg[F_BETA2];
  const f32 eps = (f32)fcfg[F_EPSILON], mom = (f32)fcfg[F_MOMENTUM];

  /* early stopping: one improvement watcher shared by every patience value of the group */
  f64 best_val = 1.0 / 0.0;
  int best_epoch = 0, wait = 0, active = 0, any_null = 0;
  for (int k = 0; k < np; k++) {
    stops[2 * k] = 0; stops[2 * k + 1] = 0;
    if (patience[k] < 0) any_null = 1; else active++;
  }

  int e = 0;
  for (e = 1; e <= epochs; e++) {
    if (cfg[C_SHUFFLE])
      for (int i = ntrain - 1; i > 0; i--) { int j = rng_below(&rng, i + 1); int t = order[i]; order[i] = order[j]; order[j] = t; }
    f64 loss_sum = 0;
    int correct = 0;

    for (int start = 0; start < ntrain; start += batch) {
      const int B = ntrain - start < batch ? ntrain - start : batch;
      /* ---- forward (training mode) ---- */
      /* augmentation as runner/data/augment.ts defines it: scale and (2-D) rotation about the
         training set's centre, then Gaussian jitter on every feature */
      for (int b = 0; b < B; b++) {
        const f32 *src = xtrain + order[start + b] * nin;
        f32 *dst = h[0] + b * nin;
        if (scale > 0 || rotation > 0) {
          f64 factor = scale > 0 ? 1 - scale + 2 * scale * rng_uniform53(&rng) : 1;
          f64 p[MAX_AUG_FEATURES];
          for (int i = 0; i < nin; i++) p[i] = centre[i] + ((f64)src[i] - centre[i]) * factor;
          if (rotation > 0) {
            f64 sn, cs, dx = p[0] - centre[0], dy = p[1] - centre[1];
            fg_sincos((-rotation + 2 * rotation * rng_uniform53(&rng)) * 0.017453292519943295, &sn, &cs);
            p[0] = centre[0] + dx * cs - dy * sn;
            p[1] = centre[1] + dx * sn + dy * cs;
          }
          for (int i = 0; i < nin; i++) dst[i] = (f32)p[i];
        } else for (int i = 0; i < nin; i++) dst[i] = src[i];
        if (jitter > 0) for (int i = 0; i < nin; i++) dst[i] += jitter * rng_normal(&rng, &spare, &has_spare);
      }
      if (mlp1) {
        const int H = n.w[1];
        f32 r = keep[1];
        mlp1_forward_n(B, nin, H, h[0], W, W + n.bo[0], W + n.wo[1], W[n.bo[1]], h[1], h[2], r < 1.0f ? &mask_rng : 0, r, inv_keep[1]);
      } else for (int l = 0; l < L; l++) {
        const int wi = n.w[l], wo = n.w[l + 1];
        dense_forward(B, wi, wo, h[l], W + n.wo[l], W + n.bo[l], l + 1 < L ? n.act : -1, h[l + 1], l + 1 < L ? g[l + 1] : 0);
        /* inverted dropout: kept units scaled by 1/keep; g carries the same factor for backward */
        if (l + 1 < L && keep[l + 1] < 1.0f) dropout(&mask_rng, B * wo, keep[l + 1], inv_keep[l + 1], h[l + 1], g[l + 1]);
      }
      /* ---- loss: mean cross-entropy + c·Σw² over kernels ---- */
      f32 *dz = d0;
      f64 data_loss = 0;
      for (int b = 0; b < B; b++) {
        int ok = 0;
        data_loss += row_loss(nout, h[L] + b * nout, ytrain[order[start + b]], proba, dz + b * nout, 1.0f / B, &ok);
        correct += ok;
      }
      f64 penalty = 0;
      if (l2 > 0)
        for (int l = 0; l < L; l++) penalty += dot(n.w[l] * n.w[l + 1], W + n.wo[l], W + n.wo[l]);
      loss_sum += (data_loss / B + (f64)l2 * penalty) * B;

      /* ---- backward: gW = inᵀ·dz (+ 2c·W, the L2 term, on kernels only), gb = Σ dz, din = dz·Wᵀ ⊙ act' ---- */
      if (mlp1) {
        const int H = n.w[1];
        mlp1_backward_n(B, nin, H, h[0], h[1], dz, W, W + n.wo[1], inv_keep[1], 2.0f * l2, grad, grad + n.bo[0], grad + n.wo[1], grad + n.bo[1]);
      } else for (int l = L - 1; l >= 0; l--) {
        const int wi = n.w[l], wo = n.w[l + 1];
        f32 *din = dz == d0 ? d1 : d0;
        backward_layer(B, wi, wo, h[l], dz, W + n.wo[l], 2.0f * l2, grad + n.wo[l], grad + n.bo[l], l > 0 ? din : 0, g[l]);
        dz = din;
      }

      /* ---- update ---- */
      if (cfg[C_OPT] == OPT_ADAM) {
        /* 1 − β in float64, then rounded, as tfjs computes it in JS before making it a float32 scalar */
        const f32 c1 = 1.0f / (1.0f - acc_b1), c2 = 1.0f / (1.0f - acc_b2), ob1 = (f32)(1.0 - fcfg[F_BETA1]), ob2 = (f32)(1.0 - fcfg[F_BETA2]);
        int i = 0;
        v128_t vb1 = wasm_f32x4_splat(b1), vb2 = wasm_f32x4_splat(b2), vob1 = wasm_f32x4_splat(ob1), vob2 = wasm_f32x4_splat(ob2);
        v128_t vc1 = wasm_f32x4_splat(c1), vc2 = wasm_f32x4_splat(c2), vlr = wasm_f32x4_splat(lr), veps = wasm_f32x4_splat(eps);
        for (; i + 4 <= nw; i += 4) {
          v128_t gr = wasm_v128_load(grad + i);
          v128_t m = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(m1 + i), vb1), wasm_f32x4_mul(gr, vob1));
          v128_t v = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(m2 + i), vb2), wasm_f32x4_mul(wasm_f32x4_mul(gr, gr), vob2));
          wasm_v128_store(m1 + i, m); wasm_v128_store(m2 + i, v);
          v128_t den = wasm_f32x4_add(wasm_f32x4_sqrt(wasm_f32x4_mul(v, vc2)), veps);
          v128_t step = wasm_f32x4_div(wasm_f32x4_mul(vlr, wasm_f32x4_mul(m, vc1)), den);
          wasm_v128_store(W + i, wasm_f32x4_sub(wasm_v128_load(W + i), step));
        }
        for (; i < nw; i++) {
          f32 gr = grad[i];
          f32 m = m1[i] * b1 + gr * ob1, v = m2[i] * b2 + gr * gr * ob2;
          m1[i] = m; m2[i] = v;
          W[i] -= (lr * (m * c1)) / (__builtin_sqrtf(v * c2) + eps);
        }
        acc_b1 *= b1; acc_b2 *= b2;
      } else {
        for (int i = 0; i < nw; i++) {
          if (mom > 0) { m1[i] = mom * m1[i] + grad[i]; W[i] -= lr * m1[i]; }
          else W[i] -= lr * grad[i];
        }
      }
    }

    /* ---- validation (inference mode, no penalty) ---- */
    int vcorrect = 0;
    f64 vloss = 0;
    if (mlp1) {
      mlp1_forward_n(nval, nin, n.w[1], xval, W, W + n.bo[0], W + n.wo[1], W[n.bo[1]], 0, vz, 0, 1.0f, 1.0f);
      for (int r = 0; r < nval; r++) { int ok = 0; vloss += row_loss(1, vz + r, yval[r], proba, 0, 0, &ok); vcorrect += ok; }
      vloss /= nval;
    } else vloss = infer(&n, W, nval, xval, yval, 0, vb0, vb1, &vcorrect) / nval;
    f32 *hrow = hist;
    hrow[e - 1] = (f32)(loss_sum / ntrain);
    hrow[epochs + e - 1] = (f32)vloss;
    hrow[2 * epochs + e - 1] = (f32)correct / ntrain;
    hrow[3 * epochs + e - 1] = (f32)vcorrect / nval;

    /* a loss that is no longer finite ends the run, as it does in the layers engine */
    f32 tl = hrow[e - 1], vl = hrow[epochs + e - 1];
    if (tl != tl || vl != vl || tl - tl != 0 || vl - vl != 0) break;

    /* ---- early stopping: the rule of early-stopping.ts, on the float32 value a caller sees ---- */
    f64 v = vl;
    if (v < best_val - min_delta) {
      best_val = v; best_epoch = e; wait = 0;
      if (restore && active) copy(nw, W, best);
    } else {
      wait++;
      for (int k = 0; k < np; k++) {
        if (patience[k] < 0 || stops[2 * k] || wait < patience[k]) continue;
        stops[2 * k] = e;
        int kept = restore && best_epoch > 0;
        stops[2 * k + 1] = kept ? best_epoch : e;
        copy(nw, kept ? best : W, snaps + k * nw);
        active--;
      }
      if (!active && !any_null) break;
    }
  }
  int ran = e > epochs ? epochs : e; /* a break leaves e at the last epoch that ran */
  for (int k = 0; k < np; k++) {
    if (stops[2 * k]) continue;
    int kept = restore && patience[k] >= 0 && best_epoch > 0;
    stops[2 * k] = ran;
    stops[2 * k + 1] = kept ? best_epoch : ran;
    copy(nw, kept ? best : W, snaps + k * nw);
  }
#ifdef __wasm__
  fg_release(heap_mark);
#else
  for (int l = 0; l <= L; l++) { free(h[l]); free(g[l]); }
  free(d0); free(d1); free(scratch); free(grad); free(m1); free(m2); free(best); free(vb0); free(vb1); free(proba); free(order); free(vz);
#endif
  return ran;
}
