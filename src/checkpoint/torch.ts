import { CorruptFileError } from '../core/errors.js';
import { type GlobalCall, PyDict, PyGlobal, PyList, PyTuple, type PyValue, unpickle } from './pickle.js';
import { type StorageKind, storageKinds, tensorFromStorage } from './storage.js';
import type { WeightsMap } from '../core/tensor.js';
import { ZipArchive } from './zip.js';

/** A storage named in the pickle; its bytes are attached when the file format locates them. */
class StorageRef {
  readonly pyOpaque = true;
  bytes?: Buffer;
  constructor(
    readonly kind: StorageKind,
    readonly key: string,
    readonly declaredNumel: number,
  ) {}

  get byteLength(): number {
    return this.declaredNumel * this.kind.itemSize;
  }

  /** Checks the bytes against the declared element count before any tensor reads them. */
  attach(bytes: Buffer): void {
    const available = Math.floor(bytes.length / this.kind.itemSize);
    if (this.declaredNumel > available) {
      throw new Error(`storage ${this.key} declares ${this.declaredNumel} elements but holds ${available}`);
    }
    this.bytes = bytes;
  }
}

/** A tensor as the pickle describes it: materialised once every storage has its bytes. */
class TensorRef {
  readonly pyOpaque = true;
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {}

  materialize() {
    if (!this.storage.bytes) throw new Error(`storage ${this.storage.key} has no data`);
    const { kind, bytes, declaredNumel } = this.storage;
    return tensorFromStorage({ kind, bytes, numel: declaredNumel }, this.offset, this.shape, this.stride);
  }
}

export interface TorchCheckpoint {
  weights: WeightsMap;
  /** Globals we left inert, e.g. argparse.Namespace from a training checkpoint's args. */
  unknownGlobals: string[];
}

const intTuple = (v: PyValue, what: string): number[] => {
  if (!(v instanceof PyTuple) || !v.items.every((x) => typeof x === 'number')) {
    throw new Error(`${what} is not a tuple of integers`);
  }
  return v.items as number[];
};

function rebuildTensor(args: readonly PyValue[]): TensorRef {
  const [storage, offset, size, stride] = args;
  if (!(storage instanceof StorageRef)) throw new Error('tensor without a storage');
  if (typeof offset !== 'number') throw new Error('tensor storage offset is not an integer');
  return new TensorRef(storage, offset, intTuple(size, 'size'), intTuple(stride, 'stride'));
}

function unwrapParameter(args: readonly PyValue[]): PyValue {
  if (!(args[0] instanceof TensorRef)) throw new Error('parameter without a tensor');
  return args[0];
}

/** The only globals a state_dict needs. Everything else stays an inert placeholder. */
export const torchGlobals: ReadonlyMap<string, GlobalCall> = new Map<string, GlobalCall>([
  ['collections.OrderedDict', () => new PyDict()],
  ['torch._utils._rebuild_tensor_v2', rebuildTensor],
  ['torch._utils._rebuild_tensor', rebuildTensor],
  ['torch._utils._rebuild_parameter', unwrapParameter],
  ['torch._utils._rebuild_parameter_with_state', unwrapParameter],
]);

/**
 * Reads a persistent id ('storage', type, key, location, numel[, view]) into a StorageRef,
 * one per key, so that tensors sharing a storage share it here too.
 */
function storageLoader(storages: Map<string, StorageRef>) {
  return (pid: PyValue): PyValue => {
    if (!(pid instanceof PyTuple) || pid.items[0] !== 'storage' || pid.items.length < 5) {
      throw new Error('persistent id is not a storage reference');
    }
    const [, type, key, , numel, view] = pid.items;
    if (typeof key !== 'string' || !/^[\w.]+$/.test(key)) throw new Error('storage key is not a plain name');
    if (view !== undefined && view !== null) throw new Error('storage views (PyTorch < 0.4) are not supported');
    const kind = type instanceof PyGlobal && type.module === 'torch' ? storageKinds.get(type.name) : undefined;
    if (!kind) throw new Error(`unsupported storage type ${type instanceof PyGlobal ? type.qualifiedName : String(type)}`);
    if (typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0) throw new Error(`storage ${key} has no valid size`);
    const existing = storages.get(key);
    if (existing) return existing;
    const ref = new StorageRef(kind, key, numel);
    storages.set(key, ref);
    return ref;
  };
}

/** Finds the state_dict inside a checkpoint: bare, or under 'model' / 'state_dict'. */
function extractStateDict(root: PyValue, file: string): Map<string, TensorRef> {
  if (!(root instanceof PyDict)) throw new CorruptFileError(file, 'holds no dict of tensors');
  for (const key of ['model', 'state_dict', 'model_state_dict']) {
    const inner = root.entries.get(key);
    if (inner instanceof PyDict) return tensorsOf(inner);
  }
  const tensors = tensorsOf(root);
  if (tensors.size === 0) {
    const keys = [...root.entries.keys()].filter((k) => typeof k === 'string').slice(0, 8);
    throw new CorruptFileError(file, `holds no tensors: no 'model' or 'state_dict' entry and no tensors at the top (keys: ${keys.join(', ')})`);
  }
  return tensors;
}

function tensorsOf(dict: PyDict): Map<string, TensorRef> {
  const out = new Map<string, TensorRef>();
  for (const [k, v] of dict.entries) if (typeof k === 'string' && v instanceof TensorRef) out.set(k, v);
  return out;
}

