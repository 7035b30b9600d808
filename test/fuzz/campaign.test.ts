// The bounded fuzz campaign CI runs: 100,000 frames from the spec-driven generator and the
// byte mutator of captured PyKMIP requests, pipelined over mutual TLS to a real kmipd child.
// After every batch (and every connection the server closed) a fresh connection must still get
// a Discover Versions answer. `npm run fuzz` runs longer campaigns with any seed.

import { describe, expect, it } from 'vitest';
import { fuzzOnce } from './harness.js';

const FRAMES = 100_000;

describe('fuzz campaign', () => {
  it(`survives ${FRAMES.toLocaleString('en')} generated and mutated frames`, async () => {
    const run = await fuzzOnce({ frames: FRAMES, seed: 0x6b6d6970, connections: 2 });
    const { stats } = run;
    expect(stats.findings.map((f) => `${f.kind}: ${f.detail}`)).toEqual([]);
    // Oversize frames are sent one per connection at most, so a few are skipped.
    expect(stats.frames).toBeGreaterThan(FRAMES * 0.97);
    expect(stats.probes).toBe(stats.connections);
    // Unexpected errors would be answered as General Failure and logged: none may occur.
    expect(run.errors).toEqual([]);
  }, 600_000);
});
