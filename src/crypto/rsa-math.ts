// RSA number theory for Transparent RSA Private Keys that carry only n, e and d
// (KMIP 1.4 §2.1.7.6): factoring n and the CRT coefficients.

import { invalidField } from '../errors.js';

/** Moduli above this are refused: each trial is a full modular exponentiation on client-sent numbers. */
const MAX_MODULUS_BITS = 16384;

/**
 * Factors n from (n, e, d) by the method of NIST SP 800-56B Rev. 2 Appendix C.2, trying small
 * bases in turn instead of random ones.
 */
export function rsaRecoverPrimes(n: bigint, e: bigint, d: bigint): [bigint, bigint] {
  if (n.toString(2).length > MAX_MODULUS_BITS) throw invalidField('RSA modulus is too large');
  const k = d * e - 1n;
  if (k <= 0n || k % 2n !== 0n) throw invalidField('RSA exponents do not match the modulus');
  let t = k;
  while (t % 2n === 0n) t /= 2n;
  for (let g = 2n; g < 200n; g++) {
    let x = modPow(g, t, n);
    if (x === 1n || x === n - 1n) continue;
    for (let r = k; r % 2n === 0n; r /= 2n) {
      const y = (x * x) % n;
      if (y === 1n) {
        const p = gcd(x - 1n, n);
        if (p > 1n && p < n) {
          const q = n / p;
          return p > q ? [p, q] : [q, p];
        }
        break;
      }
      if (y === n - 1n) break;
      x = y;
    }
  }
  throw invalidField('RSA exponents do not match the modulus');
}

function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let b = base % modulus;
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % modulus;
    b = (b * b) % modulus;
  }
  return result;
}

function gcd(a: bigint, b: bigint): bigint {
  let [x, y] = [a < 0n ? -a : a, b];
  while (y) [x, y] = [y, x % y];
  return x;
}

export function modInverse(a: bigint, m: bigint): bigint {
  let [oldR, r] = [((a % m) + m) % m, m];
  let [oldS, s] = [1n, 0n];
  while (r) {
    const quotient = oldR / r;
    [oldR, r] = [r, oldR - quotient * r];
    [oldS, s] = [s, oldS - quotient * s];
  }
  if (oldR !== 1n) throw invalidField('RSA primes are not coprime');
  return ((oldS % m) + m) % m;
}
