// Binary TTLV (KMIP 2.1 §9.1): a strict decoder and an encoder over the generic item tree.
// Strictness: exact lengths per type, zero padding to 8 bytes, valid UTF-8, Boolean 0 or 1,
// Big Integer lengths a multiple of 8, children never overrunning their parent. The only
// exception that leaves decodeTtlv is KmipError.

import { isUtf8 } from 'node:buffer';
import { invalidField, invalidMessage, KmipError } from '../errors.js';
import { ItemType, type TtlvItem } from './item.js';
import { type DecodeLimits, resolveLimits } from './limits.js';
import { tagLabel } from './tag-label.js';

const HEADER = 8;

/**
 * Length of the value as declared, rounded up to the 8-byte boundary. Arithmetic, not bit
 * operations: lengths up to 2^32 - 1 do not fit JavaScript's signed 32-bit bitwise range.
 */
const padded = (length: number) => Math.ceil(length / 8) * 8;

/** Decodes exactly one top-level item that spans all of `bytes`. */
export function decodeTtlv(bytes: Uint8Array, limits?: Partial<DecodeLimits>): TtlvItem {
  const lim = resolveLimits(limits);
  const buf = Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length > lim.maxMessageBytes) {
    throw invalidMessage(
      `message of ${buf.length} bytes exceeds the limit of ${lim.maxMessageBytes}`,
    );
  }
  const decoder = new Decoder(buf, lim);
  const item = decoder.item(buf.length, 1);
  if (decoder.pos !== buf.length) {
    throw invalidMessage(`${buf.length - decoder.pos} trailing bytes after the message`);
  }
  return item;
}

class Decoder {
  pos = 0;
  private items = 0;

  constructor(
    private readonly buf: Buffer,
    private readonly limits: DecodeLimits,
  ) {}

  item(end: number, depth: number): TtlvItem {
    const buf = this.buf;
    const start = this.pos;
    if (end - start < HEADER) {
      throw invalidMessage(`truncated item header: ${end - start} of 8 bytes`);
    }
    const tag = (buf[start]! << 16) | (buf[start + 1]! << 8) | buf[start + 2]!;
    const type = buf[start + 3]!;
    const length = buf.readUInt32BE(start + 4);
    const valueStart = start + HEADER;
    try {
      if (++this.items > this.limits.maxItems) {
        throw invalidMessage(`more than ${this.limits.maxItems} items`);
      }
      if (type === ItemType.Structure) {
        if (length > end - valueStart) {
          throw invalidMessage(`structure length ${length} runs past its parent`);
        }
        if (depth > this.limits.maxDepth) {
          throw invalidMessage(`structures nested deeper than ${this.limits.maxDepth}`);
        }
        return { tag, type, value: this.children(valueStart, valueStart + length, depth) };
      }
      if (length > end - valueStart) {
        throw invalidMessage(`value length ${length} runs past its parent`);
      }
      const valueEnd = valueStart + padded(length);
      if (valueEnd > end) throw invalidMessage(`padding of length ${length} runs past its parent`);
      this.pos = valueEnd;
      for (let i = valueStart + length; i < valueEnd; i++) {
        if (buf[i] !== 0) throw invalidMessage('non-zero padding');
      }
      return this.primitive(tag, type, valueStart, length);
    } catch (err) {
      if (err instanceof KmipError) err.within(tagLabel(tag));
      throw err;
    }
  }

  private children(from: number, to: number, depth: number): TtlvItem[] {
    const children: TtlvItem[] = [];
    this.pos = from;
    while (this.pos < to) {
      try {
        children.push(this.item(to, depth + 1));
      } catch (err) {
        if (err instanceof KmipError) indexLastSegment(err, children);
        throw err;
      }
    }
    return children;
  }

  private primitive(tag: number, type: number, at: number, length: number): TtlvItem {
    const buf = this.buf;
    switch (type) {
      case ItemType.Integer:
        expectLength(length, 4, 'Integer');
        return { tag, type, value: buf.readInt32BE(at) };
      case ItemType.Enumeration:
      case ItemType.Interval:
        expectLength(length, 4, type === ItemType.Interval ? 'Interval' : 'Enumeration');
        return { tag, type, value: buf.readUInt32BE(at) };
      case ItemType.LongInteger:
      case ItemType.DateTime:
      case ItemType.DateTimeExtended:
        expectLength(length, 8, 'a 64-bit value');
        return { tag, type, value: buf.readBigInt64BE(at) };
      case ItemType.BigInteger:
        if (length === 0 || length % 8 !== 0) {
          throw invalidField(`Big Integer length ${length} is not a positive multiple of 8`);
        }
        return { tag, type, value: Buffer.from(buf.subarray(at, at + length)) };
      case ItemType.Boolean: {
        expectLength(length, 8, 'Boolean');
        const hi = buf.readUInt32BE(at);
        const lo = buf.readUInt32BE(at + 4);
        if (hi !== 0 || lo > 1) throw invalidField('Boolean value is neither 0 nor 1');
        return { tag, type, value: lo === 1 };
      }
      case ItemType.TextString: {
        const view = buf.subarray(at, at + length);
        if (!isUtf8(view)) throw invalidField('Text String is not valid UTF-8');
        return { tag, type, value: view.toString('utf8') };
      }
      case ItemType.ByteString:
        return { tag, type, value: Buffer.from(buf.subarray(at, at + length)) };
      default:
        throw invalidMessage(`unknown item type 0x${type.toString(16).padStart(2, '0')}`);
    }
  }
}

