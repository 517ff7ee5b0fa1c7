import sharp from 'sharp';

/** 8-bit RGB pixels, row-major, interleaved: what PIL's Image.convert('RGB') holds. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

export class ImageDecodeError extends Error {
  constructor(readonly file: string, detail: string) {
    super(`${file}: cannot decode image: ${detail}`);
    this.name = 'ImageDecodeError';
  }
}

/** PIL's cmyk2rgb: r = (255 - k) - round(c * (255 - k) / 255), on the raw (un-inverted) inks. */
function cmykToRgb(cmyk: Uint8Array, pixels: number): Uint8Array {
  const out = new Uint8Array(pixels * 3);
  for (let p = 0; p < pixels; p++) {
    const nk = 255 - cmyk[p * 4 + 3];
    for (let c = 0; c < 3; c++) {
      const t = cmyk[p * 4 + c] * nk + 128;
      out[p * 3 + c] = Math.max(0, nk - (((t >> 8) + t) >> 8));
    }
  }
  return out;
}

/** Grey, grey + alpha, RGB + alpha -> RGB as PIL converts them: replicate grey, drop alpha. */
function toRgb(data: Uint8Array, pixels: number, channels: number): Uint8Array {
  if (channels === 3) return data;
  const out = new Uint8Array(pixels * 3);
  for (let p = 0; p < pixels; p++) {
    if (channels <= 2) out.fill(data[p * channels], p * 3, p * 3 + 3);
    else for (let c = 0; c < 3; c++) out[p * 3 + c] = data[p * channels + c];
  }
  return out;
}

/**
 * Decodes like PIL's Image.open(f).convert('RGB'): by content, not file name (a PNG named .JPEG
 * is a PNG); no EXIF rotation; no colour management (embedded ICC profiles are ignored); CMYK
 * by PIL's own formula. libjpeg-turbo underneath both, so JPEG pixels are bit-identical.
 * Truncated or corrupt files are refused, as PIL refuses them.
 */
export async function decodeRgb(input: string | Buffer, name = typeof input === 'string' ? input : 'image'): Promise<RgbImage> {
  const options = { ignoreIcc: true, failOn: 'truncated' as const, limitInputPixels: 1 << 28 };
  try {
    const meta = await sharp(input, options).metadata();
    if (meta.space === 'cmyk') {
      const { data, info } = await sharp(input, options).pipelineColourspace('cmyk').toColourspace('cmyk').raw().toBuffer({ resolveWithObject: true });
      return { width: info.width, height: info.height, data: cmykToRgb(data, info.width * info.height) };
    }
    const { data, info } = await sharp(input, options).raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    return { width: info.width, height: info.height, data: toRgb(data, info.width * info.height, info.channels) };
  } catch (e) {
    throw new ImageDecodeError(name, (e as Error).message.replace(/^Input (file|buffer) /, '').split('\n')[0]);
  }
}
