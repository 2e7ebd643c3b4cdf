/* The few wasm_simd128.h operations kernel.c uses, for the native comparison build (x86-64 or any clang target). */
#include <stdint.h>
#include <string.h>
typedef int32_t v128_t __attribute__((vector_size(16), aligned(16)));
typedef float f32x4_t __attribute__((vector_size(16), aligned(16)));
typedef uint32_t u32x4_t __attribute__((vector_size(16), aligned(16)));
static inline v128_t wasm_v128_load(const void *p) { v128_t v; memcpy(&v, p, 16); return v; }
static inline void wasm_v128_store(void *p, v128_t v) { memcpy(p, &v, 16); }
static inline v128_t wasm_f32x4_splat(float a) { return (v128_t)(f32x4_t){a, a, a, a}; }
static inline v128_t wasm_f32x4_add(v128_t a, v128_t b) { return (v128_t)((f32x4_t)a + (f32x4_t)b); }
static inline v128_t wasm_f32x4_sub(v128_t a, v128_t b) { return (v128_t)((f32x4_t)a - (f32x4_t)b); }
static inline v128_t wasm_f32x4_mul(v128_t a, v128_t b) { return (v128_t)((f32x4_t)a * (f32x4_t)b); }
static inline v128_t wasm_f32x4_div(v128_t a, v128_t b) { return (v128_t)((f32x4_t)a / (f32x4_t)b); }
static inline v128_t wasm_f32x4_gt(v128_t a, v128_t b) { return (v128_t)((f32x4_t)a > (f32x4_t)b); }
static inline v128_t wasm_f32x4_lt(v128_t a, v128_t b) { return (v128_t)((f32x4_t)a < (f32x4_t)b); }
#ifdef __SSE__
#include <immintrin.h>
static inline v128_t wasm_f32x4_sqrt(v128_t a) { return (v128_t)_mm_sqrt_ps((__m128)a); }
#else
static inline v128_t wasm_f32x4_sqrt(v128_t a) {
  f32x4_t f = (f32x4_t)a;
  return (v128_t)(f32x4_t){__builtin_sqrtf(f[0]), __builtin_sqrtf(f[1]), __builtin_sqrtf(f[2]), __builtin_sqrtf(f[3])};
}
#endif
static inline float wasm_f32x4_extract_lane(v128_t a, int k) { return ((f32x4_t)a)[k]; }
static inline v128_t wasm_v128_and(v128_t a, v128_t b) { return a & b; }
static inline v128_t wasm_v128_or(v128_t a, v128_t b) { return a | b; }
static inline v128_t wasm_v128_xor(v128_t a, v128_t b) { return a ^ b; }
static inline v128_t wasm_i32x4_add(v128_t a, v128_t b) { return (v128_t)((u32x4_t)a + (u32x4_t)b); }
static inline v128_t wasm_i32x4_shl(v128_t a, int k) { return (v128_t)((u32x4_t)a << k); }
static inline v128_t wasm_u32x4_shr(v128_t a, int k) { return (v128_t)((u32x4_t)a >> k); }
static inline v128_t wasm_f32x4_convert_i32x4(v128_t a) { return (v128_t)__builtin_convertvector(a, f32x4_t); }
static inline v128_t wasm_f32x4_pmax(v128_t a, v128_t b) { v128_t lt = (v128_t)((f32x4_t)a < (f32x4_t)b); return (lt & b) | (~lt & a); }
static inline v128_t wasm_v128_load32_splat(const void *p) { float f; memcpy(&f, p, 4); return wasm_f32x4_splat(f); }
#define wasm_i32x4_shuffle(a, b, c0, c1, c2, c3) ((v128_t)__builtin_shufflevector((u32x4_t)(a), (u32x4_t)(b), c0, c1, c2, c3))
