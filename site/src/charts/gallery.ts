import type { ImagesSummary, Mistake } from '../../../runner/records/summary.ts';
import { pngDataUrl } from './png.ts';

type Shape = Pick<ImagesSummary, 'width' | 'height' | 'channels'>;

/** An image (row-major h × w × c, grey or RGB, values 0–255) as an <img> of a PNG data URL, `size` CSS pixels wide. */
export function thumbnail(byte: (k: number) => number, shape: Shape, size = 56, alt = ''): string {
  const { width, height, channels } = shape;
  const src = pngDataUrl(width, height, (x, y) => {
    const at = (y * width + x) * channels;
    return channels >= 3 ? [byte(at), byte(at + 1), byte(at + 2)] : [byte(at), byte(at), byte(at)];
  });
  const h = Math.round((size * height) / width);
  return `<img class="pixels" src="${src}" width="${size}" height="${h}" alt="${alt.replace(/"/g, '&quot;')}" style="image-rendering: pixelated">`;
}

/** Pixels in [0, 1] (the summary's sample images) as a thumbnail. */
export const unitThumbnail = (pixels: readonly number[], shape: Shape, size = 56) =>
  thumbnail((k) => Math.round(Math.min(1, Math.max(0, pixels[k] ?? 0)) * 255), shape, size);

/**
 * A cell's gallery: its most confidently wrong validation images, each captioned with the true
 * class, the predicted one and the mean probability the cell's trials gave the prediction.
 */
export function gallery(mistakes: readonly Mistake[], images: ImagesSummary, classes: readonly string[]): string {
  const name = (c: number) => classes[c] ?? String(c);
  const items = mistakes.flatMap((m) => {
    const b64 = images.gallery?.[m.index];
    if (!b64) return [];
    const bytes = Buffer.from(b64, 'base64');
    const caption = `${name(m.label)} → ${name(m.predicted)} (${m.confidence.toFixed(2)})`;
    return [`<figure class="mistake">${thumbnail((k) => bytes[k] ?? 0, images, 84, `validation image ${m.index}: ${caption}`)}<figcaption>${escape(caption)}</figcaption></figure>`];
  });
  return items.length ? `<div class="gallery">${items.join('')}</div>` : '<p class="muted">This cell gets no validation image wrong.</p>';
}

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
