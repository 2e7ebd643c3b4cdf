import { deflateSync } from 'node:zlib';

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const out = Buffer.alloc(body.length + 8);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), body.length + 4);
  return out;
}

/**
 * An RGB image as a PNG data URL: a surface of thousands of grid values costs a few kilobytes
 * this way, where one SVG rect per value would cost a hundred. An image of at most 256 colours
 * (a quantised surface, a greyscale thumbnail) is written with a palette, one byte a pixel,
 * which deflates to about half the size of the same image in RGB.
 */
export function pngDataUrl(width: number, height: number, rgb: (x: number, y: number) => readonly [number, number, number]): string {
  const index = new Uint8Array(width * height);
  const palette = new Map<number, number>();
  const pixels = new Uint32Array(width * height);
  let indexed = true;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [r, g, b] = rgb(x, y);
      const colour = (r << 16) | (g << 8) | b;
      pixels[y * width + x] = colour;
      let k = palette.get(colour);
      if (k === undefined && palette.size < 256) palette.set(colour, (k = palette.size));
      if (k === undefined) indexed = false;
      else index[y * width + x] = k;
    }
  }
  const channels = indexed ? 1 : 3;
  const raw = Buffer.alloc((width * channels + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * channels + 1) + 1; // each row starts with filter type 0 (none)
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (indexed) raw[row + x] = index[i];
      else raw.set([pixels[i] >>> 16, (pixels[i] >>> 8) & 255, pixels[i] & 255], row + 3 * x);
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, indexed ? 3 : 2, 0, 0, 0], 8); // 8 bits a sample, palette or RGB, no interlace
  const plte = Buffer.alloc(3 * palette.size);
  for (const [colour, k] of palette) plte.set([colour >>> 16, (colour >>> 8) & 255, colour & 255], 3 * k);
  const png = Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header), ...(indexed ? [chunk('PLTE', plte)] : []), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array()),
  ]);
  return `data:image/png;base64,${png.toString('base64')}`;
}

/** Piecewise-linear colour ramp through hex stops at evenly spaced positions in [0, 1]. */
export function ramp(stops: string[]): (t: number) => [number, number, number] {
  const rgb = stops.map((h) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16)));
  return (t) => {
    const u = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0.5)) * (rgb.length - 1);
    const i = Math.min(rgb.length - 2, Math.floor(u));
    const f = u - i;
    return rgb[i].map((c, k) => Math.round(c + (rgb[i + 1][k] - c) * f)) as [number, number, number];
  };
}
