import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { imagenetClasses } from '../imagenet/classes.js';
import { ExitCode, LevitError } from '../core/errors.js';
import { zooDir } from '../util/paths.js';
import { checkFolder } from '../util/files.js';

export type DatasetLayout = 'imagefolder' | 'kaggle-csv' | 'labels-file';

export interface Sample {
  file: string;
  /** ImageNet class index (0..999). */
  label: number;
}

export interface Dataset {
  root: string;
  layout: DatasetLayout;
  samples: Sample[];
  /** Entries that could not be listed (dangling or looping symlinks, unreadable folders): reported by name, the run goes on. */
  skipped: { path: string; reason: string }[];
}

const ENTRY_FAILURES: Record<string, string> = {
  ENOENT: 'a dangling symbolic link',
  ELOOP: 'a symbolic link loop',
  EACCES: 'permission denied',
  ENOTDIR: 'not a folder',
};

/** Runs `list` on one dataset entry; a failure is recorded in `skipped` instead of ending the run. */
function orSkip<T>(path: string, skipped: Dataset['skipped'], list: () => T[]): T[] {
  try {
    return list();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    skipped.push({ path, reason: ENTRY_FAILURES[code] ?? (e as Error).message });
    return [];
  }
}

const IMAGE = /\.(jpe?g|png|bmp|webp|tiff?|gif)$/i;
const WNID = /^n\d{8}$/;

function wnidIndex(): Map<string, number> {
  return new Map(imagenetClasses().map((c) => [c.wnid, c.index]));
}

/**
 * The image files of one folder, sorted: the one place datasets list entries, so that a check of
 * each entry (a regular file, not a FIFO or a link loop) belongs here.
 */
function images(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => IMAGE.test(f))
    .sort()
    .map((f) => join(dir, f));
}

/**
 * val/<wnid>/*: classes numbered by sorted WordNet id, as torchvision's ImageFolder numbers
 * them, which for the full 1000 is exactly the models' output order (checked). A subset of the
 * classes keeps each class's ImageNet index.
 */
function imageFolder(root: string, dirs: string[], skipped: Dataset['skipped']): Dataset {
  const index = wnidIndex();
  const sorted = [...dirs].sort();
  const unknown = sorted.filter((d) => !index.has(d));
  if (unknown.length) throw new LevitError(`${root}: folders ${unknown.slice(0, 3).join(', ')} are not ImageNet-1k classes`, ExitCode.badInput);
  if (sorted.length === 1000 && !sorted.every((w, i) => index.get(w) === i)) {
    throw new LevitError(`${root}: sorted class folders do not follow the ImageNet-1k class order`, ExitCode.badInput);
  }
  const samples = sorted.flatMap((w) => orSkip(join(root, w), skipped, () => images(join(root, w))).map((file) => ({ file, label: index.get(w)! })));
  return { root, layout: 'imagefolder', samples, skipped };
}

const KAGGLE_HEADER = /^ImageId,PredictionString\s*$/;
/** Kaggle's download puts val at ILSVRC/Data/CLS-LOC/val and the CSV at the top, four levels up. */
const KAGGLE_CSV_LEVELS = 4;

function isKaggleCsv(file: string): boolean {
  return KAGGLE_HEADER.test(readFileSync(file, 'utf8').slice(0, 200).split(/\r?\n/)[0]);
}

/** LOC_val_solution.csv in the folder (from level 0) or above it, up to the top of Kaggle's download. */
function findKaggleCsv(root: string, fromLevel: number, toLevel: number): string | undefined {
  let dir = root;
  for (let level = 0; level <= toLevel; level++) {
    if (level < fromLevel) {
      dir = dirname(dir);
      continue;
    }
    const csv = join(dir, 'LOC_val_solution.csv');
    if (existsSync(csv) && statSync(csv).isFile()) return csv;
    if (dirname(dir) === dir) break;
    dir = dirname(dir);
  }
  return undefined;
}

/** Kaggle's flat layout: LOC_val_solution.csv, "ImageId,PredictionString" with the wnid first. */
function kaggle(root: string, csv: string): Dataset {
  const index = wnidIndex();
  const byId = new Map<string, number>();
  for (const line of readFileSync(csv, 'utf8').split(/\r?\n/).slice(1)) {
    const [id, prediction] = line.split(',');
    const wnid = prediction?.trim().split(/\s+/)[0];
    if (id && wnid && index.has(wnid)) byId.set(id.trim(), index.get(wnid)!);
  }
  const samples = images(root)
    .filter((f) => byId.has(basename(f, extname(f))))
    .map((file) => ({ file, label: byId.get(basename(file, extname(file)))! }));
  return { root, layout: 'kaggle-csv', samples, skipped: [] };
}

