// Deterministic Unique Identifiers for test fixtures (`kmipd serve --deterministic-ids`), so
// that a test suite can name the objects it will get before it creates them:
//   counter       00000001, 00000002, ... (eight decimal digits, then wider)
//   uuid:SEED     a UUID-shaped sequence: SHA-256(SEED ":" n) with the version 4 and variant
//                 bits set, the same for the same seed on every run
// The sequence restarts with the process, so it is only allowed with an in-memory store.

import { createHash } from 'node:crypto';

export type UidGenerator = () => string;

export function parseUidSequence(spec: string): UidGenerator {
  const s = spec.trim();
  if (s === '' || s === 'counter' || s === 'true') {
    let n = 0;
    return () => String(++n).padStart(8, '0');
  }
  if (s.startsWith('uuid:') && s.length > 5) {
    const seed = s.slice(5);
    let n = 0;
    return () => seededUuid(seed, ++n);
  }
  throw new Error(`--deterministic-ids must be 'counter' or 'uuid:SEED', got '${spec}'`);
}

export function seededUuid(seed: string, n: number): string {
  const b = createHash('sha256').update(`${seed}:${n}`).digest().subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
