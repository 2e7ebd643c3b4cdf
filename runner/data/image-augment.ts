/**
 * Image augmentation with Keras' ImageDataGenerator semantics (`get_random_transform` then
 * `apply_affine_transform`): per image, a rotation uniform in ±rotation degrees, a shift
 * uniform in ±shift × height (rows) and ±shift × width (columns), a shear uniform in ±shear
 * degrees, zoom factors drawn independently for rows and columns uniform in 1 ± zoom, then a
 * horizontal flip with probability ½ when `flip` is set. The affine map takes each output
 * pixel back to the input (as scipy.ndimage.affine_transform does), composed as Keras does:
 * rotation · shift · shear · zoom, about the image centre. Sampling is bilinear (Keras' default
 * order=1 spline) with fill mode `nearest` (coordinates clamp to the border), so outputs stay in
 * the range of the inputs.
 *
 * Two choices differ from Keras on purpose: the centre is ((h−1)/2, (w−1)/2), the true centre
 * of the pixel grid (Keras uses h/2 + 0.5, which shifts every rotation by half a pixel), and
 * the two options Keras lacks but points share: `scale` multiplies both zoom factors by one
 * factor uniform in 1 ± scale, and `jitter` adds Gaussian noise to every pixel, clipped to [0, 1].
 */
import type { Augmentation } from '../records/config.ts';
import type { Stream } from './random/streams.ts';

export interface ImageShape {
  height: number;
  width: number;
  channels: number;
}

/** One image's transform, explicit: what `randomTransform` draws. */
export interface ImageTransform {
  /** Rotation in degrees; positive turns the content clockwise as displayed (row 0 at the top). */
  theta: number;
  /** Shift in pixels along rows: output row r samples input row r + tx. */
  tx: number;
  /** Shift in pixels along columns: output column c samples input column c + ty. */
  ty: number;
  /** Shear in degrees. */
  shear: number;
  /** Zoom along rows and columns: above 1 samples a larger area, so content shrinks. */
  zx: number;
  zy: number;
  /** Reverse the columns after the affine transform. */
  flip: boolean;
}

export const IDENTITY: Readonly<ImageTransform> = Object.freeze({ theta: 0, tx: 0, ty: 0, shear: 0, zx: 1, zy: 1, flip: false });

/** Draws one image's transform from `stream`, in Keras' order (rotation, shifts, shear, zoom, flip). */
export function randomTransform(aug: Augmentation, shape: Pick<ImageShape, 'height' | 'width'>, stream: Stream): ImageTransform {
  const t: ImageTransform = { ...IDENTITY };
  if (aug.rotation) t.theta = stream.between(-aug.rotation, aug.rotation);
  if (aug.shift) {
    t.tx = stream.between(-aug.shift, aug.shift) * shape.height;
    t.ty = stream.between(-aug.shift, aug.shift) * shape.width;
  }
  if (aug.shear) t.shear = stream.between(-aug.shear, aug.shear);
  if (aug.zoom) {
    t.zx = stream.between(1 - aug.zoom, 1 + aug.zoom);
    t.zy = stream.between(1 - aug.zoom, 1 + aug.zoom);
  }
  if (aug.scale) {
    const s = stream.between(1 - aug.scale, 1 + aug.scale);
    t.zx *= s;
    t.zy *= s;
  }
  if (aug.flip) t.flip = stream.uniform() < 0.5;
  return t;
}

type Mat3 = [number, number, number, number, number, number, number, number, number];
const mul = (a: Mat3, b: Mat3): Mat3 => {
  const out = new Array<number>(9) as Mat3;
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) out[i * 3 + j] = a[i * 3] * b[j] + a[i * 3 + 1] * b[3 + j] + a[i * 3 + 2] * b[6 + j];
  }
  return out;
};

/** The 3×3 map from output (row, col) to input (row, col), about the image centre. */
function transformMatrix(t: ImageTransform, height: number, width: number): Mat3 {
  const rad = Math.PI / 180;
  const [cos, sin] = [Math.cos(t.theta * rad), Math.sin(t.theta * rad)];
  const rotation: Mat3 = [cos, -sin, 0, sin, cos, 0, 0, 0, 1];
  const shift: Mat3 = [1, 0, t.tx, 0, 1, t.ty, 0, 0, 1];
  const shear: Mat3 = [1, -Math.sin(t.shear * rad), 0, 0, Math.cos(t.shear * rad), 0, 0, 0, 1];
  const zoom: Mat3 = [t.zx, 0, 0, 0, t.zy, 0, 0, 0, 1];
  const [cr, cc] = [(height - 1) / 2, (width - 1) / 2];
  const toCentre: Mat3 = [1, 0, -cr, 0, 1, -cc, 0, 0, 1];
  const back: Mat3 = [1, 0, cr, 0, 1, cc, 0, 0, 1];
  return mul(back, mul(rotation, mul(shift, mul(shear, mul(zoom, toCentre)))));
}

/**
 * One image (flattened row-major h × w × c) transformed by explicit parameters; a new array.
 * `interpolation`: 'bilinear' (Keras' default) or 'nearest'.
 */
export function transformImage(img: readonly number[], height: number, width: number, channels: number, t: ImageTransform,
  interpolation: 'bilinear' | 'nearest' = 'bilinear'): number[] {
  const m = transformMatrix(t, height, width);
  const out = new Array<number>(height * width * channels);
  const at = (r: number, c: number, ch: number) => img[(r * width + c) * channels + ch];
  for (let r = 0; r < height; r++) {
    for (let c = 0; c < width; c++) {
      // clamping is fill mode `nearest`; snapping float dust (cos 90° ≈ 6e-17) keeps exact maps exact
      const sr = clamp(snap(m[0] * r + m[1] * c + m[2]), height - 1);
      const sc = clamp(snap(m[3] * r + m[4] * c + m[5]), width - 1);
      const oc = t.flip ? width - 1 - c : c;
      for (let ch = 0; ch < channels; ch++) {
        let v: number;
        if (interpolation === 'nearest') v = at(Math.round(sr), Math.round(sc), ch);
        else {
          const [r0, c0] = [Math.floor(sr), Math.floor(sc)];
          const [r1, c1] = [Math.min(r0 + 1, height - 1), Math.min(c0 + 1, width - 1)];
          const [fr, fc] = [sr - r0, sc - c0];
          v = (1 - fr) * ((1 - fc) * at(r0, c0, ch) + fc * at(r0, c1, ch)) + fr * ((1 - fc) * at(r1, c0, ch) + fc * at(r1, c1, ch));
        }
        out[(r * width + oc) * channels + ch] = v;
      }
    }
  }
  return out;
}

/** Every image of `x` augmented once, each with its own draw; `x` is untouched. */
export function augmentImages(x: readonly (readonly number[])[], shape: ImageShape, aug: Augmentation, stream: Stream): number[][] {
  const { height, width, channels } = shape;
  return x.map((img) => {
    const out = transformImage(img, height, width, channels, randomTransform(aug, shape, stream));
    if (!aug.jitter) return out;
    return out.map((v) => Math.min(1, Math.max(0, v + aug.jitter! * stream.gaussian())));
  });
}

const clamp = (v: number, max: number) => (v < 0 ? 0 : v > max ? max : v);
const snap = (v: number) => (Math.abs(v - Math.round(v)) < 1e-9 ? Math.round(v) : v);
