// New objects' Unique Identifiers: UUIDv7 (RFC 9562), ordered by creation time, random within.

import { describe, expect, it } from 'vitest';
import { timeOrderedUid } from '../../src/objects/uid.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('timeOrderedUid', () => {
  it('is a version 7, variant 10 UUID whose first 48 bits are the time in ms', () => {
    const ms = Date.UTC(2026, 10, 23, 18, 0, 0, 123);
    const uid = timeOrderedUid(ms);
    expect(uid).toMatch(UUID_V7);
    expect(Number.parseInt(uid.replaceAll('-', '').slice(0, 12), 16)).toBe(ms);
  });

  it('sorts later identifiers after earlier ones, as text', () => {
    const times = [1, 255, 256, 65_536, 1_700_000_000_000, 1_800_000_000_000, 2 ** 48 - 1];
    const uids = times.map((t) => timeOrderedUid(t));
    expect([...uids].sort()).toEqual(uids);
  });

  it('differs in its random bits within one millisecond', () => {
    const uids = new Set(Array.from({ length: 10_000 }, () => timeOrderedUid(1_800_000_000_000)));
    expect(uids.size).toBe(10_000);
    for (const u of uids) expect(u).toMatch(UUID_V7);
  });
});
