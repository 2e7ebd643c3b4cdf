// Loads kernel.wasm and runs one patience group through it. Plain JS so worker threads need no TS loader.
import { readFileSync } from 'node:fs';
import v8 from 'node:v8';

/**
 * The two builds of kernel.c: SIMD128 alone (the default), and with relaxed SIMD's fused
 * multiply-add, used when FITGRID_KERNEL=relaxed asks for it and the runtime validates it (Node 20
 * only behind a V8 flag, set here before the module compiles), else the SIMD128 build. The
 * choice never depends on timing, so a machine gives the same results run after run. It is not
 * the default: on CPUs with separate multiply and add pipes the fused multiply-add gains nothing.
 */
const plainModule = new WebAssembly.Module(readFileSync(new URL('./kernel.wasm', import.meta.url)));
let relaxedModule; // undefined: not tried yet; null: the runtime rejects it
function relaxed() {
  if (relaxedModule !== undefined) return relaxedModule;
  const bytes = readFileSync(new URL('./kernel-relaxed.wasm', import.meta.url));
  if (!WebAssembly.validate(bytes)) v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  return (relaxedModule = WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null);
}

/** Which build createKernel() instantiates by default: 'relaxed' or 'plain'. */
export const kernelVariant = process.env.FITGRID_KERNEL === 'relaxed' && relaxed() ? 'relaxed' : 'plain';

/**
 * A fresh instance (one per thread: each has its own linear memory). `poison` (tests) fills every
 * output buffer with NaN before the kernel writes it, so a value it forgets to write shows;
 * `variant` ('relaxed' | 'plain') picks a build (tests compare them).
 */
export function createKernel({ poison = false, variant = kernelVariant } = {}) {
  const chosen = variant === 'relaxed' ? relaxed() : plainModule;
  if (!chosen) throw new Error(`fused kernel: the ${variant} build does not run here`);
  const k = new WebAssembly.Instance(chosen, {}).exports;
  const memory = k.memory;

  function put(Type, src) {
    const ptr = k.alloc(Math.max(4, src.length * Type.BYTES_PER_ELEMENT));
    if (!ptr) throw new Error('fused kernel: out of memory');
    new Type(memory.buffer, ptr, src.length).set(src);
    return ptr;
  }
  function space(Type, length) {
    const ptr = k.alloc(Math.max(4, length * Type.BYTES_PER_ELEMENT));
    if (!ptr) throw new Error('fused kernel: out of memory');
    if (poison) new Type(memory.buffer, ptr, length).fill(Type === Int32Array ? -0x7fffffff : NaN);
    return ptr;
  }
  // Reads go through slice(): memory.buffer is replaced whenever the module grows its memory.
  const read = (Type, ptr, length) => new Type(memory.buffer, ptr, length).slice();

  function predictWith(cfgPtr, wPtr, x, outputs) {
    const rows = x.length / cfgIn(cfgPtr);
    if (!rows) return new Float32Array(0);
    const xPtr = put(Float32Array, x);
    const pPtr = space(Float32Array, rows * outputs);
    k.predict(cfgPtr, wPtr, rows, xPtr, pPtr);
    return read(Float32Array, pPtr, rows * outputs);
  }
  const cfgIn = (cfgPtr) => new Int32Array(memory.buffer, cfgPtr, 1)[0];

  return {
    weightCount(cfg) {
      const mark = k.mark();
      try { return k.weight_count(put(Int32Array, cfg)); } finally { k.release(mark); }
    },

    /**
     * job: { cfg: Int32Array, fcfg: Float64Array, patience: Int32Array, xTrain, yTrain, xVal, yVal,
     *        weights: Float32Array, predict?: { train: Float32Array, val: Float32Array, surface?: Float32Array } }
     * Returns { epochsRun, history: Float32Array(4·epochs), stops: Int32Array(2·P), kept: Float32Array[P],
     *           proba: [{ train, val, surface }] per patience value at its kept weights }.
     */
    trainGroup(job) {
      const mark = k.mark();
      try {
        const { cfg, fcfg, patience } = job;
        const epochs = cfg[7];
        const outputs = cfg[1];
        const cfgPtr = put(Int32Array, cfg);
        const nw = k.weight_count(cfgPtr);
        if (job.weights.length !== nw) throw new Error(`fused kernel: expected ${nw} initial weights, got ${job.weights.length}`);
        const wPtr = put(Float32Array, job.weights);
        const histPtr = space(Float32Array, 4 * epochs);
        const snapPtr = space(Float32Array, patience.length * nw);
        const stopPtr = space(Int32Array, 2 * patience.length);
        const epochsRun = k.train(cfgPtr, put(Float64Array, fcfg), put(Int32Array, patience),
          put(Float32Array, job.xTrain), put(Int32Array, job.yTrain), put(Float32Array, job.xVal), put(Int32Array, job.yVal),
          wPtr, histPtr, snapPtr, stopPtr);
        const history = read(Float32Array, histPtr, 4 * epochs);
        const stops = read(Int32Array, stopPtr, 2 * patience.length);
        const kept = [];
        const proba = [];
        for (let p = 0; p < patience.length; p++) {
          const at = snapPtr + p * nw * 4;
          kept.push(read(Float32Array, at, nw));
          const probaOut = outputs === 1 ? 1 : outputs;
          proba.push(job.predict ? {
            train: predictWith(cfgPtr, at, job.predict.train, probaOut),
            val: predictWith(cfgPtr, at, job.predict.val, probaOut),
            surface: job.predict.surface ? predictWith(cfgPtr, at, job.predict.surface, probaOut) : null,
          } : null);
        }
        return { epochsRun, history, stops, kept, proba };
      } finally {
        k.release(mark);
      }
    },

    /** Probabilities (one per row for binary, C per row otherwise) for rows x at weights. */
    predict(cfg, weights, x) {
      const mark = k.mark();
      try {
        const cfgPtr = put(Int32Array, cfg);
        return predictWith(cfgPtr, put(Float32Array, weights), x, cfg[1]);
      } finally {
        k.release(mark);
      }
    },
  };
}