function expectLength(actual: number, expected: number, what: string): void {
  if (actual !== expected) {
    throw invalidMessage(`${what} has length ${actual}, expected ${expected}`);
  }
}

/** Turns the failing child's label into `Name[n]` when earlier siblings share its tag. */
function indexLastSegment(err: KmipError, siblings: TtlvItem[]): void {
  const label = err.path[0];
  if (label === undefined) return;
  let n = 0;
  for (const s of siblings) if (tagLabel(s.tag) === label) n++;
  if (n > 0) err.path[0] = `${label}[${n}]`;
}

// ---------------------------------------------------------------------------------------------

/** Encodes one item tree. Values are validated; a bad value throws KmipError(InvalidField). */
export function encodeTtlv(item: TtlvItem): Buffer {
  const w = new Writer();
  w.item(item);
  return w.finish();
}

/**
 * A growable writer that reserves each structure's length and back-patches it at the end.
 * It writes into one reusable scratch buffer and copies the result out once.
 */
class Writer {
  private static scratch = Buffer.allocUnsafe(64 * 1024);
  private buf = Writer.scratch;
  private pos = 0;

  finish(): Buffer {
    const out = Buffer.allocUnsafe(this.pos);
    this.buf.copy(out, 0, 0, this.pos);
    if (this.buf.length <= 1024 * 1024) Writer.scratch = this.buf;
    return out;
  }

  private ensure(extra: number): void {
    const need = this.pos + extra;
    if (need <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2));
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }

  private header(tag: number, type: number, length: number): void {
    if (!Number.isInteger(tag) || tag < 0 || tag > 0xffffff) {
      throw invalidField(`tag ${tag} does not fit in 3 bytes`);
    }
    const b = this.buf;
    const p = this.pos;
    b[p] = tag >>> 16;
    b[p + 1] = (tag >>> 8) & 0xff;
    b[p + 2] = tag & 0xff;
    b[p + 3] = type;
    b.writeUInt32BE(length, p + 4);
    this.pos = p + HEADER;
  }

  private pad(length: number): void {
    const end = this.pos + padded(length);
    this.buf.fill(0, this.pos + length, end);
    this.pos = end;
  }

  item(item: TtlvItem): void {
    try {
      this.write(item);
    } catch (err) {
      if (err instanceof KmipError) err.within(tagLabel(item.tag));
      throw err;
    }
  }

  private write(item: TtlvItem): void {
    switch (item.type) {
      case ItemType.Structure: {
        this.ensure(HEADER);
        const at = this.pos;
        this.header(item.tag, item.type, 0);
        for (const child of item.value) this.item(child);
        this.buf.writeUInt32BE(this.pos - at - HEADER, at + 4);
        return;
      }
      case ItemType.Integer:
        checkInt(item.value, -0x80000000, 0x7fffffff);
        this.ensure(16);
        this.header(item.tag, item.type, 4);
        this.buf.writeInt32BE(item.value, this.pos);
        this.pad(4);
        return;
      case ItemType.Enumeration:
      case ItemType.Interval:
        checkInt(item.value, 0, 0xffffffff);
        this.ensure(16);
        this.header(item.tag, item.type, 4);
        this.buf.writeUInt32BE(item.value, this.pos);
        this.pad(4);
        return;
      case ItemType.LongInteger:
      case ItemType.DateTime:
      case ItemType.DateTimeExtended:
        if (item.value < -(2n ** 63n) || item.value >= 2n ** 63n) {
          throw invalidField('value does not fit in 64 bits');
        }
        this.ensure(16);
        this.header(item.tag, item.type, 8);
        this.buf.writeBigInt64BE(item.value, this.pos);
        this.pos += 8;
        return;
      case ItemType.BigInteger:
        if (item.value.length === 0 || item.value.length % 8 !== 0) {
          throw invalidField('Big Integer length is not a positive multiple of 8');
        }
        this.bytes(item.tag, item.type, item.value);
        return;
      case ItemType.Boolean:
        this.ensure(16);
        this.header(item.tag, item.type, 8);
        this.buf.writeUInt32BE(0, this.pos);
        this.buf.writeUInt32BE(item.value ? 1 : 0, this.pos + 4);
        this.pos += 8;
        return;
      case ItemType.TextString: {
        const s = item.value;
        this.ensure(HEADER + s.length * 3 + 8);
        const at = this.pos;
        this.pos += HEADER;
        const length = this.buf.write(s, this.pos, 'utf8');
        this.pos = at;
        this.header(item.tag, item.type, length);
        this.pad(length);
        return;
      }
      case ItemType.ByteString:
        this.bytes(item.tag, item.type, item.value);
        return;
      default:
        throw invalidField(`unknown item type ${(item as { type: unknown }).type}`);
    }
  }

  private bytes(tag: number, type: number, value: Uint8Array): void {
    this.ensure(HEADER + value.length + 8);
    this.header(tag, type, value.length);
    this.buf.set(value, this.pos);
    this.pad(value.length);
  }
}

function checkInt(v: number, min: number, max: number): void {
  if (!Number.isInteger(v) || v < min || v > max) {
    throw invalidField(`value ${v} is outside ${min}..${max}`);
  }
}
