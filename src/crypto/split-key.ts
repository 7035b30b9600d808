// Split Key arithmetic (KMIP 1.4 §2.2.5, KMIP 2.1 §2.2.5 Split Key): XOR splitting, where every
// part is needed, and Shamir polynomial sharing over GF(2^8), where any Split Key Threshold
// parts give the key back. GF(2^8) is taken modulo the irreducible polynomial
// x^8 + x^4 + x^3 + x^2 + 1 (0x11D) that the specification names; a part's Key Part Identifier
// is its x-coordinate and the key is the polynomial's value at x = 0, byte by byte.
// Shares of TC-SJ-2-14 and TC-SJ-3-14 (KMIP Test Cases 1.4) join to their key under this field.

import { randomBytes } from 'node:crypto';

/** x-coordinates are the non-zero field elements, so GF(2^8) allows at most 255 parts. */
export const MAX_GF256_PARTS = 255;

const EXP = new Uint8Array(510);
const LOG = new Uint8Array(256);
{
  // 2 generates the multiplicative group of GF(2^8) mod 0x11D.
  let x = 1;
  for (let i = 0; i < 255; i++) {
    EXP[i] = x;
    LOG[x] = i;
    x <<= 1;
    if (x & 0x100) x ^= 0x11d;
  }
  for (let i = 255; i < 510; i++) EXP[i] = EXP[i - 255]!;
}

export function gfMul(a: number, b: number): number {
  if (a === 0 || b === 0) return 0;
  return EXP[LOG[a]! + LOG[b]!]!;
}

function gfDiv(a: number, b: number): number {
  if (b === 0) throw new RangeError('division by zero in GF(2^8)');
  if (a === 0) return 0;
  return EXP[LOG[a]! + 255 - LOG[b]!]!;
}

export interface Share {
  /** Key Part Identifier: 1..255 for polynomial sharing, 1..n for XOR. */
  id: number;
  value: Uint8Array;
}

/**
 * Shamir sharing over GF(2^8): each byte of the secret is the constant term of its own random
 * polynomial of degree threshold − 1; part i holds the polynomials' values at x = i.
 */
export function splitGf256(secret: Uint8Array, parts: number, threshold: number): Share[] {
  if (!Number.isInteger(parts) || parts < 2 || parts > MAX_GF256_PARTS) {
    throw new RangeError(`split key parts must be 2..${MAX_GF256_PARTS}`);
  }
  if (!Number.isInteger(threshold) || threshold < 2 || threshold > parts) {
    throw new RangeError('split key threshold must be 2..parts');
  }
  const coefficients = randomBytes(secret.length * (threshold - 1));
  const shares: Share[] = [];
  for (let x = 1; x <= parts; x++) {
    const value = new Uint8Array(secret.length);
    for (let b = 0; b < secret.length; b++) {
      // Horner's rule from the highest coefficient down to the secret byte.
      let y = 0;
      for (let k = threshold - 2; k >= 0; k--) {
        y = gfMul(y, x) ^ coefficients[b * (threshold - 1) + k]!;
      }
      value[b] = gfMul(y, x) ^ secret[b]!;
    }
    shares.push({ id: x, value });
  }
  coefficients.fill(0);
  return shares;
}

/**
 * Lagrange interpolation at x = 0. With fewer shares than the threshold the result is a wrong
 * key, not an error, so the caller checks the count against the parts' threshold first.
 */
export function joinGf256(shares: readonly Share[]): Uint8Array {
  const length = checkShares(shares);
  const out = new Uint8Array(length);
  for (const [i, si] of shares.entries()) {
    if (si.id < 1 || si.id > MAX_GF256_PARTS)
      throw new RangeError('key part identifier out of range');
    // l_i(0) = Π_{j≠i} x_j / (x_j − x_i); subtraction is XOR in GF(2^8).
    let basis = 1;
    for (const [j, sj] of shares.entries()) {
      if (j !== i) basis = gfMul(basis, gfDiv(sj.id, sj.id ^ si.id));
    }
    for (let b = 0; b < length; b++) out[b]! ^= gfMul(si.value[b]!, basis);
  }
  return out;
}

/** XOR splitting: parts − 1 random values and one that XORs with them to the secret. */
export function splitXor(secret: Uint8Array, parts: number): Share[] {
  if (!Number.isInteger(parts) || parts < 2 || parts > MAX_GF256_PARTS) {
    throw new RangeError(`split key parts must be 2..${MAX_GF256_PARTS}`);
  }
  const last = Uint8Array.from(secret);
  const shares: Share[] = [];
  for (let id = 1; id < parts; id++) {
    const value = new Uint8Array(randomBytes(secret.length));
    for (let b = 0; b < last.length; b++) last[b]! ^= value[b]!;
    shares.push({ id, value });
  }
  shares.push({ id: parts, value: last });
  return shares;
}

export function joinXor(shares: readonly Share[]): Uint8Array {
  const out = new Uint8Array(checkShares(shares));
  for (const s of shares) for (let b = 0; b < out.length; b++) out[b]! ^= s.value[b]!;
  return out;
}

/** Shares must be distinct parts of equal length; returns that length. */
function checkShares(shares: readonly Share[]): number {
  const first = shares[0];
  if (first === undefined) throw new RangeError('no key parts');
  const ids = new Set(shares.map((s) => s.id));
  if (ids.size !== shares.length) throw new RangeError('a key part was given twice');
  if (shares.some((s) => s.value.length !== first.value.length)) {
    throw new RangeError('key parts differ in length');
  }
  return first.value.length;
}
