/**
 * A pickle reader that executes nothing. It runs the pickle machine over the opcodes, but a
 * global is only a name: the few that a state_dict needs are given meaning by the caller's
 * `globals`, and any other becomes an inert PyObject placeholder that is reported.
 *
 * Hostile input is expected: sizes are checked against the bytes actually present before
 * anything is allocated, nesting is bounded, the machine never recurses, and Python dicts
 * become Maps, so no key from a file is ever set as a property of a JavaScript object.
 */

export class PyTuple {
  constructor(readonly items: readonly PyValue[]) {}
}
export class PyList {
  items: PyValue[] = [];
}
export class PyDict {
  readonly entries = new Map<PyValue, PyValue>();
  /** Attributes set by BUILD, e.g. OrderedDict's `_metadata`. */
  state: PyValue = null;
}
/** A reference to a Python global (module.name), never resolved to code. */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get qualifiedName(): string {
    return `${this.module}.${this.name}`;
  }
}
/** An object of a class we do not know: its constructor arguments and state, kept inert. */
export class PyObject {
  state: PyValue = null;
  constructor(
    readonly cls: PyGlobal,
    readonly args: readonly PyValue[],
  ) {}
}

export type PyValue = null | boolean | number | bigint | string | Uint8Array | PyTuple | PyList | PyDict | PyGlobal | PyObject | { readonly pyOpaque: true };

/** Meaning given to a known global when it is called (REDUCE or NEWOBJ). */
export type GlobalCall = (args: readonly PyValue[]) => PyValue;

export interface UnpickleOptions {
  /** `module.name` -> what calling it produces. Unknown globals become PyObject placeholders. */
  globals?: ReadonlyMap<string, GlobalCall>;
  /** Resolves BINPERSID / PERSID ids (PyTorch uses them for tensor storages). */
  persistentLoad?: (pid: PyValue) => PyValue;
  maxDepth?: number;
  /**
   * Bounds the machine's stack, memo and the values it creates. The largest zoo checkpoint
   * pickles a few thousand values; the default leaves 50x room and caps memory near 50 MB.
   */
  maxObjects?: number;
}

export interface UnpickleResult {
  value: PyValue;
  /** Globals that were referenced but not understood, each kept as an inert placeholder. */
  unknownGlobals: string[];
  /** Bytes consumed, so that several pickles in a row can be read (legacy PyTorch files). */
  end: number;
}

