import type * as TF from '../tfjs.ts';

/**
 * tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter, so a CNN cannot train on it. A 2-D
 * convolution is a 3-D one of depth 1 with the same NHWC memory layout, so the filter
 * gradient is the wasm Conv3DBackpropFilterV2 on the same buffers, viewed with a depth axis.
 */
export function registerWasmConvGrad(tf: typeof TF): void {
  if (tf.getKernel('Conv2DBackpropFilter', 'wasm')) return;
  const conv3d = tf.getKernel('Conv3DBackpropFilterV2', 'wasm');
  if (!conv3d) return;
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, dy } = inputs as { x: TF.TensorInfo; dy: TF.TensorInfo };
      const { strides, pad, filterShape, dilations, dataFormat } = attrs as unknown as {
        strides: [number, number] | number; pad: unknown; filterShape: [number, number, number, number];
        dilations?: [number, number] | number; dataFormat?: string;
      };
      if (pad !== 'same' && pad !== 'valid') throw new Error(`Conv2DBackpropFilter on wasm supports 'same' and 'valid' padding, got ${String(pad)}`);
      if (dataFormat && dataFormat !== 'NHWC') throw new Error(`Conv2DBackpropFilter on wasm supports NHWC only, got ${dataFormat}`);
      if (dilations !== undefined && [dilations].flat().some((d) => d !== 1)) throw new Error('Conv2DBackpropFilter on wasm supports dilation 1 only');
      const [sh, sw] = typeof strides === 'number' ? [strides, strides] : strides;
      const depth = (t: TF.TensorInfo): TF.TensorInfo => ({ dataId: t.dataId, dtype: t.dtype, shape: [t.shape[0], 1, ...t.shape.slice(1)] });
      const dw = conv3d.kernelFunc({
        inputs: { x: depth(x), dy: depth(dy) },
        backend,
        attrs: { strides: [1, sh, sw], pad, filterShape: [1, ...filterShape] },
      }) as TF.TensorInfo;
      return { dataId: dw.dataId, dtype: dw.dtype, shape: filterShape };
    },
  });
}
