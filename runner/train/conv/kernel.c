/*
 * fitgrid's CNN kernel: forward, backward and update of a small convolutional network, one batch
 * per call, in WebAssembly SIMD. The network is the layers engine's (layers/model.ts): blocks of
 * conv k×k 'same' + ReLU + max-pool (stride = size, 'valid') + dropout, then dense ReLU layers +
 * dropout, then softmax (C > 2) or sigmoid (2 classes). Semantics follow tfjs-layers: the batch
 * loss is the mean cross-entropy plus c·Σw² over kernels, probabilities clipped to
 * [1e-7, 1 − 1e-7] (zero gradient outside), Adam and SGD as tfjs' optimizers compute them.
 *
 * The caller (trainer.ts) owns everything random: it uploads each epoch's (augmented) images,
 * the batch's rows in shuffled order and the dropout masks drawn from the trial's own streams,
 * so the kernel sees the same numbers as the layers engine.
 *
 * Each image goes forward and backward on its own, gradients summing over the batch; buffers
 * are one image's worth and stay in cache. Max-pooling passes gradient to one pixel in p², so
 * the backward pass of a conv layer visits only the pooled cells' winning pixels.
 */
#include <stdint.h>
#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(#name)))
typedef float f32;
typedef double f64;

/* ---------- memory: bump allocation over linear memory, freed all at once ---------- */

extern unsigned char __heap_base;
static uintptr_t top = 0;

EXPORT(alloc) void *cv_alloc(uint32_t bytes) {
  if (!top) top = (uintptr_t)&__heap_base;
  uintptr_t start = (top + 15) & ~(uintptr_t)15, end = start + bytes;
  uintptr_t size = __builtin_wasm_memory_size(0) * 65536u;
  if (end > size && __builtin_wasm_memory_grow(0, (end - size + 65535u) / 65536u) == (uintptr_t)-1) return 0;
  top = end;
  return (void *)start;
}

/* Frees everything: the next training starts from an empty heap. */
EXPORT(reset) void cv_reset(void) { top = (uintptr_t)&__heap_base; }

static f32 *falloc(int n) {
  f32 *p = cv_alloc((uint32_t)(n > 0 ? n : 1) * 4u);
  if (p) for (int i = 0; i < n; i++) p[i] = 0;
  return p;
}

/* ---------- e^x in double precision for x ≤ 0 and moderate x > 0 ---------- */

static f64 cv_exp(f64 x) {
  if (x < -740.0) return 0.0;
  if (x > 700.0) x = 700.0;
  f64 k = __builtin_floor(x * 1.4426950408889634 + 0.5);
  f64 r = (x - k * 0.693147180369123816490) - k * 1.90821492927058770002e-10;
  f64 p = 1.0 / 479001600.0;
  static const f64 inv[] = { 1.0 / 39916800.0, 1.0 / 3628800.0, 1.0 / 362880.0, 1.0 / 40320.0, 1.0 / 5040.0,
                             1.0 / 720.0, 1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0 };
  for (int i = 0; i < 12; i++) p = p * r + inv[i];
  int e = (int)k;
  /* 2^e in two factors keeps tiny results (subnormals) right */
  int e1 = e / 2, e2 = e - e1;
  union { uint64_t u; f64 d; } a = { (uint64_t)(e1 + 1023) << 52 }, b = { (uint64_t)(e2 + 1023) << 52 };
  return p * a.d * b.d;
}

/* ---------- the network ---------- */

enum { C_H, C_W, C_C, C_BLOCKS, C_DENSE, C_OUT, C_OPT, C_MAXB, C_LAYERS /* per block: filters, kernel, pool, dropout?; per dense: units, dropout? */ };
enum { F_LR, F_BETA1, F_BETA2, F_EPSILON, F_MOMENTUM, F_L2 };
#define MAX_BLOCKS 8
#define MAX_DENSE 8
#define EPS 1e-7

