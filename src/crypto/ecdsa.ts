// ECDSA over a digest the client computed (KMIP 2.1 §6.1.51 Sign and §6.1.52 Signature Verify
// with Digested Data). node:crypto (Node 20) always hashes what it signs, so the ECDSA steps
// around the hash are done here (SEC 1 v2 §4.1.3 signing, §4.1.4 verification), with the
// nonce of RFC 6979 §3.2. The secret scalar multiplication k·G stays in OpenSSL (ECDH with k
// as the private key); the variable-time inversion of k and the product with the private
// scalar are blinded. Verification uses public values only. The curve constants are checked
// in the tests against node:crypto.

import { createECDH, createHmac, createPublicKey, type KeyObject, randomBytes } from 'node:crypto';
import * as asn1js from 'asn1js';
import { invalidField } from '../errors.js';
import {
  bigintToBytes,
  bytesToBigint,
  decodeDer,
  encodeDer,
  encodeUnsigned,
  guardDer,
  sequence,
  unsignedInteger,
} from './der.js';
import { ecPrivateFromPkcs8, ecPublicFromSpki } from './key-formats.js';
import { type CurveInfo, type CurveName, curveByName } from './oids.js';
import { modInverse } from './rsa-math.js';

/** Field prime p, coefficient a and group order n (SEC 2 v2 §2.4.1, §2.5.2; FIPS 186-4 D.1.2). */
interface Domain {
  p: bigint;
  a: bigint;
  n: bigint;
}

const DOMAINS: Readonly<Record<CurveName, Domain>> = {
  P_192: {
    p: 2n ** 192n - 2n ** 64n - 1n,
    a: -3n,
    n: 0xffffffffffffffffffffffff99def836146bc9b1b4d22831n,
  },
  P_224: {
    p: 2n ** 224n - 2n ** 96n + 1n,
    a: -3n,
    n: 0xffffffffffffffffffffffffffff16a2e0b8f03e13dd29455c5c2a3dn,
  },
  P_256: {
    p: 2n ** 256n - 2n ** 224n + 2n ** 192n + 2n ** 96n - 1n,
    a: -3n,
    n: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
  },
  P_384: {
    p: 2n ** 384n - 2n ** 128n - 2n ** 96n + 2n ** 32n - 1n,
    a: -3n,
    n: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
  },
  P_521: {
    p: 2n ** 521n - 1n,
    a: -3n,
    n: 0x01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409n,
  },
  SECP256K1: {
    p: 2n ** 256n - 2n ** 32n - 977n,
    a: 0n,
    n: 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n,
  },
};

/** The order n of a curve's base point. */
export function curveOrder(name: CurveName): bigint {
  return DOMAINS[name].n;
}

interface Curve {
  info: CurveInfo;
  domain: Domain;
  /** Bit length of n (qlen in RFC 6979 §2.3.1). */
  qlen: number;
  /** Byte length of n (rlen in RFC 6979 §2.3.3). */
  rlen: number;
}

function curveOf(name: string | undefined): Curve {
  const info = name === undefined ? undefined : curveByName(name);
  if (!info) throw invalidField(`ECDSA on curve ${name ?? 'unknown'} is not supported`);
  const domain = DOMAINS[info.name];
  const qlen = domain.n.toString(2).length;
  return { info, domain, qlen, rlen: Math.ceil(qlen / 8) };
}

const mod = (x: bigint, m: bigint) => ((x % m) + m) % m;

/** bits2int (RFC 6979 §2.3.2, SEC 1 §4.1.3 step 5): the leftmost qlen bits of a digest. */
function bits2int(bytes: Uint8Array, qlen: number): bigint {
  const value = bytesToBigint(bytes);
  const blen = bytes.length * 8;
  return blen > qlen ? value >> BigInt(blen - qlen) : value;
}

/** The scalar multiple k·G, computed by OpenSSL as the public key of private key k. */
function baseMultiple(curve: Curve, k: bigint): Point {
  const ecdh = createECDH(curve.info.nodeName);
  ecdh.setPrivateKey(bigintToBytes(k, curve.rlen));
  return decodePoint(ecdh.getPublicKey(), curve);
}

/** Nonces from HMAC_DRBG as RFC 6979 §3.2 steps b-h, the next one per call. */
function rfc6979Nonces(curve: Curve, x: bigint, digest: Uint8Array, hash: string): () => bigint {
  const { n } = curve.domain;
  const hmac = (key: Buffer, ...parts: Buffer[]) =>
    createHmac(hash, key).update(Buffer.concat(parts)).digest();
  const seed = Buffer.concat([
    bigintToBytes(x, curve.rlen),
    bigintToBytes(mod(bits2int(digest, curve.qlen), n), curve.rlen),
  ]);
  const hlen = hmac(Buffer.alloc(0)).length;
  let v = Buffer.alloc(hlen, 0x01);
  let k = Buffer.alloc(hlen, 0x00);
  k = hmac(k, v, Buffer.of(0x00), seed);
  v = hmac(k, v);
  k = hmac(k, v, Buffer.of(0x01), seed);
  v = hmac(k, v);
  let first = true;
  return () => {
    for (;;) {
      if (!first) {
        k = hmac(k, v, Buffer.of(0x00));
        v = hmac(k, v);
      }
      first = false;
      const t: Buffer[] = [];
      for (let tlen = 0; tlen < curve.qlen; tlen += hlen * 8) {
        v = hmac(k, v);
        t.push(v);
      }
      const candidate = bits2int(Buffer.concat(t), curve.qlen);
      if (candidate >= 1n && candidate < n) return candidate;
    }
  };
}

