// A latency histogram in the manner of HdrHistogram: integer microseconds, exact below 256 µs,
// then 128 linear sub-buckets per power of two, so any recorded value is known to within 1/128
// (0.8%) whatever its magnitude, in a fixed array of a few thousand counters. Recording is
// O(1) with no allocation, which matters when every request of a load run is recorded on the
// thread that also drives the TLS sockets.

/** Linear sub-buckets per power of two: 2^7 = 128, a relative error of at most 1/128. */
const SUB_BITS = 7;
const SUB_COUNT = 1 << SUB_BITS;
/** Values below this are counted one bucket per microsecond. */
const EXACT_BELOW = SUB_COUNT * 2;
/** Largest trackable value: 2^36 µs is about 19 hours; longer waits are clamped to it. */
const MAX_BITS = 36;
const MAX_VALUE = 2 ** MAX_BITS - 1;
const BUCKETS = EXACT_BELOW + (MAX_BITS - SUB_BITS - 1) * SUB_COUNT;

function indexOf(value: number): number {
  if (value < EXACT_BELOW) return value;
  let shift = Math.floor(Math.log2(value)) - SUB_BITS;
  // log2 of 2^k - 1 can round up to k for large k.
  if (Math.floor(value / 2 ** shift) < SUB_COUNT) shift -= 1;
  const sub = Math.floor(value / 2 ** shift);
  return EXACT_BELOW + (shift - 1) * SUB_COUNT + (sub - SUB_COUNT);
}

/** The largest value that falls in bucket `index` (HdrHistogram's highest equivalent value). */
function highestIn(index: number): number {
  if (index < EXACT_BELOW) return index;
  const shift = Math.floor((index - EXACT_BELOW) / SUB_COUNT) + 1;
  const sub = ((index - EXACT_BELOW) % SUB_COUNT) + SUB_COUNT;
  return (sub + 1) * 2 ** shift - 1;
}

export class LatencyHistogram {
  private readonly counts = new Float64Array(BUCKETS);
  private total = 0;
  private sum = 0;
  private minValue = Number.POSITIVE_INFINITY;
  private maxValue = 0;

  /** Records one latency in microseconds (rounded; negative values count as 0). */
  record(micros: number): void {
    const v = Math.min(MAX_VALUE, Math.max(0, Math.round(micros)));
    this.counts[indexOf(v)]! += 1;
    this.total += 1;
    this.sum += v;
    if (v < this.minValue) this.minValue = v;
    if (v > this.maxValue) this.maxValue = v;
  }

  get count(): number {
    return this.total;
  }

  /** Exact, not bucketed. */
  get max(): number {
    return this.maxValue;
  }

  get min(): number {
    return this.total === 0 ? 0 : this.minValue;
  }

  get mean(): number {
    return this.total === 0 ? 0 : this.sum / this.total;
  }

  /**
   * The value at percentile `p` (0-100) by nearest rank: the smallest recorded value with at
   * least ceil(p% of count) values at or below it, reported as its bucket's highest value and
   * never above the exact maximum. 0 when nothing was recorded.
   */
  percentile(p: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil((Math.min(100, Math.max(0, p)) / 100) * this.total));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(highestIn(i), this.maxValue);
    }
    return this.maxValue;
  }

  /** Adds every value recorded in `other`. */
  add(other: LatencyHistogram): void {
    for (let i = 0; i < BUCKETS; i++) this.counts[i]! += other.counts[i]!;
    this.total += other.total;
    this.sum += other.sum;
    if (other.total > 0) {
      this.minValue = Math.min(this.minValue, other.minValue);
      this.maxValue = Math.max(this.maxValue, other.maxValue);
    }
  }
}
