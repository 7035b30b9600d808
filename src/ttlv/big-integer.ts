// Big Integer values: big-endian two's complement, length a multiple of 8 (KMIP 2.1 §9.1.1.4).

/** The shortest sign-extended two's complement encoding of n whose length is a multiple of 8. */
export function bigintToBigInteger(n: bigint): Uint8Array {
  let hex = (n < 0n ? -n - 1n : n).toString(16);
  // Room for the sign bit: a leading hex digit of 8 or more needs another byte.
  if (hex.length % 2 === 1) hex = `0${hex}`;
  if (Number.parseInt(hex[0] ?? '0', 16) >= 8) hex = `00${hex}`;
  const length = Math.max(8, Math.ceil(hex.length / 2 / 8) * 8);
  const out = Buffer.alloc(length);
  Buffer.from(hex, 'hex').copy(out, length - hex.length / 2);
  if (n < 0n) for (let i = 0; i < length; i++) out[i] = ~(out[i] ?? 0) & 0xff;
  return out;
}

export function bigIntegerToBigint(bytes: Uint8Array): bigint {
  if (bytes.length === 0) return 0n;
  const unsigned = BigInt(`0x${Buffer.from(bytes).toString('hex')}`);
  const negative = ((bytes[0] ?? 0) & 0x80) !== 0;
  return negative ? unsigned - (1n << BigInt(bytes.length * 8)) : unsigned;
}