typedef struct {
  int h, w, cin, f, k, pool, ph, pw, pad, hp, wp, drop;
  int wo, bo;          /* offsets of kernel [k][k][cin][f] and bias in W */
  f32 *a, *da;         /* padded input (hp × wp × cin) and its gradient */
  f32 *wt, *gwt;       /* kernel as [f][k·k][cin], and its gradient */
  f32 *pre;            /* pooled ReLU output before dropout (ph × pw × f) */
  int32_t *arg;        /* per pooled cell: the conv pixel that won, −1 when it is ≤ 0 */
  int32_t *nzb; f32 *nzg; /* backward scratch: one filter's winning patches and their gradients */
} block_t;

typedef struct { int in, out, drop, wo, bo; f32 *x, *pre, *dx; } dense_t;

static struct {
  int blocks, dense, out, opt, maxb, nw, npen, maxconv;
  block_t b[MAX_BLOCKS];
  dense_t d[MAX_DENSE + 1];  /* hidden layers, then the output layer */
  f32 *W, *G, *M1, *M2, *conv, *z, *dz, *proba;
  f32 acc_b1, acc_b2, lr, b1, b2, eps, mom, l2;
  int drop_size;             /* dropout mask values per image, all layers */
} net;

/* Sets the network up for the configuration (after reset()); returns the number of weights, or −1 without memory. */
EXPORT(setup) int32_t cv_setup(const int32_t *cfg, const f64 *fcfg) {
  int h = cfg[C_H], w = cfg[C_W], c = cfg[C_C], at = C_LAYERS, nw = 0;
  net.blocks = cfg[C_BLOCKS]; net.dense = cfg[C_DENSE]; net.out = cfg[C_OUT]; net.opt = cfg[C_OPT]; net.maxb = cfg[C_MAXB];
  net.maxconv = 0; net.drop_size = 0;
  for (int i = 0; i < net.blocks; i++) {
    block_t *b = &net.b[i];
    b->h = h; b->w = w; b->cin = c; b->f = cfg[at]; b->k = cfg[at + 1]; b->pool = cfg[at + 2]; b->drop = cfg[at + 3]; at += 4;
    b->pad = (b->k - 1) / 2; /* TensorFlow's 'same': the extra row/column of an even kernel goes after */
    b->hp = h + b->k - 1; b->wp = w + b->k - 1;
    b->ph = h / b->pool; b->pw = w / b->pool;
    b->wo = nw; nw += b->k * b->k * c * b->f; b->bo = nw; nw += b->f;
    /* one spare column so that pixel pairs may run past an odd width, and a vector of slack */
    b->a = falloc(b->hp * b->wp * c + 2 * c + 4);
    b->da = falloc(b->hp * b->wp * c + 2 * c + 4);
    b->wt = falloc(b->k * b->k * c * b->f);
    b->gwt = falloc(b->k * b->k * c * b->f);
    b->pre = falloc(b->ph * b->pw * b->f);
    b->arg = (int32_t *)falloc(b->ph * b->pw * b->f);
    b->nzb = (int32_t *)falloc(b->ph * b->pw); b->nzg = falloc(b->ph * b->pw);
    int conv = h * (w + 1) * b->f;
    if (conv > net.maxconv) net.maxconv = conv;
    if (b->drop) net.drop_size += b->ph * b->pw * b->f;
    h = b->ph; w = b->pw; c = b->f;
  }
  int width = h * w * c;
  for (int i = 0; i <= net.dense; i++) {
    dense_t *d = &net.d[i];
    d->in = width;
    d->out = i < net.dense ? cfg[at] : net.out;
    d->drop = i < net.dense ? cfg[at + 1] : 0;
    if (i < net.dense) at += 2;
    d->wo = nw; nw += d->in * d->out; d->bo = nw; nw += d->out;
    d->x = falloc(d->in + 4); d->dx = falloc(d->in + 4); d->pre = falloc(d->out + 4);
    if (d->drop) net.drop_size += d->out;
    width = d->out;
  }
  net.nw = nw;
  net.W = falloc(nw); net.G = falloc(nw); net.M1 = falloc(nw); net.M2 = falloc(nw);
  net.conv = falloc(net.maxconv + 8);
  net.z = falloc(net.out + 4); net.dz = falloc(net.out + 4); net.proba = falloc(net.out + 4);
  if (!net.W || !net.G || !net.M1 || !net.M2 || !net.conv || !net.proba) return -1;
  net.lr = (f32)fcfg[F_LR]; net.b1 = (f32)fcfg[F_BETA1]; net.b2 = (f32)fcfg[F_BETA2];
  net.eps = (f32)fcfg[F_EPSILON]; net.mom = (f32)fcfg[F_MOMENTUM]; net.l2 = (f32)fcfg[F_L2];
  net.acc_b1 = net.b1; net.acc_b2 = net.b2;
  return nw;
}

