// A deliberately lax TTLV writer for the fuzzer: unlike src/ttlv/binary.ts it writes whatever
// it is told, including wrong types, declared lengths that disagree with the bytes, values
// cut short and any nesting depth. Parents' lengths follow the bytes their children really
// take, so a lie stays local to the item that tells it.

import { ItemType } from '../ttlv/item.js';

export interface RawItem {
  tag: number;
  type: number;
  /** Children for a structure, bytes (unpadded) for anything else. */
  value: RawItem[] | Buffer;
  /** Added to the true length in the header. */
  lengthDelta?: number;
  /** Bytes dropped from the end of the encoded value (the header still claims them). */
  cut?: number;
}

export function encodeRaw(item: RawItem): Buffer {
  const parts: Buffer[] = [];
  write(item, parts);
  return Buffer.concat(parts);
}

function write(item: RawItem, parts: Buffer[]): void {
  const header = Buffer.alloc(8);
  header.writeUIntBE(item.tag & 0xffffff, 0, 3);
  header[3] = item.type & 0xff;
  parts.push(header);
  let body: Buffer;
  let length: number;
  if (Array.isArray(item.value)) {
    const inner: Buffer[] = [];
    for (const child of item.value) write(child, inner);
    body = Buffer.concat(inner);
    length = body.length;
  } else {
    length = item.value.length;
    const padded = Math.ceil(length / 8) * 8;
    body = Buffer.alloc(padded);
    item.value.copy(body);
  }
  header.writeUInt32BE((length + (item.lengthDelta ?? 0)) >>> 0, 4);
  const cut = Math.min(item.cut ?? 0, body.length);
  parts.push(cut > 0 ? body.subarray(0, body.length - cut) : body);
}

/** Makes bytes one whole frame again: a Structure header whose length is the rest. */
export function reframe(frame: Buffer): Buffer {
  const pad = (8 - (frame.length % 8)) % 8;
  const out = pad === 0 ? frame : Buffer.concat([frame, Buffer.alloc(pad)]);
  if (out.length < 8) return reframe(Buffer.concat([out, Buffer.alloc(8)]));
  out[3] = ItemType.Structure;
  out.writeUInt32BE(out.length - 8, 4);
  return out;
}
