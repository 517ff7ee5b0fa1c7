import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { type FloatTensor, floatTensor } from '../core/tensor.js';
import type { Preprocessing } from '../models/card.js';
import { decodeRgb } from '../preprocess/decode.js';
import { evalTransformInto } from '../preprocess/transform.js';
import { ExitCode, LevitError } from '../core/errors.js';
import { checkFolder } from '../util/files.js';

const IMAGE = /\.(jpe?g|png|bmp|webp|tiff?|gif)$/i;
const BATCH = 8;

/** Which images calibrate, and their identity (part of the artifact's cache key). */
export interface CalibrationFiles {
  dir: string;
  files: string[];
  /** sha256 over the chosen files' relative names and bytes, in order. */
  hash: string;
}

export interface CalibrationSet extends CalibrationFiles {
  /** Preprocessed exactly as levit eval does, in batches of up to 8. */
  batches: FloatTensor[];
  /** Files that could not be decoded: left out, and said. */
  skipped: { file: string; reason: string }[];
}

function listImages(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listImages(path));
    else if (IMAGE.test(entry.name)) out.push(path);
  }
  return out;
}

function requireImages(dir: string, flag: string): string[] {
  const takes = `Give ${flag} a folder of representative images (JPEG, PNG, ...), e.g. 100-500 from the training set.`;
  checkFolder(dir, takes, takes);
  const all = listImages(dir);
  if (all.length === 0)
    throw new LevitError(`${dir}: no images in this folder`, ExitCode.badInput, `${flag} needs image files (.jpg, .png, ...), searched recursively.`);
  return all;
}

/** `size` images spread evenly over the sorted list (all of them when there are no more). Deterministic. */
function spread(all: string[], size: number): string[] {
  return all.length <= size ? all : Array.from({ length: size }, (_, i) => all[Math.floor((i * all.length) / size)]);
}

function identify(dir: string, files: string[]): CalibrationFiles {
  const hash = createHash('sha256');
  for (const f of files) hash.update(relative(dir, f)).update('\0').update(readFileSync(f));
  return { dir, files, hash: hash.digest('hex') };
}

/**
 * The first `size` images in name order, or, when there are more, `size` images spread evenly
 * over the sorted list (so that an ImageFolder tree contributes many classes). Deterministic.
 */
export function chooseCalibrationFiles(dir: string, size: number, flag = '--calibration'): CalibrationFiles {
  return identify(dir, spread(requireImages(dir, flag), size));
}

/**
 * The images of static int8, in three roles that never share a file: calibration images set the
 * activation ranges, selection images decide when the sensitivity fallback stops, and validation
 * images, which neither step saw, judge the result (the SQNR and agreement convert reports).
 */
export interface ImageSplit {
  calibration: CalibrationFiles;
  /** Held out from calibration for the fallback's stopping rule; null when too few images (it then uses the calibration images). */
  selection: CalibrationFiles | null;
  /** Seen by no step of the conversion; null when too few images (the report then says what judged it). */
  validation: CalibrationFiles | null;
  /** How the images were split, in words. */
  how: string;
}

/** Without --validation, the chosen images take turns in this order: half calibration, a quarter each selection and validation. */
export const SPLIT_TURNS = ['calibration', 'selection', 'validation', 'calibration'] as const;
/** With --validation, 1 in this many --calibration images is held out for the fallback's stopping rule. */
export const SELECTION_EVERY = 3;

const selectionHow = (n: number) =>
  n ? `1 in ${SELECTION_EVERY} of the --calibration images (${n}) decide the fallback` : 'the fallback decides on the calibration images';

const sha256Of = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');

/**
 * Splits the chosen images by turns (SPLIT_TURNS, in name order: deterministic), or, with
 * `validationDir`, takes the validation images from there (refusing any file byte-identical to one of
 * the others) and holds 1 in SELECTION_EVERY of the rest out for the fallback. Near-duplicates (one photo
 * in two encodings) are not detected: keep them on one side.
 */
export function chooseImageSplit(dir: string, size: number, validationDir?: string): ImageSplit {
  const chosen = spread(requireImages(dir, '--calibration'), size);
  if (validationDir) {
    const validation = chooseCalibrationFiles(validationDir, size, '--validation');
    const seen = new Set(chosen.map(sha256Of));
    const both = validation.files.filter((f) => seen.has(sha256Of(f)));
    if (both.length) {
      throw new LevitError(
        `--validation: ${both.length} of its images are also calibration images (${relative(validationDir, both[0])}${both.length > 1 ? ', ...' : ''})`,
        ExitCode.usage,
        'The validation images judge int8 on images it was not calibrated on: give a folder of other images.',
      );
    }
    const selection = chosen.filter((_, i) => i % SELECTION_EVERY === SELECTION_EVERY - 1);
    const calibration = chosen.filter((f) => !selection.includes(f));
    return {
      calibration: identify(dir, calibration),
      selection: selection.length ? identify(dir, selection) : null,
      validation,
      how: `the ${validation.files.length} images of --validation ${validationDir}; ${selectionHow(selection.length)}`,
    };
  }
  const role = (i: number) => (chosen.length < 3 ? (i === 0 ? 'calibration' : 'validation') : SPLIT_TURNS[i % SPLIT_TURNS.length]);
  const part = (r: (typeof SPLIT_TURNS)[number]) => chosen.filter((_, i) => role(i) === r);
  const [selection, validation] = [part('selection'), part('validation')];
  const counts = `${part('calibration').length} calibration, ${selection.length} selection, ${validation.length} validation`;
  return {
    calibration: identify(dir, part('calibration')),
    selection: selection.length ? identify(dir, selection) : null,
    validation: validation.length ? identify(dir, validation) : null,
    how: validation.length
      ? `the ${chosen.length} images chosen from --calibration, by turns: ${counts}`
      : 'none: a single image cannot be split, so it judges itself',
  };
}

export async function loadCalibrationSet(
  chosen: CalibrationFiles,
  p: Preprocessing,
  role: 'calibration' | 'selection' | 'validation' = 'calibration',
): Promise<CalibrationSet> {
  const plane = 3 * p.resolution * p.resolution;
  const images: FloatTensor[] = [];
  const skipped: CalibrationSet['skipped'] = [];
  for (const file of chosen.files) {
    try {
      const t = floatTensor([1, 3, p.resolution, p.resolution]);
      evalTransformInto(await decodeRgb(file), p, t.data, 0);
      images.push(t);
    } catch (e) {
      skipped.push({ file, reason: (e as Error).message });
    }
  }
  if (images.length === 0) throw new LevitError(`${chosen.dir}: none of the ${role} images could be decoded`, ExitCode.badInput, skipped[0]?.reason);
  const batches: FloatTensor[] = [];
  for (let i = 0; i < images.length; i += BATCH) {
    const part = images.slice(i, i + BATCH);
    const batch = floatTensor([part.length, 3, p.resolution, p.resolution]);
    part.forEach((t, j) => batch.data.set(t.data, j * plane));
    batches.push(batch);
  }
  return { ...chosen, batches, skipped };
}
