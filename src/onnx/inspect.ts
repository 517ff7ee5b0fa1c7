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