EXPORT(weights) f32 *cv_weights(void) { return net.W; }
EXPORT(mask_size) int32_t cv_mask_size(void) { return net.drop_size; }

/* The transposed conv kernels follow W; call after W changes. */
EXPORT(sync) void cv_sync(void) {
  for (int i = 0; i < net.blocks; i++) {
    block_t *b = &net.b[i];
    int kk = b->k * b->k;
    for (int t = 0; t < kk; t++)
      for (int c = 0; c < b->cin; c++)
        for (int f = 0; f < b->f; f++) b->wt[(f * kk + t) * b->cin + c] = net.W[b->wo + (t * b->cin + c) * b->f + f];
  }
}

/*
 * conv + bias for output pixels (r, c) and (r, c + 1), filters [f0, f0 + 4·NV): broadcast each input
 * value, multiply it into NV vectors of the kernel row, accumulate in registers.
 */
#define CONV_PAIR(NV)                                                                                   \
  static void conv_pair_##NV(const block_t *b, const f32 *restrict W, const f32 *restrict bias, int r,  \
                             int c, int f0, f32 *restrict out) {                                        \
    const int cin = b->cin, F = b->f, k = b->k;                                                         \
    v128_t s0[NV], s1[NV];                                                                              \
    for (int v = 0; v < NV; v++) s0[v] = s1[v] = wasm_v128_load(bias + f0 + 4 * v);                    \
    for (int ky = 0; ky < k; ky++)                                                                      \
      for (int kx = 0; kx < k; kx++) {                                                                  \
        const f32 *p = b->a + ((r + ky) * b->wp + c + kx) * cin;                                        \
        const f32 *w = W + (ky * k + kx) * cin * F + f0;                                                \
        for (int ch = 0; ch < cin; ch++, w += F) {                                                      \
          v128_t x0 = wasm_v128_load32_splat(p + ch), x1 = wasm_v128_load32_splat(p + cin + ch);                     \
          for (int v = 0; v < NV; v++) {                                                                \
            v128_t wv = wasm_v128_load(w + 4 * v);                                                      \
            s0[v] = wasm_f32x4_add(s0[v], wasm_f32x4_mul(x0, wv));                                      \
            s1[v] = wasm_f32x4_add(s1[v], wasm_f32x4_mul(x1, wv));                                      \
          }                                                                                             \
        }                                                                                               \
      }                                                                                                 \
    f32 *o = out + (r * (b->w + 1) + c) * F + f0;                                                       \
    for (int v = 0; v < NV; v++) { wasm_v128_store(o + 4 * v, s0[v]); wasm_v128_store(o + F + 4 * v, s1[v]); } \
  }
CONV_PAIR(4)
CONV_PAIR(1)

/* The block's conv output (before ReLU), h × (w + 1) × f; the extra column is scratch. */
static void conv_forward(const block_t *b, const f32 *W, f32 *out) {
  const f32 *kern = W + b->wo, *bias = W + b->bo;
  for (int r = 0; r < b->h; r++)
    for (int c = 0; c < b->w; c += 2) {
      int f0 = 0;
      for (; f0 + 16 <= b->f; f0 += 16) conv_pair_4(b, kern, bias, r, c, f0, out);
      for (; f0 < b->f; f0 += 4) conv_pair_1(b, kern, bias, r, c, f0, out);
    }
}

