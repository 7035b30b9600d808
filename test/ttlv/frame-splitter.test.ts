// The incremental frame splitter (src/ttlv/frame-splitter.ts): any chunking of a stream of
// messages yields the same messages, and a header that declares more than the cap is refused
// before its body is buffered. Framing: KMIP 2.1 §9.1 (tag 3, type 1, length 4 bytes).

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KmipError } from '../../src/errors.js';
import { FrameSplitter } from '../../src/ttlv/frame-splitter.js';
import { ResultReason } from '../../src/ttlv/spec/generated.js';
import { parsePrettyHex } from '../helpers/pretty-hex.js';

const FIXTURES = path.resolve(import.meta.dirname, '../../fixtures');

function load(dir: string): Buffer[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.phex'))
    .sort()
    .map((f) => parsePrettyHex(readFileSync(path.join(dir, f), 'utf8')));
}

const golden = load(path.join(FIXTURES, 'golden'));
const pykmip = readdirSync(path.join(FIXTURES, 'pykmip'))
  .sort()
  .map((v) => ({ version: v, frames: load(path.join(FIXTURES, 'pykmip', v)) }));
const allFrames = [...golden, ...pykmip.flatMap((v) => v.frames)];

/** Feeds `chunks` to a fresh splitter and returns every frame it emits, as copies. */
function split(chunks: Uint8Array[], opts?: { maxMessageBytes?: number }): Buffer[] {
  const splitter = new FrameSplitter(opts);
  const out: Buffer[] = [];
  for (const chunk of chunks) for (const f of splitter.push(chunk)) out.push(Buffer.from(f));
  expect(splitter.buffered).toBe(0);
  return out;
}

function sameFrames(actual: Buffer[], expected: Buffer[]): boolean {
  return actual.length === expected.length && actual.every((f, i) => f.equals(expected[i]!));
}

function pushError(splitter: FrameSplitter, chunk: Uint8Array): KmipError {
  try {
    splitter.push(chunk);
  } catch (e) {
    if (e instanceof KmipError) return e;
    throw new Error(`expected a KmipError, got ${String(e)}`);
  }
  throw new Error('expected a KmipError, push returned');
}

