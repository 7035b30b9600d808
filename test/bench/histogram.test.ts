import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from '../../src/bench/histogram.js';

function of(values: number[]): LatencyHistogram {
  const h = new LatencyHistogram();
  for (const v of values) h.record(v);
  return h;
}

describe('LatencyHistogram', () => {
  it('reports zeros when nothing was recorded', () => {
    const h = new LatencyHistogram();
    expect([h.count, h.percentile(50), h.percentile(99), h.max, h.min, h.mean]).toEqual([
      0, 0, 0, 0, 0, 0,
    ]);
  });

  it('gives nearest-rank percentiles of 1..100 exactly (values below 256 µs are exact)', () => {
    const h = of(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(h.percentile(50)).toBe(50);
    expect(h.percentile(90)).toBe(90);
    expect(h.percentile(99)).toBe(99);
    expect(h.percentile(100)).toBe(100);
    expect(h.percentile(0)).toBe(1);
    expect(h.max).toBe(100);
    expect(h.min).toBe(1);
    expect(h.mean).toBe(50.5);
  });

  it('takes the rank as ceil(p% of count)', () => {
    const h = of([4, 1, 3, 2]);
    expect(h.percentile(25)).toBe(1);
    expect(h.percentile(50)).toBe(2);
    expect(h.percentile(75)).toBe(3);
    expect(h.percentile(75.1)).toBe(4);
  });

  it('does not depend on the order values arrive in', () => {
    const values = Array.from({ length: 1000 }, (_, i) => (i * 7919) % 5000);
    const sorted = [...values].sort((a, b) => a - b);
    const a = of(values);
    const b = of(sorted);
    for (const p of [1, 50, 90, 99, 99.9]) expect(a.percentile(p)).toBe(b.percentile(p));
  });

  it('keeps every value within 1/128 above its true value, at any magnitude', () => {
    for (let v = 1; v < 2 ** 35; v = Math.ceil(v * 1.37) + 1) {
      // One small value and one huge one: the 50th percentile is the small value's bucket.
      const h = of([v, 2 ** 35]);
      const p = h.percentile(50);
      expect(p).toBeGreaterThanOrEqual(v);
      expect(p).toBeLessThanOrEqual(v + v / 128);
    }
  });

  it('is exact at the buckets edges (powers of two and one below)', () => {
    for (let k = 8; k < 35; k++) {
      for (const v of [2 ** k - 1, 2 ** k]) {
        const p = of([v, 2 ** 35]).percentile(50);
        expect(p).toBeGreaterThanOrEqual(v);
        expect(p).toBeLessThanOrEqual(v + v / 128);
      }
    }
  });

  it('reports p99 of a long tail from the body and p100 as the exact maximum', () => {
    const h = of([...Array<number>(99).fill(10_000), 1_234_567]);
    expect(h.percentile(50)).toBeGreaterThanOrEqual(10_000);
    expect(h.percentile(99)).toBeLessThanOrEqual(10_000 + 10_000 / 128);
    expect(h.percentile(100)).toBe(1_234_567);
    expect(h.max).toBe(1_234_567);
  });

  it('rounds fractional microseconds, clamps negatives to 0 and absurd waits to the cap', () => {
    const h = of([2.4, 2.6, -5]);
    expect([h.percentile(0), h.percentile(50), h.percentile(100)]).toEqual([0, 2, 3]);
    const big = of([1e15]);
    expect(big.max).toBe(2 ** 36 - 1);
  });

  it('adds another histogram as if its values had been recorded here', () => {
    const a = of([1, 2, 3]);
    a.add(of([100, 200]));
    const all = of([1, 2, 3, 100, 200]);
    expect(a.count).toBe(5);
    expect(a.max).toBe(200);
    expect(a.min).toBe(1);
    for (const p of [20, 40, 60, 80, 100]) expect(a.percentile(p)).toBe(all.percentile(p));
  });
});