/* ReLU + max-pool: the pooled value and the winning pixel (the first maximum, as tfjs takes it), four filters at a time. */
static void pool_forward(block_t *b, const f32 *conv) {
  const int F = b->f, p = b->pool, stride = b->w + 1;
  const v128_t zero = wasm_f32x4_splat(0), none = wasm_i32x4_splat(-1);
  for (int i = 0; i < b->ph; i++)
    for (int j = 0; j < b->pw; j++)
      for (int f = 0; f < F; f += 4) {
        v128_t best = wasm_v128_load(conv + ((i * p) * stride + j * p) * F + f);
        v128_t arg = wasm_i32x4_splat((i * p) * b->w + j * p);
        for (int di = 0; di < p; di++)
          for (int dj = 0; dj < p; dj++) {
            v128_t v = wasm_v128_load(conv + ((i * p + di) * stride + j * p + dj) * F + f);
            v128_t gt = wasm_f32x4_gt(v, best);
            best = wasm_v128_bitselect(v, best, gt);
            arg = wasm_v128_bitselect(wasm_i32x4_splat((i * p + di) * b->w + j * p + dj), arg, gt);
          }
        const int at = (i * b->pw + j) * F + f;
        v128_t pos = wasm_f32x4_gt(best, zero);
        wasm_v128_store(b->pre + at, wasm_v128_and(best, pos));
        wasm_v128_store(b->arg + at, wasm_v128_bitselect(arg, none, pos));
      }
}

/* Pooled output × dropout mask into the next layer's input (the next block's padded interior, or the flat dense input). */
static void block_output(const block_t *b, const f32 *mask, f32 *next, int next_wp, int next_pad) {
  const int F = b->f;
  for (int i = 0; i < b->ph; i++) {
    f32 *dst = next_wp ? next + ((i + next_pad) * next_wp + next_pad) * F : next + i * b->pw * F;
    const f32 *src = b->pre + i * b->pw * F;
    const f32 *m = mask ? mask + i * b->pw * F : 0;
    for (int q = 0; q < b->pw * F; q++) dst[q] = m ? src[q] * m[q] : src[q];
  }
}

static void dense_forward(dense_t *d, const f32 *W, const f32 *mask, int hidden, f32 *out) {
  const f32 *K = W + d->wo;
  const int no = d->out;
  int o0 = 0;
  /* 32 outputs at a time in registers; inputs that are 0 (ReLU, dropout) add nothing */
  for (; o0 + 32 <= no; o0 += 32) {
    v128_t acc[8];
    for (int v = 0; v < 8; v++) acc[v] = wasm_v128_load(W + d->bo + o0 + 4 * v);
    for (int i = 0; i < d->in; i++) {
      if (d->x[i] == 0) continue;
      const v128_t x = wasm_v128_load32_splat(d->x + i);
      const f32 *row = K + i * no + o0;
      for (int v = 0; v < 8; v++) acc[v] = wasm_f32x4_add(acc[v], wasm_f32x4_mul(x, wasm_v128_load(row + 4 * v)));
    }
    for (int v = 0; v < 8; v++) wasm_v128_store(out + o0 + 4 * v, acc[v]);
  }
  for (int o = o0; o < no; o++) {
    f32 s = W[d->bo + o];
    for (int i = 0; i < d->in; i++) s += d->x[i] * K[i * no + o];
    out[o] = s;
  }
  if (!hidden) return;
  for (int o = 0; o < no; o++) {
    f32 r = out[o] > 0 ? out[o] : 0;
    d->pre[o] = r;
    out[o] = mask ? r * mask[o] : r;
  }
}

/*
 * Each layer's dropout mask for image j of a batch of B: masks are laid out layer by layer, each
 * layer's B × size values row-major, in forward order: as the layers engine draws them.
 */