describe('FrameSplitter', () => {
  it('returns each golden and PyKMIP frame whole when it arrives in one chunk', () => {
    expect(allFrames.length).toBeGreaterThan(100);
    for (const frame of allFrames) expect(split([frame])).toEqual([frame]);
  });

  it('returns several frames from one chunk, in order', () => {
    const stream = Buffer.concat(allFrames);
    expect(sameFrames(split([stream]), allFrames)).toBe(true);
  });

  it('yields the same frames when a frame is split at every byte offset', () => {
    for (const frame of allFrames) {
      for (let at = 0; at <= frame.length; at++) {
        const got = split([frame.subarray(0, at), frame.subarray(at)]);
        if (!sameFrames(got, [frame])) {
          throw new Error(`frame of ${frame.length} bytes split at ${at}: wrong frames`);
        }
      }
    }
  });

  for (const { version, frames } of pykmip) {
    it(`yields the same frames when the KMIP ${version} stream is split at every byte offset`, () => {
      const stream = Buffer.concat(frames);
      for (let at = 0; at <= stream.length; at++) {
        const got = split([stream.subarray(0, at), stream.subarray(at)]);
        if (!sameFrames(got, frames)) throw new Error(`stream split at ${at}: wrong frames`);
      }
    });
  }

  it('yields the same frames when the whole stream is split at two sampled offsets', () => {
    const stream = Buffer.concat(allFrames);
    fc.assert(
      fc.property(fc.nat({ max: stream.length }), fc.nat({ max: stream.length }), (x, y) => {
        const [a, b] = x <= y ? [x, y] : [y, x];
        const chunks = [stream.subarray(0, a), stream.subarray(a, b), stream.subarray(b)];
        return sameFrames(split(chunks), allFrames);
      }),
      { numRuns: 300 },
    );
  });

  it('yields the same frames for any chunking of a sampled stream, including 1-byte chunks', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat({ max: allFrames.length - 1 }), { minLength: 1, maxLength: 6 }),
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 40 }),
        (picks, sizes) => {
          const frames = picks.map((i) => allFrames[i]!);
          const stream = Buffer.concat(frames);
          const chunks: Buffer[] = [];
          for (let at = 0, i = 0; at < stream.length; i++) {
            const size = sizes[i % sizes.length]!;
            chunks.push(stream.subarray(at, at + size));
            at += size;
          }
          return sameFrames(split(chunks), frames);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('ignores empty chunks', () => {
    const frame = golden[0]!;
    expect(
      split([new Uint8Array(0), frame.subarray(0, 3), new Uint8Array(0), frame.subarray(3)]),
    ).toEqual([frame]);
  });

  it('holds a partial header and reports it as buffered, then completes it', () => {
    const frame = Buffer.concat(pykmip[0]!.frames.slice(0, 1));
    const splitter = new FrameSplitter();
    expect(splitter.push(frame.subarray(0, 3))).toEqual([]);
    expect(splitter.buffered).toBe(3);
    expect(splitter.push(frame.subarray(3, 7))).toEqual([]);
    expect(splitter.buffered).toBe(7);
    expect(splitter.push(frame.subarray(7, 20))).toEqual([]);
    expect(splitter.buffered).toBe(20);
    const [out, ...rest] = splitter.push(frame.subarray(20));
    expect(rest).toEqual([]);
    expect(out?.equals(frame)).toBe(true);
    expect(splitter.buffered).toBe(0);
  });

  it('accepts a message of exactly maxMessageBytes', () => {
    const frame = golden.find((f) => f.length === 24)!;
    expect(split([frame], { maxMessageBytes: 24 })).toEqual([frame]);
  });

  describe('declared length above the cap', () => {
    // Request Message header declaring 4 GiB - 1 (a Structure's length counts its whole body).
    const huge = parsePrettyHex('420078 | 01 | ffffffff');

    it('throws Invalid Message from the header alone, holding nothing', () => {
      const splitter = new FrameSplitter();
      const error = pushError(splitter, Buffer.concat([huge, Buffer.alloc(64)]));
      expect(error.reason).toBe(ResultReason.InvalidMessage);
    });

    it('throws as soon as a header split over several chunks is complete', () => {
      const splitter = new FrameSplitter();
      expect(splitter.push(huge.subarray(0, 5))).toEqual([]);
      const error = pushError(splitter, huge.subarray(5));
      expect(error.reason).toBe(ResultReason.InvalidMessage);
      expect(splitter.buffered).toBeLessThanOrEqual(8);
    });

    it('throws for a header after complete frames in the same chunk', () => {
      const splitter = new FrameSplitter();
      const error = pushError(splitter, Buffer.concat([golden[0]!, golden[1]!, huge]));
      expect(error.reason).toBe(ResultReason.InvalidMessage);
    });

    it('throws for one byte over a configured cap', () => {
      const frame = golden.find((f) => f.length === 24)!;
      const error = pushError(new FrameSplitter({ maxMessageBytes: 23 }), frame.subarray(0, 8));
      expect(error.reason).toBe(ResultReason.InvalidMessage);
    });

    it('does not allocate what the header claims', () => {
      const before = process.memoryUsage().arrayBuffers;
      for (let i = 0; i < 100; i++) pushError(new FrameSplitter(), huge);
      expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(4 * 1024 * 1024);
    });

    // Regression (B2): padding computed with 32-bit bit operations wrapped 0xffffffff to 0,
    // so this 8-byte header was emitted as a complete frame.
    it('throws for a primitive-typed header declaring 4 GiB - 1', () => {
      const error = pushError(new FrameSplitter(), parsePrettyHex('420020 | 08 | ffffffff'));
      expect(error.reason).toBe(ResultReason.InvalidMessage);
    });

    // Regression (B2): 0x80000000 padded to -2^31 and push() threw a RangeError.
    it('throws Invalid Message for a primitive-typed header declaring 2 GiB', () => {
      const bytes = parsePrettyHex('420020 | 08 | 80000000 | 00000000 00000000');
      const error = pushError(new FrameSplitter(), bytes);
      expect(error.reason).toBe(ResultReason.InvalidMessage);
    });
  });

  // Found B2; shrunk counterexample: chunks [00 00] [00 00 80 00 00 00], cap 8 (a header split
  // over two chunks declaring 2 GiB made Buffer.concat get a negative length).
  it('throws nothing but KmipError for arbitrary byte streams', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 8 }),
        fc.integer({ min: 8, max: 4096 }),
        (chunks, max) => {
          const splitter = new FrameSplitter({ maxMessageBytes: max });
          try {
            for (const c of chunks) splitter.push(c);
          } catch (e) {
            if (!(e instanceof KmipError)) throw e;
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
