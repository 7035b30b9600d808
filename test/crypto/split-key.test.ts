// Split Key arithmetic (KMIP 1.4 §2.2.5): Shamir sharing over GF(2^8) mod 0x11D and XOR. The
// fixed shares come from the OASIS KMIP 1.4 test cases TC-SJ-3-14 (polynomial, 4 parts,
// threshold 2) and TC-SJ-4-14 (XOR, 4 parts); both join to 0102…0f10.

import { describe, expect, it } from 'vitest';
import {
  gfMul,
  joinGf256,
  joinXor,
  type Share,
  splitGf256,
  splitXor,
} from '../../src/crypto/split-key.js';

const hex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));
const show = (b: Uint8Array) => Buffer.from(b).toString('hex');
const KEY = '0102030405060708090a0b0c0d0e0f10';

const TC_SJ_3: Share[] = [
  { id: 1, value: hex('66C46A7754F94DE420C7B1A7FFF5EC56') },
  { id: 2, value: hex('CF93D1E2A7E593CD5B8D6247F4E5D49C') },
  { id: 3, value: hex('A855B891F61AD9217240D8EC061E37DA') },
  { id: 4, value: hex('803DBAD55CDD329FAD19D99AE2C5A415') },
];

const TC_SJ_4: Share[] = [
  'd4b92c299199298e30dee13b967e6dda',
  '35ea4f615686230c7b11538693674e89',
  '3478ddd2e1f89f2005011d26d9fff37c',
  'd429bd9e23e192aa47c4a497d1e8df3f',
].map((h, i) => ({ id: i + 1, value: hex(h) }));

function subsets<T>(list: readonly T[], size: number): T[][] {
  if (size === 0) return [[]];
  return list.flatMap((x, i) => subsets(list.slice(i + 1), size - 1).map((rest) => [x, ...rest]));
}

describe('GF(2^8) modulo x^8 + x^4 + x^3 + x^2 + 1', () => {
  it('reduces by 0x11D', () => {
    expect(gfMul(0x80, 2)).toBe(0x1d);
    expect(gfMul(0x02, 0x03)).toBe(0x06);
    expect(gfMul(0, 0x57)).toBe(0);
    for (let a = 1; a < 256; a++) expect(gfMul(a, 1)).toBe(a);
  });
});

describe('polynomial sharing', () => {
  it('joins every pair of the TC-SJ-3-14 shares to the key', () => {
    for (const pair of subsets(TC_SJ_3, 2)) expect(show(joinGf256(pair))).toBe(KEY);
  });

  it('joins more shares than the threshold to the same key', () => {
    expect(show(joinGf256(TC_SJ_3))).toBe(KEY);
  });

  it('gives a wrong value, not the key, from fewer shares than the threshold', () => {
    expect(show(joinGf256([TC_SJ_3[1]!]))).not.toBe(KEY);
  });

  it('splits so that any threshold parts and no fewer give the secret back', () => {
    const secret = hex('00ff10203040506070809aabbccddeef');
    const shares = splitGf256(secret, 5, 3);
    expect(shares.map((s) => s.id)).toEqual([1, 2, 3, 4, 5]);
    for (const three of subsets(shares, 3)) expect(show(joinGf256(three))).toBe(show(secret));
    for (const two of subsets(shares, 2)) expect(show(joinGf256(two))).not.toBe(show(secret));
  });

  it('refuses impossible splits and malformed joins', () => {
    const secret = hex(KEY);
    expect(() => splitGf256(secret, 256, 2)).toThrow(RangeError);
    expect(() => splitGf256(secret, 3, 4)).toThrow(RangeError);
    expect(() => splitGf256(secret, 3, 1)).toThrow(RangeError);
    expect(() => joinGf256([TC_SJ_3[0]!, TC_SJ_3[0]!])).toThrow(/twice/);
    expect(() => joinGf256([TC_SJ_3[0]!, { id: 2, value: hex('00') }])).toThrow(/length/);
    expect(() => joinGf256([])).toThrow(/no key parts/);
  });
});

describe('XOR splitting', () => {
  it('joins the TC-SJ-4-14 parts to the key', () => {
    expect(show(joinXor(TC_SJ_4))).toBe(KEY);
  });

  it('needs every part', () => {
    const shares = splitXor(hex(KEY), 4);
    expect(show(joinXor(shares))).toBe(KEY);
    expect(show(joinXor(shares.slice(1)))).not.toBe(KEY);
  });
});