static void layer_masks(const f32 *masks, int j, int B, const f32 **bm, const f32 **dm) {
  const f32 *m = masks;
  for (int i = 0; i < net.blocks; i++) {
    const int size = net.b[i].ph * net.b[i].pw * net.b[i].f;
    bm[i] = masks && net.b[i].drop ? m + j * size : 0;
    if (masks && net.b[i].drop) m += B * size;
  }
  for (int i = 0; i <= net.dense; i++) {
    dm[i] = masks && net.d[i].drop ? m + j * net.d[i].out : 0;
    if (masks && net.d[i].drop) m += B * net.d[i].out;
  }
}

/* One image forward with these masks (0: inference). Leaves the output layer's logits in net.z. */
static void forward(const f32 *img, const f32 **bm, const f32 **dm) {
  block_t *b0 = &net.b[0];
  for (int r = 0; r < b0->h; r++) {
    f32 *dst = b0->a + ((r + b0->pad) * b0->wp + b0->pad) * b0->cin;
    const f32 *src = img + r * b0->w * b0->cin;
    for (int q = 0; q < b0->w * b0->cin; q++) dst[q] = src[q];
  }
  for (int i = 0; i < net.blocks; i++) {
    block_t *b = &net.b[i];
    conv_forward(b, net.W, net.conv);
    pool_forward(b, net.conv);
    if (i + 1 < net.blocks) block_output(b, bm[i], net.b[i + 1].a, net.b[i + 1].wp, net.b[i + 1].pad);
    else block_output(b, bm[i], net.d[0].x, 0, 0);
  }
  for (int i = 0; i <= net.dense; i++) {
    dense_t *d = &net.d[i];
    dense_forward(d, net.W, dm[i], i < net.dense, i < net.dense ? net.d[i + 1].x : net.z);
  }
}

/* Probabilities from net.z; the true class's probability in *ptrue; 1 when the prediction is right. */
static int output(int y, f32 *ptrue) {
  const int n = net.out;
  if (n == 1) {
    f64 x = net.z[0];
    f32 p = (f32)(x >= 0 ? 1.0 / (1.0 + cv_exp(-x)) : cv_exp(x) / (1.0 + cv_exp(x)));
    net.proba[0] = p;
    *ptrue = y ? p : 1.0f - p;
    return (p > 0.5f) == (y == 1);
  }
  f32 mx = net.z[0];
  int arg = 0;
  for (int j = 1; j < n; j++) if (net.z[j] > mx) { mx = net.z[j]; arg = j; }
  f64 sum = 0;
  for (int j = 0; j < n; j++) { f64 e = cv_exp((f64)net.z[j] - mx); net.proba[j] = (f32)e; sum += e; }
  for (int j = 0; j < n; j++) net.proba[j] = (f32)(net.proba[j] / sum);
  *ptrue = net.proba[y];
  return arg == y;
}

/* Gradient of one dense layer: dW += x ⊗ dz, db += dz, and (below a hidden layer) dx = W·dz. */
static void dense_backward(dense_t *d, const f32 *dz, int want_dx) {
  const f32 *K = net.W + d->wo;
  f32 *GK = net.G + d->wo, *GB = net.G + d->bo;
  const int no = d->out, o4 = no & ~3;
  for (int o = 0; o < no; o++) GB[o] += dz[o];
  for (int i = 0; i < d->in; i++) {
    const f32 xi = d->x[i];
    /* a 0 input gets no kernel gradient, and its dx is cut off below (ReLU ≤ 0 or dropped) */
    if (xi == 0) { if (want_dx) d->dx[i] = 0; continue; }
    const f32 *row = K + i * no;
    f32 *grow = GK + i * no;
    v128_t acc = wasm_f32x4_splat(0);
    const v128_t x = wasm_f32x4_splat(xi);
    int o = 0;
    for (; o < o4; o += 4) {
      v128_t g = wasm_v128_load(dz + o);
      wasm_v128_store(grow + o, wasm_f32x4_add(wasm_v128_load(grow + o), wasm_f32x4_mul(x, g)));
      acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_v128_load(row + o), g));
    }
    f32 s = wasm_f32x4_extract_lane(acc, 0) + wasm_f32x4_extract_lane(acc, 1) + wasm_f32x4_extract_lane(acc, 2) + wasm_f32x4_extract_lane(acc, 3);
    for (; o < no; o++) { grow[o] += xi * dz[o]; s += row[o] * dz[o]; }
    if (want_dx) d->dx[i] = s;
  }
}

