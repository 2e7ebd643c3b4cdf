/**
 * An `idx` data section as a Dataset: image and label files in IDX format, checked against each
 * other and against `classNames`, pixels (uint8) scaled into [0, 1]. Only the images kept by the
 * split and the subsets become number rows, so a 60,000-image file costs its bytes, not 60,000
 * arrays.
 */
import type { IdxData } from '../records/config.ts';
import { defaultSplit } from '../grid/schema.ts';
import { UserError, type Place } from '../errors.ts';
import { selectRows } from './dataset.ts';
import { pixelNames } from './digits.ts';
import { IdxError, idxValues, parseIdx } from './idx.ts';
import { stratifiedSample } from './split.ts';
import { streamFor } from './random/streams.ts';
import type { Dataset } from './types.ts';

interface IdxImages { count: number; height: number; width: number; channels: number; pixels: Uint8Array }

/** The bytes of an idx section's files, in the section's field order. */
export interface IdxBytes {
  images: Uint8Array;
  labels: Uint8Array;
  valImages?: Uint8Array;
  valLabels?: Uint8Array;
}

/** Where each file of the section is, for messages: the file and its field. */
export type IdxPlaces = Record<keyof IdxBytes, Place>;

const parse = (raw: Uint8Array, place: Place) => {
  try {
    return parseIdx(raw);
  } catch (error) {
    if (error instanceof IdxError) throw new UserError(error.message, place);
    throw error;
  }
};

/** An images file: uint8 values, dimensions (count, height, width) or (count, height, width, channels 1 or 3). */
function idxImages(raw: Uint8Array, place: Place): IdxImages {
  const a = parse(raw, place);
  const [count, height, width, channels = 1] = a.dims as [number, number, number, number?];
  if (a.dims.length !== 3 && a.dims.length !== 4) {
    throw new UserError(`Expected images, dimensions (count, height, width[, channels]); this IDX file has ${a.dims.length} (${a.dims.join('×')})`, place);
  }
  if (a.type !== 0x08) throw new UserError(`Expected uint8 pixels (IDX type 0x08), got ${a.typeName}`, place);
  if (channels !== 1 && channels !== 3) throw new UserError(`Expected 1 (grey) or 3 (RGB) channels, got ${channels}`, place);
  if (count === 0 || height === 0 || width === 0) throw new UserError(`Expected at least one image of at least 1×1 pixel, got ${a.dims.join('×')}`, place);
  return { count, height, width, channels, pixels: a.bytes };
}

/** A labels file: one integer per item, ≥ 0. */
function idxLabels(raw: Uint8Array, place: Place): number[] {
  const a = parse(raw, place);
  if (a.dims.length !== 1) throw new UserError(`Expected labels, one dimension (count); this IDX file has ${a.dims.length} (${a.dims.join('×')})`, place);
  if (a.type === 0x0d || a.type === 0x0e) throw new UserError(`Expected integer labels, got ${a.typeName}`, place);
  const labels = Array.from(idxValues(a));
  const bad = labels.findIndex((v) => v < 0);
  if (bad >= 0) throw new UserError(`Expected labels ≥ 0 (class indices), got ${labels[bad]} at item ${bad}`, place);
  return labels;
}

interface Checked {
  train: { images: IdxImages; labels: number[] };
  val?: { images: IdxImages; labels: number[] };
  classNames: string[];
}

/** Parses and cross-checks every file of the section; every mistake names the file and field. */
export function checkIdx(spec: Pick<IdxData, 'classNames'> & { val: unknown }, bytes: IdxBytes, places: IdxPlaces): Checked {
  const pair = (imagesAt: 'images' | 'valImages', labelsAt: 'labels' | 'valLabels') => {
    const images = idxImages(bytes[imagesAt]!, places[imagesAt]);
    const labels = idxLabels(bytes[labelsAt]!, places[labelsAt]);
    if (labels.length !== images.count) {
      throw new UserError(`${labels.length} labels for the ${images.count} images of ${places[imagesAt].file}`, places[labelsAt]);
    }
    return { images, labels };
  };
  const train = pair('images', 'labels');
  const val = spec.val ? pair('valImages', 'valLabels') : undefined;
  if (val) {
    const [a, b] = [train.images, val.images];
    if (a.height !== b.height || a.width !== b.width || a.channels !== b.channels) {
      throw new UserError(`Expected validation images of the training images' shape ${a.height}×${a.width}×${a.channels}, got ${b.height}×${b.width}×${b.channels}`, places.valImages);
    }
  }
  const most = [train.labels, val?.labels ?? []].reduce((m, ls) => ls.reduce((a, b) => (b > a ? b : a), m), 0);
  const names = spec.classNames;
  if (names) {
    for (const [set, at] of [[train, 'labels'], [val, 'valLabels']] as const) {
      const i = set ? set.labels.findIndex((v) => v >= names.length) : -1;
      if (set && i >= 0) {
        throw new UserError(`label ${set.labels[i]} at item ${i} is outside \`classNames\` (${names.length} names, labels 0–${names.length - 1})`, places[at]);
      }
    }
  } else if (most < 1) {
    throw new UserError(`Expected at least two classes, got only label ${most}`, places.labels);
  }
  return { train, val, classNames: names ?? Array.from({ length: most + 1 }, (_, c) => String(c)) };
}

/** The dataset: the checked files, split (or the validation pair), subsets, pixels / 255. */
export function loadIdx(spec: IdxData, bytes: IdxBytes, places: IdxPlaces): Dataset {
  const { train, val, classNames } = checkIdx(spec, bytes, places);
  const { height, width, channels } = train.images;
  const rowOf = (images: IdxImages) => {
    const size = height * width * channels;
    return (i: number) => Array.from(images.pixels.subarray(i * size, (i + 1) * size), (v) => v / 255);
  };
  const inputShape = [height, width, channels];
  const common = { featureNames: pixelNames(height, width, channels), classNames, inputShape };
  if (!val) {
    const split = spec.split ?? defaultSplit();
    const picked = selectRows(train.labels, { split, trainSize: spec.trainSize, place: places.images });
    const row = rowOf(train.images);
    return {
      ...common,
      train: { x: picked.train.map(row), y: picked.train.map((i) => train.labels[i]) },
      val: { x: picked.val.map(row), y: picked.val.map((i) => train.labels[i]) },
    };
  }
  const subset = (labels: number[], size: number | null, purpose: string, place: Place) => {
    if (size === null) return labels.map((_, i) => i);
    if (size > labels.length) throw new UserError(`Expected \`${purpose === 'trainSize' ? 'trainSize' : 'val.size'}\` at most the file's ${labels.length} items, got ${size}`, place);
    return stratifiedSample(labels, size, streamFor(0, purpose));
  };
  const t = subset(train.labels, spec.trainSize, 'trainSize', { ...places.labels, field: 'data.trainSize' });
  const v = subset(val.labels, spec.val!.size, 'valSize', { ...places.valLabels, field: 'data.val.size' });
  const [trainRow, valRow] = [rowOf(train.images), rowOf(val.images)];
  return {
    ...common,
    train: { x: t.map(trainRow), y: t.map((i) => train.labels[i]) },
    val: { x: v.map(valRow), y: v.map((i) => val.labels[i]) },
  };
}
