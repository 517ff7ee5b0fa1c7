import { CorruptFileError } from '../util/errors.js';
import { type GlobalCall, PickleError, PyDict, PyGlobal, PyTuple, type PyValue, unpickle } from './pickle.js';
import { type Storage, storageKinds, tensorFromStorage } from './storage.js';
import type { Tensor, WeightsMap } from './tensor.js';
import { ZipArchive } from './zip.js';

/** A tensor as it comes out of the pickle: opaque to the pickle machine. */
export class TorchTensor {
  readonly pyOpaque = true;
  constructor(readonly tensor: Tensor) {}
}
class StorageRef {
  readonly pyOpaque = true;
  constructor(readonly storage: Storage) {}
}

export interface TorchCheckpoint {
  weights: WeightsMap;
  /** Globals we left inert, e.g. argparse.Namespace from a training checkpoint's args. */
  unknownGlobals: string[];
  /** Where the state_dict was found: '' for a bare one, else its key ('model', 'state_dict'). */
  stateDictKey: string;
}

const intTuple = (v: PyValue, what: string): number[] => {
  if (!(v instanceof PyTuple) || !v.items.every((x) => typeof x === 'number')) {
    throw new Error(`${what} is not a tuple of integers`);
  }
  return v.items as number[];
};

function rebuildTensor(args: readonly PyValue[]): TorchTensor {
  const [storage, offset, size, stride] = args;
  if (!(storage instanceof StorageRef)) throw new Error('tensor without a storage');
  if (typeof offset !== 'number') throw new Error('tensor storage offset is not an integer');
  return new TorchTensor(tensorFromStorage(storage.storage, offset, intTuple(size, 'size'), intTuple(stride, 'stride')));
}

function unwrapParameter(args: readonly PyValue[]): PyValue {
  if (!(args[0] instanceof TorchTensor)) throw new Error('parameter without a tensor');
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

/** The storage class named by a persistent id, e.g. torch.FloatStorage. */
export function storageKindOf(type: PyValue) {
  const kind = type instanceof PyGlobal && type.module === 'torch' ? storageKinds.get(type.name) : undefined;
  if (!kind) {
    const name = type instanceof PyGlobal ? type.qualifiedName : String(type);
    throw new Error(`unsupported storage type ${name}`);
  }
  return kind;
}

/** Checks a storage's bytes against its declared element count, before any tensor reads it. */
export function makeStorage(type: PyValue, numelDeclared: PyValue, bytes: Buffer, key: string): StorageRef {
  const kind = storageKindOf(type);
  const available = Math.floor(bytes.length / kind.itemSize);
  const numel = typeof numelDeclared === 'number' ? numelDeclared : available;
  if (!Number.isSafeInteger(numel) || numel < 0 || numel > available) {
    throw new Error(`storage ${key} declares ${String(numelDeclared)} elements but holds ${available}`);
  }
  return new StorageRef({ kind, bytes, numel });
}

/** Finds the state_dict inside a checkpoint: bare, or under 'model' / 'state_dict'. */
export function extractStateDict(root: PyValue, file: string): { weights: WeightsMap; key: string } {
  if (!(root instanceof PyDict)) throw new CorruptFileError(file, 'holds no dict of tensors');
  for (const key of ['model', 'state_dict', 'model_state_dict']) {
    const inner = root.entries.get(key);
    if (inner instanceof PyDict) return { weights: tensorsOf(inner), key };
  }
  const weights = tensorsOf(root);
  if (weights.size === 0) {
    const keys = [...root.entries.keys()].filter((k) => typeof k === 'string').slice(0, 8);
    throw new CorruptFileError(
      file,
      `holds no tensors: no 'model' or 'state_dict' entry and no tensors at the top (keys: ${keys.join(', ')})`,
    );
  }
  return { weights, key: '' };
}

function tensorsOf(dict: PyDict): WeightsMap {
  const weights: WeightsMap = new Map();
  for (const [k, v] of dict.entries) {
    if (typeof k === 'string' && v instanceof TorchTensor) weights.set(k, v.tensor);
  }
  return weights;
}

/** Reads a checkpoint written by torch.save with the zip serialization (PyTorch 1.6 and later). */
export function readTorchZip(buf: Buffer, file: string): TorchCheckpoint {
  const zip = new ZipArchive(buf, file);
  const pkl = [...zip.entries.keys()].find((n) => n === 'data.pkl' || n.endsWith('/data.pkl'));
  if (!pkl) throw new CorruptFileError(file, 'is a zip archive but not a PyTorch checkpoint (no data.pkl)');
  const prefix = pkl.slice(0, pkl.length - 'data.pkl'.length);
  try {
    const { value, unknownGlobals } = unpickle(zip.read(pkl), 0, {
      globals: torchGlobals,
      persistentLoad(pid) {
        if (!(pid instanceof PyTuple) || pid.items[0] !== 'storage' || pid.items.length < 5) {
          throw new Error('persistent id is not a storage reference');
        }
        const [, type, key, , numel] = pid.items;
        if (typeof key !== 'string' || !/^[\w.]+$/.test(key)) throw new Error('storage key is not a plain name');
        return makeStorage(type, numel, zip.read(`${prefix}data/${key}`), key);
      },
    });
    const { weights, key } = extractStateDict(value, file);
    return { weights, unknownGlobals, stateDictKey: key };
  } catch (e) {
    if (e instanceof PickleError) throw new CorruptFileError(file, `unreadable checkpoint: ${e.message}`);
    throw e;
  }
}