/*
 * Gradient of one conv block from g, the gradient of its output after dropout (ph × pw × f):
 * through the mask and the pool to the winning pixels, then into the kernel's gradient and
 * (want_da) the gradient of the block's padded input.
 */
static void block_backward(block_t *b, const f32 *g, const f32 *mask, int want_da) {
  const int F = b->f, cin = b->cin, k = b->k, kk = k * k, cells = b->ph * b->pw;
  const int n = k * cin; /* one kernel row spans k pixels × cin values, contiguous in the padded input */
  f32 *GB = net.G + b->bo;
  if (want_da) for (int q = 0; q < b->hp * b->wp * cin; q++) b->da[q] = 0;
  for (int f = 0; f < F; f++) {
    /* this filter's winning pixels (their patch's offset in the padded input) and gradients */
    int cnt = 0;
    for (int cell = 0; cell < cells; cell++) {
      const int at = cell * F + f, pix = b->arg[at];
      if (pix < 0) continue;
      const f32 gz = mask ? g[at] * mask[at] : g[at];
      if (gz == 0) continue;
      GB[f] += gz;
      b->nzb[cnt] = ((pix / b->w) * b->wp + pix % b->w) * cin;
      b->nzg[cnt++] = gz;
    }
    if (!cnt) continue;
    /* kernel gradient, row by row, 16 values at a time in registers */
    for (int ky = 0; ky < k; ky++) {
      f32 *gw = b->gwt + (f * kk + ky * k) * cin;
      const f32 *a = b->a + ky * b->wp * cin;
      int q = 0;
      for (; q + 16 <= n; q += 16) {
        v128_t s0 = wasm_v128_load(gw + q), s1 = wasm_v128_load(gw + q + 4), s2 = wasm_v128_load(gw + q + 8), s3 = wasm_v128_load(gw + q + 12);
        for (int e = 0; e < cnt; e++) {
          const v128_t vg = wasm_v128_load32_splat(b->nzg + e);
          const f32 *p = a + b->nzb[e] + q;
          s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(vg, wasm_v128_load(p)));
          s1 = wasm_f32x4_add(s1, wasm_f32x4_mul(vg, wasm_v128_load(p + 4)));
          s2 = wasm_f32x4_add(s2, wasm_f32x4_mul(vg, wasm_v128_load(p + 8)));
          s3 = wasm_f32x4_add(s3, wasm_f32x4_mul(vg, wasm_v128_load(p + 12)));
        }
        wasm_v128_store(gw + q, s0); wasm_v128_store(gw + q + 4, s1); wasm_v128_store(gw + q + 8, s2); wasm_v128_store(gw + q + 12, s3);
      }
      for (; q + 4 <= n; q += 4) {
        v128_t s0 = wasm_v128_load(gw + q);
        for (int e = 0; e < cnt; e++) s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(wasm_v128_load32_splat(b->nzg + e), wasm_v128_load(a + b->nzb[e] + q)));
        wasm_v128_store(gw + q, s0);
      }
      for (; q < n; q++) {
        f32 s0 = gw[q];
        for (int e = 0; e < cnt; e++) s0 += b->nzg[e] * a[b->nzb[e] + q];
        gw[q] = s0;
      }
    }
    if (!want_da) continue;
    /* input gradient: each winning pixel's patch gets the kernel times its gradient */
    const f32 *wt = b->wt + f * kk * cin;
    for (int e = 0; e < cnt; e++) {
      const v128_t vg = wasm_v128_load32_splat(b->nzg + e);
      const f32 gz = b->nzg[e];
      for (int ky = 0; ky < k; ky++) {
        f32 *da = b->da + b->nzb[e] + ky * b->wp * cin;
        const f32 *wr = wt + ky * n;
        int q = 0;
        for (; q + 4 <= n; q += 4) wasm_v128_store(da + q, wasm_f32x4_add(wasm_v128_load(da + q), wasm_f32x4_mul(vg, wasm_v128_load(wr + q))));
        for (; q < n; q++) da[q] += gz * wr[q];
      }
    }
  }
}

