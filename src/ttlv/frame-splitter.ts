// Splits a byte stream into whole TTLV messages (KMIP 2.1 §9.1: tag 3, type 1, length 4).
// The declared length is checked against the cap as soon as the 8-byte header is known and
// before anything past it is kept, so a header claiming 4 GiB costs nothing. Bytes of an
// unfinished message are held as the received chunks (memory grows only with bytes actually
// sent) and joined once, when the message is complete. Complete messages inside one chunk are
// returned as views of that chunk, without copying.

import { invalidMessage } from '../errors.js';
import { ItemType } from './item.js';
import { DEFAULT_LIMITS } from './limits.js';

const HEADER = 8;

export interface FrameSplitterOptions {
  /** Largest message accepted, header included. Default 1 MiB (DEFAULT_LIMITS). */
  maxMessageBytes?: number;
}

export class FrameSplitter {
  private readonly max: number;
  private held: Buffer[] = [];
  private heldBytes = 0;
  /** Total size of the message being assembled; 0 while its header is incomplete. */
  private expected = 0;

  constructor(opts: FrameSplitterOptions = {}) {
    this.max = opts.maxMessageBytes ?? DEFAULT_LIMITS.maxMessageBytes;
  }

  /** Bytes held for an incomplete message. */
  get buffered(): number {
    return this.heldBytes;
  }

  /** Feeds one chunk; returns the messages it completes, in order. Throws KmipError. */
  push(chunk: Uint8Array): Buffer[] {
    const frames: Buffer[] = [];
    let data = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.heldBytes > 0) {
      data = this.continueHeld(data, frames);
    }
    let off = 0;
    while (data.length - off >= HEADER) {
      const size = this.frameSize(data, off);
      if (data.length - off < size) break;
      frames.push(data.subarray(off, off + size));
      off += size;
    }
    if (off < data.length) {
      const rest = data.subarray(off);
      this.held.push(rest);
      this.heldBytes = rest.length;
      this.expected = rest.length >= HEADER ? this.frameSize(rest, 0) : 0;
    }
    return frames;
  }

  /**
   * Adds `data` to the held bytes. If that completes the message, it is pushed to `frames` and
   * the unused tail of `data` is returned for the caller's loop; otherwise returns nothing.
   */
  private continueHeld(data: Buffer, frames: Buffer[]): Buffer {
    if (this.expected === 0) {
      // Complete the header first so the cap is checked before holding more.
      const need = HEADER - this.heldBytes;
      const header = Buffer.concat([...this.held, data.subarray(0, need)]);
      if (header.length < HEADER) {
        this.held = [header];
        this.heldBytes = header.length;
        return data.subarray(data.length);
      }
      this.expected = this.frameSize(header, 0);
      this.held = [header];
      this.heldBytes = HEADER;
      data = data.subarray(need);
    }
    const need = this.expected - this.heldBytes;
    if (data.length < need) {
      if (data.length > 0) this.held.push(data);
      this.heldBytes += data.length;
      return data.subarray(data.length);
    }
    this.held.push(data.subarray(0, need));
    frames.push(this.held.length === 1 ? this.held[0]! : Buffer.concat(this.held, this.expected));
    this.held = [];
    this.heldBytes = 0;
    this.expected = 0;
    return data.subarray(need);
  }

  private frameSize(data: Buffer, off: number): number {
    const type = data[off + 3];
    const length = data.readUInt32BE(off + 4);
    // A Structure's length covers its padded children; a primitive pads to 8 after its length.
    const size = HEADER + (type === ItemType.Structure ? length : Math.ceil(length / 8) * 8);
    if (size > this.max) {
      throw invalidMessage(`message declares ${size} bytes, above the limit of ${this.max}`);
    }
    return size;
  }
}
