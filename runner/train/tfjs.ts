/**
 * The part of TensorFlow.js fitgrid trains with: the core ops, the layers API and the plain CPU
 * backend (the wasm backend is loaded by backend.ts). The `@tensorflow/tfjs` umbrella would add
 * the converter, the data package, the WebGL backend and browser bundles that a worker never
 * loads: about half of a production install. Without the umbrella, tensors have no chained
 * methods (`t.slice()`): fitgrid calls the ops (`tf.slice(t)`). Gradients come with tfjs-layers.
 */
import '@tensorflow/tfjs-backend-cpu';

export * from '@tensorflow/tfjs-core';
export * from '@tensorflow/tfjs-layers';
