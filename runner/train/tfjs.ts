/**
 * The part of TensorFlow.js fitgrid trains with: the core ops, the layers API and the plain CPU
 * backend (the wasm backend is loaded by backend.ts). The `@tensorflow/tfjs` umbrella would add
 * the converter, the data package, the WebGL backend and browser bundles that a worker never
 * loads: about half of a production install.
 */
import '@tensorflow/tfjs-backend-cpu';
// What the umbrella package adds to core: tensor methods (`t.slice()`) and every op's gradient.
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops.js';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';

export * from '@tensorflow/tfjs-core';
export * from '@tensorflow/tfjs-layers';