/** A flat folder with a labels file: "file<TAB or space>wnid" or "file<TAB or space>class index". */
export function labelsFile(root: string, labels: string): Dataset {
  const index = wnidIndex();
  const samples: Sample[] = [];
  for (const [n, line] of readFileSync(labels, 'utf8').split(/\r?\n/).entries()) {
    if (!line.trim() || line.startsWith('#')) continue;
    const [file, label] = line.trim().split(/\s+/);
    const cls = WNID.test(label ?? '') ? index.get(label) : /^\d+$/.test(label ?? '') && Number(label) < 1000 ? Number(label) : undefined;
    if (cls === undefined) throw new LevitError(`${labels}:${n + 1}: '${line.trim()}' is not "file wnid" or "file class-index"`, ExitCode.badInput);
    samples.push({ file: join(root, file), label: cls });
  }
  return { root, layout: 'labels-file', samples, skipped: [] };
}

/** The labelled layout of a folder, or null when it has none levit recognises. */
function detect(root: string, labels?: string): Dataset | null {
  if (labels) {
    if (!existsSync(labels)) throw new LevitError(`--labels ${labels}: no such file`, ExitCode.notFound);
    return isKaggleCsv(labels) ? kaggle(root, labels) : labelsFile(root, labels);
  }
  // A CSV beside the images first, then class folders, and only then a CSV further up (which
  // could belong to another dataset above an ImageFolder).
  const beside = findKaggleCsv(root, 0, 0);
  if (beside) return kaggle(root, beside);
  const skipped: Dataset['skipped'] = [];
  const dirs = readdirSync(root).filter((d) => WNID.test(d) && orSkip(join(root, d), skipped, () => [statSync(join(root, d)).isDirectory()])[0]);
  if (dirs.length) return imageFolder(root, dirs, skipped);
  const above = findKaggleCsv(root, 1, KAGGLE_CSV_LEVELS);
  return above ? kaggle(root, above) : null;
}

/**
 * Recognises the layout of a validation folder: ImageFolder, Kaggle's (the CSV beside the folder
 * or up to the top of its download), or a flat folder with a labels file (which may be Kaggle's
 * CSV itself). A layout that matches no image is an error, not an empty evaluation.
 */
export function openDataset(root: string, labels?: string): Dataset {
  checkFolder(root, 'levit eval evaluates a folder of validation images (val/<wnid>/*.JPEG, ...); levit predict <model> <images...> classifies single images.');
  const dataset = detect(root, labels);
  if (!dataset) {
    throw new LevitError(
      `${root}: not a dataset levit recognises`,
      ExitCode.badInput,
      "Use the ImageFolder layout (val/<wnid>/*.JPEG), Kaggle's layout (ILSVRC/Data/CLS-LOC/val with LOC_val_solution.csv at the top of the download), " +
        'or pass --labels FILE ("file wnid" or "file index" per line, or LOC_val_solution.csv).',
    );
  }
  if (dataset.samples.length === 0) {
    const hint = 'Check that the labels name the image files of this folder.';
    throw new LevitError(`${root}: ${dataset.layout} layout, but no image in it has a label`, ExitCode.badInput, hint);
  }
  return dataset;
}

/** The images of a folder for bench-decode: those of any dataset eval accepts, else the folder's own images. */
export function folderImages(root: string): string[] {
  checkFolder(root, `levit bench-decode measures the images of a folder: give it the folder, e.g. ${dirname(root)}.`);
  const labelled = detect(root)?.samples ?? [];
  return labelled.length ? labelled.map((s) => s.file) : images(root);
}

let real: number[][] | undefined;

/** ImageNet-ReaL labels for a validation file, by its number (ILSVRC2012_val_00000001 is the first); null: not a validation file. */
export function realLabels(file: string): number[] | null {
  const m = /ILSVRC2012_val_(\d{8})/.exec(basename(file));
  if (!m) return null;
  real ??= JSON.parse(readFileSync(join(zooDir, 'imagenet', 'real_labels.json'), 'utf8')) as number[][];
  return real[Number(m[1]) - 1] ?? null;
}