export class PickleError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} (pickle byte ${offset})`);
    this.name = 'PickleError';
  }
}

type StackItem = PyValue;
const MAX_LONG_BYTES = 1024;
const DEFAULT_MAX_OBJECTS = 250_000;

function depthOf(v: PyValue): number {
  if (v instanceof PyTuple || v instanceof PyList || v instanceof PyDict || v instanceof PyObject) {
    return depths.get(v) ?? 1;
  }
  return 0;
}
const depths = new WeakMap<object, number>();

export function unpickle(bytes: Uint8Array, start = 0, options: UnpickleOptions = {}): UnpickleResult {
  const maxDepth = options.maxDepth ?? 1000;
  const maxObjects = options.maxObjects ?? DEFAULT_MAX_OBJECTS;
  let created = 0;
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stack: StackItem[] = [];
  const marks: number[] = [];
  const memo = new Map<number, PyValue>();
  const unknown = new Set<string>();
  let pos = start;
  let opAt = start;

  const fail = (message: string): never => {
    throw new PickleError(message, opAt);
  };
  const need = (n: number): number => {
    if (!Number.isSafeInteger(n) || n < 0 || pos + n > data.length) {
      fail(`declares ${n} bytes but only ${data.length - pos} remain (truncated or corrupt)`);
    }
    const at = pos;
    pos += n;
    return at;
  };
  const u8 = () => data[need(1)];
  const u16 = () => data.readUInt16LE(need(2));
  const u32 = () => data.readUInt32LE(need(4));
  const u64 = () => {
    const v = data.readBigUInt64LE(need(8));
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail(`declares a length of ${v} bytes`);
    return Number(v);
  };
  const line = (): string => {
    const end = data.indexOf(0x0a, pos);
    if (end < 0) fail('unterminated text line');
    const s = data.toString('latin1', pos, end);
    pos = end + 1;
    return s;
  };
  const pop = (): PyValue => {
    if (stack.length === 0 || (marks.length > 0 && stack.length <= marks[marks.length - 1])) {
      fail('stack underflow');
    }
    return stack.pop() as PyValue;
  };
  const top = (): PyValue => {
    if (stack.length === 0) fail('stack underflow');
    return stack[stack.length - 1] as PyValue;
  };
  const popMark = (): PyValue[] => {
    const m = marks.pop();
    if (m === undefined) fail('no MARK to pop to');
    const items = stack.splice(m!) as PyValue[];
    return items;
  };
  /** Counts one created container or item placed in one, against maxObjects. */
  const counted = (n = 1): true => {
    created += n;
    return true;
  };
  const track = <T extends object>(container: T, childDepth: number): T => {
    const d = Math.max(depths.get(container) ?? 1, childDepth + 1);
    if (d > maxDepth) fail(`objects nested deeper than ${maxDepth} levels`);
    depths.set(container, d);
    return container;
  };
  const tuple = (items: PyValue[]): PyTuple =>
    counted(1 + items.length) &&
    track(
      new PyTuple(items),
      items.reduce<number>((m, v) => Math.max(m, depthOf(v)), 0),
    );
  const long = (n: number): number | bigint => {
    if (n > MAX_LONG_BYTES) fail(`integer of ${n} bytes is beyond any sane checkpoint`);
    if (n === 0) return 0;
    const at = need(n);
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(data[at + i]);
    if (data[at + n - 1] & 0x80) v -= 1n << BigInt(8 * n);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };
  const globalRef = (module: string, name: string): PyGlobal => new PyGlobal(module, name);
  const call = (fn: PyValue, args: readonly PyValue[]): PyValue => {
    if (!(fn instanceof PyGlobal)) fail('call of something that is not a global');
    const g = fn as PyGlobal;
    const known = options.globals?.get(g.qualifiedName);
    if (known) {
      counted();
      try {
        return known(args);
      } catch (e) {
        if (e instanceof PickleError) throw e;
        fail(`${g.qualifiedName}: ${(e as Error).message}`);
      }
    }
    unknown.add(g.qualifiedName);
    counted(1 + args.length);
    return track(
      new PyObject(g, args),
      args.reduce<number>((m, v) => Math.max(m, depthOf(v)), 0),
    );
  };
  const setItems = (target: PyValue, items: PyValue[]) => {
    if (items.length % 2) fail('odd number of items for a dict');
    if (!(target instanceof PyDict)) fail('SETITEM on something that is not a dict');
    const dict = target as PyDict;
    counted(items.length / 2);
    let d = 0;
    for (let i = 0; i < items.length; i += 2) {
      dict.entries.set(items[i], items[i + 1]);
      d = Math.max(d, depthOf(items[i + 1]));
    }
    track(dict, d);
  };
  const appendItems = (target: PyValue, items: PyValue[]) => {
    if (!(target instanceof PyList)) fail('APPEND on something that is not a list');
    const list = target as PyList;
    counted(items.length);
    let d = 0;
    for (const item of items) {
      list.items.push(item);
      d = Math.max(d, depthOf(item));
    }
    track(list, d);
  };
  const persistent = (pid: PyValue): PyValue => {
    if (!options.persistentLoad) fail('persistent id found but this file type defines none');
    return options.persistentLoad!(pid);
  };

  for (;;) {
    if (stack.length > maxObjects || memo.size > maxObjects || created > maxObjects) {
      fail(`builds more than ${maxObjects} values, far beyond any real checkpoint (crafted or corrupt)`);
    }
    opAt = pos;
    if (pos >= data.length) fail('ends before its STOP opcode (truncated)');
    const op = data[pos++];
    switch (op) {
      case 0x80: // PROTO
        u8();
        break;
      case 0x95: // FRAME
        u64();
        break;
      case 0x2e: // STOP
        if (stack.length !== 1 || marks.length) fail('STOP with an unbalanced stack');
        return { value: stack[0] as PyValue, unknownGlobals: [...unknown].sort(), end: pos };
      case 0x28: // MARK
        if (marks.length >= maxDepth) fail(`more than ${maxDepth} open MARKs`);
        marks.push(stack.length);
        break;
      case 0x7d: // EMPTY_DICT
        counted();
        stack.push(new PyDict());
        break;
      case 0x5d: // EMPTY_LIST
        counted();
        stack.push(new PyList());
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(tuple([]));
        break;
      case 0x74: // TUPLE
        stack.push(tuple(popMark()));
        break;
      case 0x85: // TUPLE1
        stack.push(tuple([pop()]));
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        stack.push(tuple([pop(), b]));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        stack.push(tuple([pop(), b, c]));
        break;
      }
      case 0x6c: {
        // LIST
        const list = new PyList();
        appendItems(list, popMark());
        stack.push(list);
        break;
      }
      case 0x64: {
        // DICT
        const dict = new PyDict();
        setItems(dict, popMark());
        stack.push(dict);
        break;
      }
      case 0x8f: // EMPTY_SET: kept as a list, sets carry no weights
        stack.push(new PyList());
        break;
      case 0x90: {
        // ADDITEMS
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x91: {
        // FROZENSET
        const list = new PyList();
        appendItems(list, popMark());
        stack.push(list);
        break;
      }
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x70: // PUT
        memo.set(Number.parseInt(line(), 10), top());
        break;
      case 0x68: // BINGET
      case 0x6a: // LONG_BINGET
      case 0x67: {
        // GET
        const key = op === 0x68 ? u8() : op === 0x6a ? u32() : Number.parseInt(line(), 10);
        if (!memo.has(key)) fail(`memo entry ${key} was never stored`);
        stack.push(memo.get(key) as PyValue);
        break;
      }
      case 0x58: // BINUNICODE
        stack.push(data.toString('utf8', need(u32()), pos));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(data.toString('utf8', need(u8()), pos));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(data.toString('utf8', need(u64()), pos));
        break;
      case 0x54: // BINSTRING (Python 2 str)
        stack.push(data.toString('latin1', need(u32()), pos));
        break;
      case 0x55: // SHORT_BINSTRING
        stack.push(data.toString('latin1', need(u8()), pos));
        break;
      case 0x42: {
        // BINBYTES
        const n = u32();
        stack.push(Uint8Array.prototype.slice.call(data, need(n), pos));
        break;
      }
      case 0x43: {
        // SHORT_BINBYTES
        const n = u8();
        stack.push(Uint8Array.prototype.slice.call(data, need(n), pos));
        break;
      }
      case 0x8e: {
        // BINBYTES8
        const n = u64();
        stack.push(Uint8Array.prototype.slice.call(data, need(n), pos));
        break;
      }
      case 0x4a: // BININT
        stack.push(data.readInt32LE(need(4)));
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x8a: // LONG1
        stack.push(long(u8()));
        break;
      case 0x8b: // LONG4
        stack.push(long(u32()));
        break;
      case 0x49: {
        // INT (text; protocol 0 writes bools as I00/I01)
        const s = line();
        stack.push(s === '00' ? false : s === '01' ? true : Number.parseInt(s, 10));
        break;
      }
      case 0x47: // BINFLOAT
        stack.push(data.readDoubleBE(need(8)));
        break;
      case 0x46: // FLOAT (text)
        stack.push(Number.parseFloat(line()));
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x63: {
        // GLOBAL
        const module = line();
        stack.push(globalRef(module, line()));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings');
        stack.push(globalRef(module as string, name as string));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const fn = pop();
        if (!(args instanceof PyTuple)) fail('REDUCE arguments are not a tuple');
        stack.push(call(fn, (args as PyTuple).items));
        break;
      }
      case 0x81: {
        // NEWOBJ
        const args = pop();
        const cls = pop();
        if (!(args instanceof PyTuple)) fail('NEWOBJ arguments are not a tuple');
        stack.push(call(cls, (args as PyTuple).items));
        break;
      }
      case 0x92: {
        // NEWOBJ_EX
        pop(); // kwargs
        const args = pop();
        const cls = pop();
        if (!(args instanceof PyTuple)) fail('NEWOBJ_EX arguments are not a tuple');
        stack.push(call(cls, (args as PyTuple).items));
        break;
      }
      case 0x62: {
        // BUILD: state is recorded, never applied to a JavaScript object's properties
        const state = pop();
        const target = top();
        if (target instanceof PyObject || target instanceof PyDict) target.state = state;
        break;
      }
      case 0x51: // BINPERSID
        stack.push(persistent(pop()));
        break;
      case 0x50: // PERSID
        stack.push(persistent(line()));
        break;
      case 0x73: {
        // SETITEM
        const value = pop();
        const key = pop();
        setItems(top(), [key, value]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x61: {
        // APPEND
        const item = pop();
        appendItems(top(), [item]);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x30: // POP
        if (marks.length && stack.length === marks[marks.length - 1]) marks.pop();
        else pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      default:
        fail(`unsupported pickle opcode 0x${op.toString(16).padStart(2, '0')}`);
    }
  }
}
