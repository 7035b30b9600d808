// Unique Identifiers of new objects: UUID version 7 (RFC 9562 §5.7), 48 bits of Unix time in
// milliseconds, then 74 random bits. Identifiers made later sort later, so every index keyed on
// them (objects.uid, the KEK-rotation index, the Unique Identifier index entry) grows at its end
// instead of dirtying a random leaf page per Create; the random bits keep them unguessable.
// Clients treat identifiers as opaque text (KMIP 2.1 §4.44). The creation time they show is the
// object's Initial Date, which its owner can read anyway.

import { randomFillSync } from 'node:crypto';

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Random bytes for 256 identifiers at a time: one call into the CSPRNG instead of 256. */
const POOL = Buffer.alloc(16 * 256);
let used = POOL.length;

/** A fresh UUIDv7 in the canonical 8-4-4-4-12 lower-case form. */
export function timeOrderedUid(nowMs: number = Date.now()): string {
  if (used === POOL.length) {
    randomFillSync(POOL);
    used = 0;
  }
  const b = Buffer.from(POOL.subarray(used, used + 16));
  POOL.fill(0, used, used + 16);
  used += 16;
  b.writeUIntBE(nowMs, 0, 6);
  b[6] = 0x70 | (b[6]! & 0x0f);
  b[8] = 0x80 | (b[8]! & 0x3f);
  let s = '';
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) s += '-';
    s += HEX[b[i]!];
  }
  return s;
}