/**
 * Signs a digest with an EC private key (SEC 1 §4.1.3), returning the DER ECDSA-Sig-Value
 * (RFC 3279 §2.2.3). `hash` is the HMAC hash of the RFC 6979 nonce, normally the one that
 * made the digest. A digest longer than n is truncated to its leftmost bits, as in SEC 1.
 */
export function ecdsaSignDigest(privateKey: KeyObject, digest: Uint8Array, hash: string): Buffer {
  const der = privateKey.export({ format: 'der', type: 'pkcs8' });
  const { curve: name, d } = ecPrivateFromPkcs8(der);
  const curve = curveOf(name);
  const { n } = curve.domain;
  const e = mod(bits2int(digest, curve.qlen), n);
  const nextNonce = rfc6979Nonces(curve, d, digest, hash);
  for (;;) {
    const k = nextNonce();
    const r = mod(baseMultiple(curve, k).x, n);
    if (r === 0n) continue;
    // s = k⁻¹(e + r·d) mod n, with k⁻¹ taken as b·(k·b)⁻¹ for a random b so that the
    // variable-time inversion sees only a uniformly random value, and r·d as r·(d + m·n) for
    // a random m, so that BigInt's multiplication and reduction never see d itself.
    const b = randomScalar(curve);
    const kInverse = mod(b * modInverse(mod(k * b, n), n), n);
    const rd = mod(r * (d + randomScalar(curve) * n), n);
    const s = mod(kInverse * mod(e + rd, n), n);
    if (s === 0n) continue;
    return encodeDer(new asn1js.Sequence({ value: [encodeUnsigned(r), encodeUnsigned(s)] }));
  }
}

function randomScalar(curve: Curve): bigint {
  for (;;) {
    const b = bits2int(randomBytes(curve.rlen), curve.qlen);
    if (b >= 1n && b < curve.domain.n) return b;
  }
}

/**
 * Verifies a DER ECDSA-Sig-Value over a digest (SEC 1 §4.1.4). Malformed signatures and values
 * out of range are not valid; `key` may be a public or a private key. The point u₁·G + u₂·Q is
 * taken as u₂·(Q + (u₁/u₂)·G): both scalar multiplications run in OpenSSL (the second as ECDH
 * of u₂ with the point), and only one point addition is done here.
 */
export function ecdsaVerifyDigest(
  key: KeyObject,
  digest: Uint8Array,
  signature: Uint8Array,
): boolean {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  const spki = ecPublicFromSpki(publicKey.export({ format: 'der', type: 'spki' }));
  const curve = curveOf(spki.curve);
  const { n } = curve.domain;
  let r: bigint;
  let s: bigint;
  try {
    [r, s] = parseSignature(signature);
  } catch {
    return false;
  }
  if (r < 1n || r >= n || s < 1n || s >= n) return false;
  const e = mod(bits2int(digest, curve.qlen), n);
  const w = modInverse(s, n);
  const u1 = mod(e * w, n);
  const u2 = mod(r * w, n);
  const c = mod(u1 * modInverse(u2, n), n);
  const q = decodePoint(spki.q, curve);
  const sum = c === 0n ? q : addPoints(curve, q, baseMultiple(curve, c));
  if (sum === undefined) return false;
  const ecdh = createECDH(curve.info.nodeName);
  ecdh.setPrivateKey(bigintToBytes(u2, curve.rlen));
  const x = bytesToBigint(ecdh.computeSecret(encodePoint(curve, sum)));
  return mod(x, n) === r;
}

function parseSignature(signature: Uint8Array): [bigint, bigint] {
  return guardDer('ECDSA signature', () => {
    const fields = sequence(decodeDer(signature, 'ECDSA signature'), 'ECDSA signature');
    if (fields.length !== 2) throw invalidField('ECDSA signature: wrong field count');
    return [unsignedInteger(fields[0], 'ECDSA r'), unsignedInteger(fields[1], 'ECDSA s')];
  });
}

// ---------------------------------------------------------------------------------------------
// Affine points (SEC 1 §2.2.1), for the one addition of verification

interface Point {
  x: bigint;
  y: bigint;
}

/** An uncompressed SEC 1 §2.3.3 point; the key parsers have already checked it. */
function decodePoint(octets: Uint8Array, curve: Curve): Point {
  const size = Math.ceil(curve.info.bits / 8);
  if (octets[0] !== 0x04 || octets.length !== 1 + 2 * size) {
    throw invalidField('ECDSA needs an uncompressed public point');
  }
  return {
    x: bytesToBigint(octets.subarray(1, 1 + size)),
    y: bytesToBigint(octets.subarray(1 + size)),
  };
}

function encodePoint(curve: Curve, pt: Point): Buffer {
  const size = Math.ceil(curve.info.bits / 8);
  return Buffer.concat([Buffer.of(0x04), bigintToBytes(pt.x, size), bigintToBytes(pt.y, size)]);
}

/** u + v, or undefined for the point at infinity (v = −u). */
function addPoints(curve: Curve, u: Point, v: Point): Point | undefined {
  const { p, a } = curve.domain;
  let slope: bigint;
  if (u.x === v.x) {
    if (mod(u.y + v.y, p) === 0n) return undefined;
    slope = mod((3n * u.x * u.x + a) * modInverse(2n * u.y, p), p);
  } else {
    slope = mod((v.y - u.y) * modInverse(v.x - u.x, p), p);
  }
  const x = mod(slope * slope - u.x - v.x, p);
  return { x, y: mod(slope * (u.x - x) - u.y, p) };
}
