import { crc32, inflateRawSync } from 'node:zlib';
import { CorruptFileError } from '../core/errors.js';

/** One member of a zip archive, located but not yet read. */
export interface ZipEntry {
  readonly name: string;
  readonly method: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly crc32: number;
  readonly localHeaderOffset: number;
}

const EOCD_SIGNATURE = 0x06054b50;
const ZIP64_EOCD_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const METHOD_STORED = 0;
const METHOD_DEFLATE = 8;

/**
 * A read-only view of a zip archive held in memory. PyTorch stores tensors uncompressed and
 * 64-byte aligned, so stored members are returned as views without copying.
 */
export class ZipArchive {
  readonly entries: Map<string, ZipEntry>;

  constructor(
    private readonly buf: Buffer,
    private readonly file: string,
  ) {
    this.entries = readCentralDirectory(buf, file);
  }

  static isZip(buf: Buffer): boolean {
    return buf.length >= 4 && buf.readUInt32LE(0) === LOCAL_SIGNATURE;
  }

  /**
   * The bytes of a member. `maxBytes` is what the caller can use: a member declaring more is
   * refused before anything is inflated, so a crafted size cannot make us allocate.
   */
  read(name: string, maxBytes: number): Buffer {
    const entry = this.entries.get(name);
    if (!entry) throw new CorruptFileError(this.file, `archive has no member ${name}`);
    if (entry.size > maxBytes) {
      throw new CorruptFileError(this.file, `member ${name} declares ${entry.size} bytes where at most ${maxBytes} can be used (crafted or corrupt)`);
    }
    const at = entry.localHeaderOffset;
    if (at + 30 > this.buf.length || this.buf.readUInt32LE(at) !== LOCAL_SIGNATURE) {
      throw new CorruptFileError(this.file, `member ${name} has a damaged local header`);
    }
    const start = at + 30 + this.buf.readUInt16LE(at + 26) + this.buf.readUInt16LE(at + 28);
    const end = start + entry.compressedSize;
    if (end > this.buf.length) {
      throw new CorruptFileError(this.file, `member ${name} runs past the end of the file (truncated?)`);
    }
    const out = this.decompress(entry, this.buf.subarray(start, end));
    if (crc32(out) !== entry.crc32) {
      throw new CorruptFileError(this.file, `member ${name} is corrupt (CRC-32 mismatch)`, 'Download the checkpoint again.');
    }
    return out;
  }

  private decompress(entry: ZipEntry, raw: Buffer): Buffer {
    if (entry.method === METHOD_STORED) return raw;
    if (entry.method !== METHOD_DEFLATE) {
      throw new CorruptFileError(this.file, `member ${entry.name} uses unsupported compression method ${entry.method}`);
    }
    try {
      // maxOutputLength stops a crafted member from inflating past its declared size.
      const out = inflateRawSync(raw, { maxOutputLength: Math.max(entry.size, 1) });
      if (out.length === entry.size) return out;
    } catch {
      // reported below
    }
    throw new CorruptFileError(this.file, `member ${entry.name} does not inflate to its declared ${entry.size} bytes`);
  }
}

function findEndOfCentralDirectory(buf: Buffer, file: string): number {
  const earliest = Math.max(0, buf.length - 22 - 0xffff);
  for (let i = buf.length - 22; i >= earliest; i--) {
    if (buf.readUInt32LE(i) === EOCD_SIGNATURE) return i;
  }
  throw new CorruptFileError(
    file,
    'not a complete zip archive: the end-of-archive record is missing (truncated or interrupted download?)',
    'Download the checkpoint again (levit download) or check the file.',
  );
}

function readCentralDirectory(buf: Buffer, file: string): Map<string, ZipEntry> {
  const eocd = findEndOfCentralDirectory(buf, file);
  let count = buf.readUInt16LE(eocd + 10);
  let dirOffset = buf.readUInt32LE(eocd + 16);
  const locator = eocd - 20;
  if (locator >= 0 && buf.readUInt32LE(locator) === ZIP64_EOCD_LOCATOR_SIGNATURE) {
    const zip64 = Number(buf.readBigUInt64LE(locator + 8));
    if (zip64 + 56 > buf.length || buf.readUInt32LE(zip64) !== ZIP64_EOCD_SIGNATURE) {
      throw new CorruptFileError(file, 'damaged zip64 end-of-archive record');
    }
    count = Number(buf.readBigUInt64LE(zip64 + 32));
    dirOffset = Number(buf.readBigUInt64LE(zip64 + 48));
  }
  // Each central record takes at least 46 bytes: a count beyond that is a lie, not an allocation.
  if (dirOffset > buf.length || count * 46 > buf.length - dirOffset) {
    throw new CorruptFileError(file, 'zip central directory lies outside the file (truncated?)');
  }
  const entries = new Map<string, ZipEntry>();
  let at = dirOffset;
  for (let i = 0; i < count; i++) {
    if (at + 46 > buf.length || buf.readUInt32LE(at) !== CENTRAL_SIGNATURE) {
      throw new CorruptFileError(file, `zip central directory record ${i} is damaged`);
    }
    const method = buf.readUInt16LE(at + 10);
    const crc = buf.readUInt32LE(at + 16);
    let compressedSize = buf.readUInt32LE(at + 20);
    let size = buf.readUInt32LE(at + 24);
    const nameLength = buf.readUInt16LE(at + 28);
    const extraLength = buf.readUInt16LE(at + 30);
    const commentLength = buf.readUInt16LE(at + 32);
    let localHeaderOffset = buf.readUInt32LE(at + 42);
    const name = buf.toString('utf8', at + 46, at + 46 + nameLength);
    const zip64 = readZip64Extra(buf, at + 46 + nameLength, extraLength, {
      size: size === 0xffffffff,
      compressedSize: compressedSize === 0xffffffff,
      offset: localHeaderOffset === 0xffffffff,
    });
    size = zip64.size ?? size;
    compressedSize = zip64.compressedSize ?? compressedSize;
    localHeaderOffset = zip64.offset ?? localHeaderOffset;
    if (entries.has(name)) {
      // Readers disagree on which copy wins (first or last): a file that means two things is refused.
      throw new CorruptFileError(
        file,
        `zip member ${name} appears twice: which copy holds the weights cannot be told (crafted or corrupt)`,
        'Use the checkpoint as torch.save wrote it, or download it again.',
      );
    }
    entries.set(name, { name, method, compressedSize, size, crc32: crc, localHeaderOffset });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

function readZip64Extra(
  buf: Buffer,
  start: number,
  length: number,
  wanted: { size: boolean; compressedSize: boolean; offset: boolean },
): { size?: number; compressedSize?: number; offset?: number } {
  const end = Math.min(start + length, buf.length);
  for (let at = start; at + 4 <= end;) {
    const id = buf.readUInt16LE(at);
    const len = buf.readUInt16LE(at + 2);
    if (id === 0x0001) {
      let p = at + 4;
      const next = () => {
        const v = p + 8 <= end ? Number(buf.readBigUInt64LE(p)) : undefined;
        p += 8;
        return v;
      };
      return {
        size: wanted.size ? next() : undefined,
        compressedSize: wanted.compressedSize ? next() : undefined,
        offset: wanted.offset ? next() : undefined,
      };
    }
    at += 4 + len;
  }
  return {};
}
