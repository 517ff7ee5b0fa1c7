import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import sharp from 'sharp';
import { describeFileType } from '../util/files.js';

/** 8-bit RGB pixels, row-major, interleaved: what PIL's Image.convert('RGB') holds. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
  /** Set when the image is large enough that Pillow warns (DecompressionBombWarning). */
  warning?: string;
}

/** Pillow's Image.MAX_IMAGE_PIXELS: above it Pillow warns, above twice it refuses, from the header alone. */
export const MAX_IMAGE_PIXELS = 89_478_485;

/** The raster formats levit decodes, told by their first bytes; anything else (SVG, PDF, ...) is refused, as Pillow does. */
const RASTER_MAGIC: [string, (b: Buffer) => boolean][] = [
  ['JPEG', (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff],
  ['PNG', (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))],
  ['GIF', (b) => b.toString('latin1', 0, 4) === 'GIF8'],
  ['WebP', (b) => b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP'],
  ['TIFF', (b) => ['II*\0', 'MM\0*'].includes(b.toString('latin1', 0, 4))],
];

/** The first bytes of a file, opened without blocking (a FIFO cannot hang us), refusing anything but a regular file. */
function head(file: string): Buffer {
  const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new Error(`it is ${describeFileType(st)}, not a regular file`);
    const b = Buffer.alloc(16);
    return b.subarray(0, readSync(fd, b, 0, 16, 0));
  } finally {
    closeSync(fd);
  }
}

function checkRaster(first: Buffer): void {
  if (!RASTER_MAGIC.some(([, is]) => is(first))) throw new Error('not a raster image (JPEG, PNG, GIF, WebP or TIFF): refused, as Pillow refuses it');
}

/** Refuses an image over twice MAX_IMAGE_PIXELS from its header, before any pixel is decoded; returns Pillow's warning above MAX_IMAGE_PIXELS. */
export function checkPixels(width: number | undefined, height: number | undefined): string | undefined {
  const pixels = (width ?? 0) * (height ?? 0);
  const size = `${width}x${height} = ${pixels} pixels`;
  if (pixels > 2 * MAX_IMAGE_PIXELS) {
    throw new Error(`${size} exceeds the limit of ${2 * MAX_IMAGE_PIXELS} (a possible decompression bomb, refused as Pillow refuses it)`);
  }
  return pixels > MAX_IMAGE_PIXELS ? `${size} is over ${MAX_IMAGE_PIXELS}: a possible decompression bomb (Pillow warns too)` : undefined;
}

export class ImageDecodeError extends Error {
  constructor(
    readonly file: string,
    detail: string,
    /** The file does not exist (not found, rather than unreadable). */
    readonly missing = false,
  ) {
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
  const options = { ignoreIcc: true, failOn: 'truncated' as const, limitInputPixels: 2 * MAX_IMAGE_PIXELS };
  try {
    const first = typeof input === 'string' ? head(input) : input.subarray(0, 16);
    checkRaster(first); // before sharp (and librsvg, for an SVG) parses anything
    // The header only: our own check gives Pillow's limits and message; sharp's limit stays as a backstop on decoding.
    const meta = await sharp(input, { ...options, limitInputPixels: false }).metadata();
    const warning = checkPixels(meta.width, meta.height);
    if (warning) process.emitWarning(`${name}: ${warning}`, 'DecompressionBombWarning'); // as Pillow's warnings.warn
    if (meta.space === 'cmyk') {
      const { data, info } = await sharp(input, options).pipelineColourspace('cmyk').toColourspace('cmyk').raw().toBuffer({ resolveWithObject: true });
      return { width: info.width, height: info.height, data: cmykToRgb(data, info.width * info.height), warning };
    }
    const { data, info } = await sharp(input, options).raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    return { width: info.width, height: info.height, data: toRgb(data, info.width * info.height, info.channels), warning };
  } catch (e) {
    throw await decodeError(e as NodeJS.ErrnoException, input, name, options);
  }
}

/** libvips's message in one line: it may put its reason on the next line ("has corrupt header:\nVipsJpeg: premature end ..."). */
const oneLine = (message: string) =>
  message
    .replace(/^Input (file|buffer) /, '')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .join(' ')
    .slice(0, 300);

/**
 * The error for a file that did not decode. libvips keeps its reasons in one buffer for the whole
 * process, so with several decoding threads another thread can clear it first and the message ends
 * at "has corrupt header:". Decoding the file once more, alone, usually gets the reason back.
 */
async function decodeError(err: NodeJS.ErrnoException, input: string | Buffer, name: string, options: sharp.SharpOptions): Promise<ImageDecodeError> {
  if (err.code === 'ENOENT') return new ImageDecodeError(name, 'no such file', true);
  if (err.code === 'ELOOP') return new ImageDecodeError(name, 'a symbolic link loop');
  let detail = oneLine(err.message);
  if (detail.endsWith(':')) {
    try {
      await sharp(input, options).raw().toBuffer();
    } catch (again) {
      detail = oneLine((again as Error).message);
    }
    if (detail.endsWith(':')) detail += ' corrupt or truncated image data (the decoder gave no detail)';
  }
  return new ImageDecodeError(name, detail);
}
