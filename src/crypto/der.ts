// Strict DER reading and writing helpers over asn1js (ITU-T X.690). Every malformed input
// becomes a KmipError Invalid Field; asn1js exceptions never escape.

import * as asn1js from 'asn1js';
import { invalidField, KmipError } from '../errors.js';

export type Asn1 = asn1js.AsnType;

/** Nesting cap for DER walked here: keys and certificates never nest deeper; a crafted blob could. */
const MAX_DER_DEPTH = 32;

/** Parses one DER value that spans all of `bytes`; trailing bytes and BER-only forms are rejected. */
export function decodeDer(bytes: Uint8Array, what: string): Asn1 {
  if (bytes.byteLength === 0) throw invalidField(`${what}: empty DER`);
  let parsed: ReturnType<typeof asn1js.fromBER>;
  try {
    parsed = asn1js.fromBER(bytes);
  } catch {
    throw invalidField(`${what}: malformed DER`);
  }
  if (parsed.offset === -1 || parsed.result.error) throw invalidField(`${what}: malformed DER`);
  if (parsed.offset !== bytes.byteLength) throw invalidField(`${what}: trailing bytes after DER`);
  assertDefiniteLengths(parsed.result, what, 0);
  return parsed.result;
}

function assertDefiniteLengths(node: Asn1, what: string, depth: number): void {
  if (depth > MAX_DER_DEPTH) throw invalidField(`${what}: DER nested too deeply`);
  if (node.lenBlock.isIndefiniteForm) throw invalidField(`${what}: indefinite length is not DER`);
  if (node.idBlock.isConstructed && node instanceof asn1js.Constructed) {
    for (const child of node.valueBlock.value) assertDefiniteLengths(child, what, depth + 1);
  }
}

/** Runs `fn` and turns anything but a KmipError into Invalid Field. */
export function guardDer<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof KmipError) throw err;
    throw invalidField(`${what}: malformed DER`);
  }
}

export function sequence(node: Asn1 | undefined, what: string): Asn1[] {
  if (!(node instanceof asn1js.Sequence)) throw invalidField(`${what}: expected SEQUENCE`);
  return node.valueBlock.value;
}

export function integer(node: Asn1 | undefined, what: string): asn1js.Integer {
  if (!(node instanceof asn1js.Integer)) throw invalidField(`${what}: expected INTEGER`);
  if (node.valueBlock.valueHexView.byteLength === 0) throw invalidField(`${what}: empty INTEGER`);
  return node;
}

/** A non-negative INTEGER as bigint. */
export function unsignedInteger(node: Asn1 | undefined, what: string): bigint {
  const value = integer(node, what).toBigInt();
  if (value < 0n) throw invalidField(`${what}: negative INTEGER`);
  return value;
}

/** A small non-negative INTEGER such as a version field. */
export function smallInteger(node: Asn1 | undefined, what: string): number {
  const value = unsignedInteger(node, what);
  if (value > 0xffffn) throw invalidField(`${what}: INTEGER out of range`);
  return Number(value);
}

export function objectIdentifier(node: Asn1 | undefined, what: string): string {
  if (!(node instanceof asn1js.ObjectIdentifier)) {
    throw invalidField(`${what}: expected OBJECT IDENTIFIER`);
  }
  return node.valueBlock.toString();
}

export function octetString(node: Asn1 | undefined, what: string): Buffer {
  if (!(node instanceof asn1js.OctetString) || node.idBlock.isConstructed) {
    throw invalidField(`${what}: expected OCTET STRING`);
  }
  return Buffer.from(node.valueBlock.valueHexView);
}

/** A BIT STRING holding whole octets (keys, signatures). */
export function bitStringOctets(node: Asn1 | undefined, what: string): Buffer {
  if (!(node instanceof asn1js.BitString) || node.idBlock.isConstructed) {
    throw invalidField(`${what}: expected BIT STRING`);
  }
  if (node.valueBlock.unusedBits !== 0) throw invalidField(`${what}: BIT STRING has unused bits`);
  return Buffer.from(node.valueBlock.valueHexView);
}

/** A context-specific tagged value [n], returning its contents (EXPLICIT tagging). */
export function explicitTagged(node: Asn1 | undefined, tagNumber: number): Asn1[] | undefined {
  if (node === undefined) return undefined;
  const id = node.idBlock;
  if (id.tagClass !== 3 || id.tagNumber !== tagNumber) return undefined;
  if (!(node instanceof asn1js.Constructed)) return undefined;
  return node.valueBlock.value;
}

/** The exact DER bytes a parsed node was decoded from. */
export function rawDer(node: Asn1): Buffer {
  return Buffer.from(node.valueBeforeDecodeView);
}

/** AlgorithmIdentifier ::= SEQUENCE { algorithm OID, parameters ANY OPTIONAL } (RFC 5280 §4.1.1.2). */
export function algorithmIdentifier(
  node: Asn1 | undefined,
  what: string,
): { oid: string; parameters: Asn1 | undefined } {
  const fields = sequence(node, what);
  if (fields.length < 1 || fields.length > 2)
    throw invalidField(`${what}: bad AlgorithmIdentifier`);
  return { oid: objectIdentifier(fields[0], what), parameters: fields[1] };
}

export function encodeAlgorithmIdentifier(oid: string, parameters?: Asn1): asn1js.Sequence {
  const value: Asn1[] = [new asn1js.ObjectIdentifier({ value: oid })];
  if (parameters) value.push(parameters);
  return new asn1js.Sequence({ value });
}

/** Minimal two's complement DER INTEGER for a non-negative value. */
export function encodeUnsigned(value: bigint): asn1js.Integer {
  if (value < 0n) throw invalidField('negative value where an unsigned INTEGER is required');
  const bytes = bigintToBytes(value);
  const hex = (bytes[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.of(0), bytes]) : bytes;
  return new asn1js.Integer({ valueHex: hex });
}

export function encodeDer(node: Asn1): Buffer {
  return Buffer.from(node.toBER(false));
}

/** Big-endian unsigned bytes without leading zeros (one zero byte for 0), or left-padded to `width`. */
export function bigintToBytes(value: bigint, width?: number): Buffer {
  if (value < 0n) throw invalidField('negative value where unsigned bytes are required');
  let hex = value.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  const bytes = Buffer.from(hex, 'hex');
  if (width === undefined || bytes.length === width) return bytes;
  if (bytes.length > width) throw invalidField('value longer than its field');
  return Buffer.concat([Buffer.alloc(width - bytes.length), bytes]);
}

export function bytesToBigint(bytes: Uint8Array): bigint {
  if (bytes.byteLength === 0) return 0n;
  return BigInt(`0x${Buffer.from(bytes).toString('hex')}`);
}

/** Decodes the first PEM block with `label` (RFC 7468) to DER. */
export function pemToDer(pem: string, label: string): Buffer {
  const match = new RegExp(
    `-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]+)-----END ${label}-----`,
  ).exec(pem);
  if (!match?.[1]) throw invalidField(`no PEM ${label} block`);
  return Buffer.from(match[1].replace(/\s+/g, ''), 'base64');
}

export function derToPem(der: Uint8Array, label: string): string {
  const body = Buffer.from(der)
    .toString('base64')
    .replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${body}-----END ${label}-----\n`;
}
