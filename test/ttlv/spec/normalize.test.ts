// KMIP Profiles 2.1 §5.4.1.1 name normalisation.
import { describe, expect, it } from 'vitest';
import { normalizeName } from '../../../src/ttlv/spec/normalize.js';

describe('normalizeName (KMIP Profiles 2.1 §5.4.1.1)', () => {
  it.each([
    ['SHA-256', 'SHA_256'],
    ['PKCS#1', 'PKCS_1'],
    ['PKCS#11', 'PKCS_11'],
    ['Pre-Active', 'PreActive'],
    ['Transparent Symmetric Key', 'TransparentSymmetricKey'],
    ['ANSI X9.31', 'ANSIX9_31'],
    ['X.509', 'X_509'],
    ['RSA', 'RSA'],
    ['Uninterpreted Text String', 'UninterpretedTextString'],
    ['Cryptographic Algorithm', 'CryptographicAlgorithm'],
  ])('%s → %s (names given in the Profiles text)', (spec, normalised) => {
    expect(normalizeName(spec)).toBe(normalised);
  });

  it('(1) parentheses become spaces', () => {
    expect(normalizeName('Polynomial Sharing GF (2^8)')).toBe('PolynomialSharingGF2_8');
    expect(normalizeName('Content Commitment (Non Repudiation)')).toBe(
      'ContentCommitmentNonRepudiation',
    );
  });

  it('(2) a separator before a capitalised word becomes a space', () => {
    expect(normalizeName('Re-key Key Pair')).toBe('ReKeyKeyPair');
    expect(normalizeName('MAC/Signature Key Information')).toBe('MACSignatureKeyInformation');
    expect(normalizeName('Server Pre-Generated')).toBe('ServerPreGenerated');
    expect(normalizeName('Common Template-Attribute')).toBe('CommonTemplateAttribute');
  });

  it('(3) other separators become underscores', () => {
    expect(normalizeName('Dual-EC')).toBe('Dual_EC');
    expect(normalizeName('SHA-512/224')).toBe('SHA_512_224');
    expect(normalizeName('NIST800-108-C')).toBe('NIST800_108_C');
    expect(normalizeName('C_GetInfo')).toBe('C_GetInfo');
  });

  it('(4) leading digits of the first word move to its end', () => {
    expect(normalizeName('3DES')).toBe('DES3');
  });

  it('(5, 6) words are capitalised and joined; runs of spaces do not matter', () => {
    expect(normalizeName('Object archived')).toBe('ObjectArchived');
    expect(normalizeName('Compromise  Date')).toBe('CompromiseDate');
    expect(normalizeName('Username and Password')).toBe('UsernameAndPassword');
  });
});
