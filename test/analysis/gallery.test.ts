import { describe, expect, it } from 'vitest';
import { confidentMistakes, galleryPixels } from '../../runner/analysis/gallery.ts';
import { gallery, thumbnail } from '../../site/src/charts/gallery.ts';

const result = (valProba: number[][], valLabels: number[]) => ({ valProba, valLabels });

describe('confidentMistakes', () => {
  it('averages the seeds\' probabilities and keeps the wrong images, most confident first, at most the limit', () => {
    const labels = [0, 1, 2, 0];
    const a = result([[0.1, 0.9, 0], [0, 1, 0], [0.7, 0.2, 0.1], [0.4, 0.35, 0.25]], labels);
    const b = result([[0.3, 0.7, 0], [0, 1, 0], [0.5, 0.2, 0.3], [0.2, 0.5, 0.3]], labels);
    // image 0: predicted 1 at 0.8; image 2: predicted 0 at 0.6; image 3: mean [0.3, 0.425, 0.275] → 1 at 0.425
    expect(confidentMistakes([a, b])).toEqual([
      { index: 0, label: 0, predicted: 1, confidence: 0.8 },
      { index: 2, label: 2, predicted: 0, confidence: 0.6 },
      { index: 3, label: 0, predicted: 1, confidence: 0.425 },
    ]);
    expect(confidentMistakes([a, b], 1)).toHaveLength(1);
    expect(confidentMistakes([])).toEqual([]);
  });
});

describe('gallery', () => {
  it('carries each shown image once, as bytes, and draws grey 28×28 and RGB images with their captions', () => {
    const grey = Array.from({ length: 784 }, (_, k) => (k % 28) / 27);
    const rgb = Array.from({ length: 4 * 4 * 3 }, (_, k) => (k % 3 === 0 ? 1 : 0));
    const pixels = galleryPixels([{ mistakes: [{ index: 1, label: 0, predicted: 1, confidence: 0.9 }] }, { mistakes: [{ index: 1, label: 0, predicted: 1, confidence: 0.8 }] }],
      { val: { x: [[], grey], y: [0, 0] } });
    expect(Object.keys(pixels)).toEqual(['1']);
    expect(Array.from(Buffer.from(pixels['1'], 'base64')).slice(0, 3)).toEqual([0, 9, 19]);
    const html = gallery([{ index: 1, label: 0, predicted: 1, confidence: 0.9 }], { width: 28, height: 28, channels: 1, gallery: pixels }, ['T-shirt/top', 'Trouser']);
    expect(html).toMatch(/<img class="pixels" src="data:image\/png;base64,[^"]+" width="84" height="84"/);
    expect(html).toContain('<figcaption>T-shirt/top → Trouser (0.90)</figcaption>');
    // an RGB image is not read as grey: the red channel makes a different picture than the same bytes as grey
    const asRgb = thumbnail((k) => rgb[k] * 255, { width: 4, height: 4, channels: 3 });
    const asGrey = thumbnail((k) => rgb[k] * 255, { width: 4, height: 4, channels: 1 });
    expect(asRgb).not.toBe(asGrey);
  });
});
