import { type FloatTensor, floatTensor } from '../core/tensor.js';
import type { Preprocessing } from '../models/card.js';
import type { RgbImage } from './decode.js';
import { resize } from './resize.js';
import { pyRound } from '../util/python.js';

/** torchvision's Resize(int) output size: the short side becomes `size`, the long side int(size * long / short). */
export function resizedSize(width: number, height: number, size: number): [number, number] {
  if (width <= height) return [size, Math.trunc((size * height) / width)];
  return [Math.trunc((size * width) / height), size];
}

/** The resize target of an evaluation transform: int(resolution / crop_pct), as timm and the LeViT code compute it. */
export const resizeSize = (p: Preprocessing) => Math.floor(p.resolution / p.crop_pct);

/**
 * torchvision's evaluation transform on a PIL image: Resize(int(R / crop_pct)) with the card's
 * interpolation, CenterCrop(R), ToTensor, Normalize(mean, std). Writes CHW floats into `out`
 * at `offset` (a batch slot), so batches are filled without copies.
 */
export function evalTransformInto(img: RgbImage, p: Preprocessing, out: Float32Array, offset: number): void {
  const [w, h] = resizedSize(img.width, img.height, resizeSize(p));
  const r = p.resolution;
  const top = pyRound((h - r) / 2);
  const left = pyRound((w - r) / 2);
  if (top < 0 || left < 0) throw new Error(`image of ${w}x${h} after resize is smaller than the ${r}px crop`);
  const cropped = resize(img, w, h, p.interpolation, { left, top, width: r, height: r });
  const plane = r * r;
  for (let c = 0; c < 3; c++) {
    const scale = 1 / (255 * p.std[c]);
    const shift = p.mean[c] / p.std[c];
    for (let y = 0; y < r; y++) {
      let src = y * r * 3 + c;
      let dst = offset + c * plane + y * r;
      for (let x = 0; x < r; x++, src += 3, dst++) out[dst] = cropped.data[src] * scale - shift;
    }
  }
}

export function evalTransform(img: RgbImage, p: Preprocessing): FloatTensor {
  const t = floatTensor([1, 3, p.resolution, p.resolution]);
  evalTransformInto(img, p, t.data, 0);
  return t;
}