/* One image backward from net.dz (the output layer's gradient), summing into net.G and the blocks' gwt. */
static void backward(const f32 **bm, const f32 **dm) {
  const f32 *dz = net.dz;
  for (int i = net.dense; i >= 0; i--) {
    dense_t *d = &net.d[i];
    dense_backward(d, dz, 1);
    if (i > 0) {
      /* through the layer below's dropout and ReLU */
      dense_t *below = &net.d[i - 1];
      for (int q = 0; q < d->in; q++) {
        f32 gq = below->pre[q] > 0 ? d->dx[q] : 0;
        d->dx[q] = dm[i - 1] ? gq * dm[i - 1][q] : gq;
      }
    }
    dz = d->dx;
  }
  /* dz: the gradient of the last block's output after dropout, flat in (row, column, filter) order */
  for (int i = net.blocks - 1; i >= 0; i--) {
    block_t *b = &net.b[i];
    block_backward(b, dz, bm[i], i > 0);
    if (i > 0) {
      /* the padded interior of this block's input gradient is the block below's output gradient;
         the conv scratch is free during backward */
      block_t *below = &net.b[i - 1];
      f32 *flat = net.conv;
      for (int r = 0; r < below->ph; r++) {
        const f32 *src = b->da + ((r + b->pad) * b->wp + b->pad) * b->cin;
        for (int q = 0; q < below->pw * b->cin; q++) flat[r * below->pw * b->cin + q] = src[q];
      }
      dz = flat;
    }
  }
}

/* Σw² over every kernel (biases carry no penalty). */
static f64 penalty(void) {
  f64 s = 0;
  for (int i = 0; i < net.blocks; i++) for (int q = net.b[i].wo; q < net.b[i].bo; q++) s += (f64)net.W[q] * net.W[q];
  for (int i = 0; i <= net.dense; i++) for (int q = net.d[i].wo; q < net.d[i].bo; q++) s += (f64)net.W[q] * net.W[q];
  return s;
}

static void update(void) {
  const int nw = net.nw;
  f32 *W = net.W, *G = net.G, *M1 = net.M1, *M2 = net.M2;
  if (net.opt == 0) {
    const f32 b1 = net.b1, b2 = net.b2, c1 = 1.0f / (1.0f - net.acc_b1), c2 = 1.0f / (1.0f - net.acc_b2);
    const v128_t vb1 = wasm_f32x4_splat(b1), vb2 = wasm_f32x4_splat(b2), vo1 = wasm_f32x4_splat(1.0f - b1), vo2 = wasm_f32x4_splat(1.0f - b2);
    const v128_t vc1 = wasm_f32x4_splat(c1), vc2 = wasm_f32x4_splat(c2), vlr = wasm_f32x4_splat(net.lr), veps = wasm_f32x4_splat(net.eps);
    int i = 0;
    for (; i + 4 <= nw; i += 4) {
      v128_t g = wasm_v128_load(G + i);
      v128_t m = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(M1 + i), vb1), wasm_f32x4_mul(g, vo1));
      v128_t v = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(M2 + i), vb2), wasm_f32x4_mul(wasm_f32x4_mul(g, g), vo2));
      wasm_v128_store(M1 + i, m); wasm_v128_store(M2 + i, v);
      v128_t step = wasm_f32x4_div(wasm_f32x4_mul(vlr, wasm_f32x4_mul(m, vc1)), wasm_f32x4_add(wasm_f32x4_sqrt(wasm_f32x4_mul(v, vc2)), veps));
      wasm_v128_store(W + i, wasm_f32x4_sub(wasm_v128_load(W + i), step));
    }
    for (; i < nw; i++) {
      f32 g = G[i], m = M1[i] * b1 + g * (1.0f - b1), v = M2[i] * b2 + g * g * (1.0f - b2);
      M1[i] = m; M2[i] = v;
      W[i] -= (net.lr * (m * c1)) / (__builtin_sqrtf(v * c2) + net.eps);
    }
    net.acc_b1 *= b1; net.acc_b2 *= b2;
  } else {
    for (int i = 0; i < nw; i++) {
      if (net.mom > 0) { M1[i] = net.mom * M1[i] + G[i]; W[i] -= net.lr * M1[i]; }
      else W[i] -= net.lr * G[i];
    }
  }
}

