// Byte-level mutator over captured real requests (fixtures/pykmip): bit flips, random bytes,
// 32-bit fields set to edge values at item-header and value positions, 8-byte blocks inserted,
// deleted or repeated. The outer header is then made whole again so the mutated frame can be
// pipelined; what is broken inside stays broken.

import { reframe } from './raw-ttlv.js';
import { INTERESTING_U32, type Rng } from './rng.js';

export interface CorpusEntry {
  name: string;
  bytes: Buffer;
  /** Relative chance of being drawn. */
  weight: number;
}

export class Corpus {
  private readonly total: number;

  constructor(readonly entries: readonly CorpusEntry[]) {
    this.total = entries.reduce((s, e) => s + e.weight, 0);
  }

  pick(rng: Rng): CorpusEntry {
    let r = (rng.u32() / 0x1_0000_0000) * this.total;
    for (const e of this.entries) {
      r -= e.weight;
      if (r < 0) return e;
    }
    return this.entries[this.entries.length - 1]!;
  }
}

function mutateOnce(rng: Rng, b: Buffer): Buffer {
  if (b.length < 16) return Buffer.concat([b, rng.bytes(8)]);
  // Positions past the outer header, aligned to the 8-byte item grid.
  const block = 1 + rng.int(b.length / 8 - 1);
  const at = block * 8;
  switch (rng.int(8)) {
    case 0: {
      const i = 8 + rng.int(b.length - 8);
      b[i]! ^= 1 << rng.int(8);
      return b;
    }
    case 1:
      b[8 + rng.int(b.length - 8)] = rng.int(256);
      return b;
    case 2: // an item's length field
      b.writeUInt32BE(rng.pick(INTERESTING_U32), at + 4 <= b.length - 4 ? at + 4 : 4);
      return b;
    case 3: {
      // an item's length off by one
      const off = at + 4 <= b.length - 4 ? at + 4 : 4;
      b.writeUInt32BE((b.readUInt32BE(off) + (rng.chance(0.5) ? 1 : -1)) >>> 0, off);
      return b;
    }
    case 4: // an item's type byte
      b[at + 3 < b.length ? at + 3 : 3] = rng.int(14);
      return b;
    case 5: // delete 8 bytes
      return Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 8))]);
    case 6: // repeat a block (more items than declared, or a repeated child)
      return Buffer.concat([
        b.subarray(0, at),
        b.subarray(at, Math.min(b.length, at + 8 * (1 + rng.int(6)))),
        b.subarray(at),
      ]);
    default:
      return Buffer.concat([b.subarray(0, at), rng.bytes(8), b.subarray(at)]);
  }
}

export function mutateFixture(rng: Rng, corpus: Corpus): { frame: Buffer; kind: string } {
  const entry = corpus.pick(rng);
  let b: Buffer = Buffer.from(entry.bytes);
  const n = rng.chance(0.1) ? 0 : 1 + rng.int(4);
  for (let i = 0; i < n; i++) b = mutateOnce(rng, b);
  return { frame: reframe(b), kind: `fixture:${entry.name}` };
}