/** Runs `read` and reports any failure inside the file as a CorruptFileError naming it. */
function asCorrupt<T>(file: string, read: () => T): T {
  try {
    return read();
  } catch (e) {
    if (e instanceof CorruptFileError) throw e;
    const message = (e as Error).message;
    throw new CorruptFileError(file, `unreadable checkpoint: ${message}`, /truncated/.test(message) ? 'Download the checkpoint again.' : undefined);
  }
}

/** A state_dict's pickle is kilobytes; this is far beyond any real one, and bounds what a crafted one can inflate. */
const MAX_PICKLE_BYTES = 64 * 1024 * 1024;

/**
 * Checks every tensor's size before any is allocated: one tensor may not hold more elements
 * than its storage (a stride-0 view of one value could otherwise ask for billions), and all
 * of them together not more than twice the stored elements (tied weights share a storage).
 */
function checkSizes(tensors: Map<string, TensorRef>): void {
  const stored = new Set<StorageRef>();
  let wanted = 0;
  for (const [name, ref] of tensors) {
    const n = ref.shape.reduce((a, b) => a * b, 1);
    if (!Number.isSafeInteger(n) || n > ref.storage.declaredNumel) {
      throw new Error(`tensor ${name}: shape [${ref.shape.join(', ')}] has more elements than its storage's ${ref.storage.declaredNumel}`);
    }
    wanted += n;
    stored.add(ref.storage);
  }
  const available = [...stored].reduce((a, s) => a + s.declaredNumel, 0);
  if (wanted > 2 * available) throw new Error(`tensors declare ${wanted} elements over ${available} stored ones (crafted or corrupt)`);
}

function materializeAll(tensors: Map<string, TensorRef>): WeightsMap {
  checkSizes(tensors);
  const weights: WeightsMap = new Map();
  for (const [name, ref] of tensors) {
    try {
      weights.set(name, ref.materialize());
    } catch (e) {
      throw new Error(`tensor ${name}: ${(e as Error).message}`, { cause: e });
    }
  }
  return weights;
}

/** Reads a checkpoint written by torch.save with the zip serialization (PyTorch 1.6 and later). */
export function readTorchZip(buf: Buffer, file: string): TorchCheckpoint {
  const zip = new ZipArchive(buf, file);
  const pkl = [...zip.entries.keys()].find((n) => n === 'data.pkl' || n.endsWith('/data.pkl'));
  if (!pkl) throw new CorruptFileError(file, 'is a zip archive but not a PyTorch checkpoint (no data.pkl)');
  const prefix = pkl.slice(0, pkl.length - 'data.pkl'.length);
  return asCorrupt(file, () => {
    const storages = new Map<string, StorageRef>();
    const { value, unknownGlobals } = unpickle(zip.read(pkl, MAX_PICKLE_BYTES), 0, { globals: torchGlobals, persistentLoad: storageLoader(storages) });
    const tensors = extractStateDict(value, file);
    for (const s of storages.values()) s.attach(zip.read(`${prefix}data/${s.key}`, s.byteLength));
    return { weights: materializeAll(tensors), unknownGlobals };
  });
}

/** torch.save's legacy magic number, 0x1950a86a20f9469cfc6c, as the pickle stores it. */
const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;

/** True when the file starts like torch.save's pre-1.6 format (a pickled magic number). */
export function isTorchLegacy(buf: Buffer): boolean {
  if (buf.length < 16 || buf[0] !== 0x80 || buf[2] !== 0x8a) return false;
  try {
    return unpickle(buf.subarray(0, Math.min(buf.length, 64))).value === LEGACY_MAGIC;
  } catch {
    return false;
  }
}

/**
 * Reads the legacy (pre-1.6) serialization: pickles of the magic number, protocol version
 * and system info, the main pickle, the list of storage keys, then each storage as an int64
 * element count followed by its raw little-endian bytes.
 */
export function readTorchLegacy(buf: Buffer, file: string): TorchCheckpoint {
  return asCorrupt(file, () => {
    let at = unpickle(buf, 0).end;
    const protocol = unpickle(buf, at);
    if (protocol.value !== LEGACY_PROTOCOL) throw new Error(`unknown legacy protocol ${String(protocol.value)}`);
    const sysInfo = unpickle(buf, protocol.end);
    if (sysInfo.value instanceof PyDict && sysInfo.value.entries.get('little_endian') === false) {
      throw new Error('written on a big-endian machine, which levit does not read');
    }
    const storages = new Map<string, StorageRef>();
    const main = unpickle(buf, sysInfo.end, { globals: torchGlobals, persistentLoad: storageLoader(storages) });
    const keys = unpickle(buf, main.end);
    at = keys.end;
    const keyList = keys.value;
    if (!(keyList instanceof PyList || keyList instanceof PyTuple)) throw new Error('storage key list is missing');
    for (const key of keyList.items) {
      const storage = typeof key === 'string' ? storages.get(key) : undefined;
      if (!storage) throw new Error(`storage key ${String(key)} was never referenced`);
      if (at + 8 > buf.length) throw new Error(`storage ${key} is missing (truncated)`);
      const numel = buf.readBigInt64LE(at);
      const bytes = Number(numel) * storage.kind.itemSize;
      if (numel < 0n || at + 8 + bytes > buf.length) throw new Error(`storage ${key} runs past the end of the file (truncated)`);
      storage.attach(buf.subarray(at + 8, at + 8 + bytes));
      at += 8 + bytes;
    }
    return { weights: materializeAll(extractStateDict(main.value, file)), unknownGlobals: main.unknownGlobals };
  });
}