/*
 * One training step over B images: x[rows[j]] is image j (labels y[rows[j]]); masks holds the
 * batch's dropout masks (B × mask_size() values, see layer_masks), or is 0.
 * Writes each image's probability of its true class and whether it was right; returns Σw² over
 * the kernels before the update (the caller adds c·Σw² to the loss).
 */
EXPORT(step) f64 cv_step(const f32 *x, const int32_t *rows, int32_t B, const int32_t *y, const f32 *masks, f32 *ptrue, int32_t *correct) {
  const int D = net.b[0].h * net.b[0].w * net.b[0].cin;
  const f64 pen = net.l2 > 0 ? penalty() : 0;
  for (int i = 0; i < net.nw; i++) net.G[i] = 0;
  for (int i = 0; i < net.blocks; i++) for (int q = 0; q < net.b[i].k * net.b[i].k * net.b[i].cin * net.b[i].f; q++) net.b[i].gwt[q] = 0;
  const f32 scale = 1.0f / (f32)B;
  for (int j = 0; j < B; j++) {
    const f32 *bm[MAX_BLOCKS], *dm[MAX_DENSE + 1];
    layer_masks(masks, j, B, bm, dm);
    const int label = y[rows[j]];
    forward(x + (int64_t)rows[j] * D, bm, dm);
    correct[j] = output(label, &ptrue[j]);
    /* ---- loss gradient: (p − onehot)/B, zero where the clip cuts it off ---- */
    f64 pt = ptrue[j];
    const int clipped = pt < EPS || pt > 1 - EPS;
    if (net.out == 1) net.dz[0] = clipped ? 0.0f : scale * (net.proba[0] - (f32)label);
    else for (int o = 0; o < net.out; o++) net.dz[o] = clipped ? 0.0f : scale * (net.proba[o] - (o == label ? 1.0f : 0.0f));
    backward(bm, dm);
  }
  /* the conv kernels' gradients back into W's layout, then the L2 term 2c·w on every kernel */
  for (int i = 0; i < net.blocks; i++) {
    block_t *b = &net.b[i];
    const int kk = b->k * b->k;
    for (int t = 0; t < kk; t++)
      for (int c = 0; c < b->cin; c++)
        for (int f = 0; f < b->f; f++) net.G[b->wo + (t * b->cin + c) * b->f + f] = b->gwt[(f * kk + t) * b->cin + c];
  }
  if (net.l2 > 0) {
    const f32 two = 2.0f * net.l2;
    for (int i = 0; i < net.blocks; i++) for (int q = net.b[i].wo; q < net.b[i].bo; q++) net.G[q] += two * net.W[q];
    for (int i = 0; i <= net.dense; i++) for (int q = net.d[i].wo; q < net.d[i].bo; q++) net.G[q] += two * net.W[q];
  }
  update();
  cv_sync();
  return pen;
}

/* Inference (no dropout) on n images: probabilities, net.out per image (one, p(class 1), for two classes). */
EXPORT(predict) void cv_predict(const f32 *x, int32_t n, f32 *proba) {
  const int D = net.b[0].h * net.b[0].w * net.b[0].cin;
  f32 pt;
  const f32 *bm[MAX_BLOCKS], *dm[MAX_DENSE + 1];
  layer_masks(0, 0, 0, bm, dm);
  for (int i = 0; i < n; i++) {
    forward(x + (int64_t)i * D, bm, dm);
    output(0, &pt);
    for (int o = 0; o < net.out; o++) proba[i * net.out + o] = net.proba[o];
  }
}
