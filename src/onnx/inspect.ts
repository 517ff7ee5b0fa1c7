/**
 * Reads just enough of an ONNX file to check it against a model card: the element count of its
 * initializers (its parameters). A minimal protobuf walk: ModelProto.graph (7) ->
 * GraphProto.initializer (5) -> TensorProto.dims (1, int64, packed or not).
 */
class Reader {
  constructor(
    readonly buf: Uint8Array,
    public pos = 0,
    readonly end = buf.length,
  ) {}

  varint(): number {
    let result = 0;
    let scale = 1;
    for (;;) {
      if (this.pos >= this.end) throw new Error('truncated varint');
      const b = this.buf[this.pos++];
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 128;
    }
  }

  /** Calls visit(field, wireType, subReader-or-value) for each field up to `end`. */
  fields(visit: (field: number, wire: number, r: Reader, start: number, lengthOrValue: number) => void): void {
    while (this.pos < this.end) {
      const key = this.varint();
      const [field, wire] = [Math.floor(key / 8), key & 7];
      if (wire === 0) visit(field, wire, this, this.pos, this.varint());
      else if (wire === 1) this.pos += 8;
      else if (wire === 5) this.pos += 4;
      else if (wire === 2) {
        const length = this.varint();
        const start = this.pos;
        if (start + length > this.end) throw new Error('truncated field');
        visit(field, wire, this, start, length);
        this.pos = start + length;
      } else throw new Error(`unsupported wire type ${wire}`);
    }
  }
}

function tensorElements(buf: Uint8Array, start: number, length: number): number {
  const dims: number[] = [];
  new Reader(buf, start, start + length).fields((field, wire, _r, s, l) => {
    if (field !== 1) return;
    if (wire === 0) dims.push(l);
    else {
      const packed = new Reader(buf, s, s + l);
      while (packed.pos < s + l) dims.push(packed.varint());
    }
  });
  return dims.reduce((a, b) => a * b, 1);
}

/** Total elements of the initializers of an ONNX model. Throws on a file that is not protobuf. */
export function onnxParameterCount(buf: Uint8Array): number {
  let total = 0;
  new Reader(buf).fields((field, wire, _r, start, length) => {
    if (field !== 7 || wire !== 2) return;
    new Reader(buf, start, start + length).fields((f, w, _g, s, l) => {
      if (f === 5 && w === 2) total += tensorElements(buf, s, l);
    });
  });
  return total;
}

/** A graph input's or output's declared shape: a number per fixed dimension, a name per symbolic one, null if absent. */
export type DeclaredShape = (number | string | null)[];

function utf8(buf: Uint8Array, start: number, length: number): string {
  return new TextDecoder().decode(buf.subarray(start, start + length));
}

/** ValueInfoProto: name (1), type (2) -> TypeProto.tensor_type (1) -> shape (2) -> dim (1): dim_value (1) | dim_param (2). */
function valueInfo(buf: Uint8Array, start: number, length: number): { name: string; shape: DeclaredShape | null } {
  let name = '';
  let shape: DeclaredShape | null = null;
  const nested = (s: number, l: number, field: number, visit: (s: number, l: number) => void) =>
    new Reader(buf, s, s + l).fields((f, w, _r, fs, fl) => {
      if (f === field && w === 2) visit(fs, fl);
    });
  new Reader(buf, start, start + length).fields((f, w, _r, s, l) => {
    if (f === 1 && w === 2) name = utf8(buf, s, l);
    if (f !== 2 || w !== 2) return;
    nested(s, l, 1, (ts, tl) =>
      nested(ts, tl, 2, (ss, sl) => {
        shape = [];
        nested(ss, sl, 1, (ds, dl) => {
          let dim: number | string | null = null;
          new Reader(buf, ds, ds + dl).fields((df, dw, _d, vs, vl) => {
            if (df === 1 && dw === 0) dim = vl;
            if (df === 2 && dw === 2) dim = utf8(buf, vs, vl);
          });
          shape!.push(dim);
        });
      }),
    );
  });
  return { name, shape };
}

/** The declared shapes of a model's graph inputs (initializers excluded) and outputs. */
export function onnxSignature(buf: Uint8Array): { inputs: DeclaredShape[]; outputs: DeclaredShape[] } {
  const inputs: { name: string; shape: DeclaredShape | null }[] = [];
  const outputs: DeclaredShape[] = [];
  const initializers = new Set<string>();
  new Reader(buf).fields((field, wire, _r, start, length) => {
    if (field !== 7 || wire !== 2) return;
    new Reader(buf, start, start + length).fields((f, w, _g, s, l) => {
      if (w !== 2) return;
      if (f === 11) inputs.push(valueInfo(buf, s, l));
      if (f === 12) outputs.push(valueInfo(buf, s, l).shape ?? []);
      if (f === 5) {
        new Reader(buf, s, s + l).fields((tf, tw, _t, ts, tl) => {
          if (tf === 8 && tw === 2) initializers.add(utf8(buf, ts, tl));
        });
      }
    });
  });
  return { inputs: inputs.filter((i) => !initializers.has(i.name)).map((i) => i.shape ?? []), outputs };
}

/** The model's metadata_props (ModelProto field 14: StringStringEntryProto key 1, value 2), as levit's exporter writes them. */
export function onnxMetadata(buf: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  new Reader(buf).fields((field, wire, _r, start, length) => {
    if (field !== 14 || wire !== 2) return;
    let key = '';
    let value = '';
    new Reader(buf, start, start + length).fields((f, w, _e, s, l) => {
      if (w !== 2) return;
      if (f === 1) key = utf8(buf, s, l);
      if (f === 2) value = utf8(buf, s, l);
    });
    if (key) out[key] = value;
  });
  return out;
}
