import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bigintToBytes,
  bytesToBigint,
  decodeDer,
  derToPem,
  encodeDer,
  encodeUnsigned,
  pemToDer,
  unsignedInteger,
} from '../../src/crypto/der.js';
import { KmipError } from '../../src/errors.js';

describe('der helpers', () => {
  it('encodes unsigned INTEGERs minimally with a sign byte only when the top bit is set', () => {
    expect(encodeDer(encodeUnsigned(0n)).toString('hex')).toBe('020100');
    expect(encodeDer(encodeUnsigned(127n)).toString('hex')).toBe('02017f');
    expect(encodeDer(encodeUnsigned(128n)).toString('hex')).toBe('02020080');
    expect(encodeDer(encodeUnsigned(65537n)).toString('hex')).toBe('0203010001');
  });

  it('round trips non-negative bigints through INTEGER and through bytes', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 2048n) - 1n }), (value) => {
        const der = encodeDer(encodeUnsigned(value));
        expect(unsignedInteger(decodeDer(der, 'test'), 'test')).toBe(value);
        expect(bytesToBigint(bigintToBytes(value))).toBe(value);
        expect(bigintToBytes(value, 256)).toHaveLength(256);
      }),
    );
  });

  it('refuses a negative INTEGER where an unsigned one is required', () => {
    expect(() => unsignedInteger(decodeDer(Buffer.from('0201ff', 'hex'), 'x'), 'x')).toThrow(
      KmipError,
    );
  });

  it('round trips PEM', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 300 }), (bytes) => {
        const pem = derToPem(bytes, 'PUBLIC KEY');
        expect(pem).toMatch(
          /^-----BEGIN PUBLIC KEY-----\n([A-Za-z0-9+/=]{1,64}\n)+-----END PUBLIC KEY-----\n$/,
        );
        expect(pemToDer(pem, 'PUBLIC KEY').equals(Buffer.from(bytes))).toBe(true);
      }),
    );
    expect(() => pemToDer('no pem here', 'CERTIFICATE')).toThrow(KmipError);
  });
});
