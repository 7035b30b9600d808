// KMIP 2.1 §2.1.5 Cryptographic Parameters (KMIP 1.4 §3.6): how a key is to be used by the
// cryptographic service operations. The same structure is a request field of Encrypt, Decrypt,
// Sign, Signature Verify, MAC, MAC Verify and Hash, and a (1.x multi-instance) attribute of the
// key that supplies the defaults.

import { ItemType, type TtlvItem } from '../ttlv/item.js';
import { Tag } from '../ttlv/spec/generated.js';
import { bool, bytes, enumeration, int, opt, struct, type TypeOf, versions } from './schema.js';

const V1_2 = { since: '1.2' } as const;
const V1_4 = { since: '1.4' } as const;

export const CryptographicParametersSchema = struct({
  blockCipherMode: opt(enumeration(Tag.BlockCipherMode)),
  paddingMethod: opt(enumeration(Tag.PaddingMethod)),
  hashingAlgorithm: opt(enumeration(Tag.HashingAlgorithm)),
  keyRoleType: opt(enumeration(Tag.KeyRoleType)),
  digitalSignatureAlgorithm: versions(opt(enumeration(Tag.DigitalSignatureAlgorithm)), V1_2),
  cryptographicAlgorithm: versions(opt(enumeration(Tag.CryptographicAlgorithm)), V1_2),
  randomIV: versions(opt(bool(Tag.RandomIV)), V1_2),
  /** Bits. */
  ivLength: versions(opt(int(Tag.IVLength)), V1_2),
  /** Bytes. */
  tagLength: versions(opt(int(Tag.TagLength)), V1_2),
  fixedFieldLength: versions(opt(int(Tag.FixedFieldLength)), V1_2),
  invocationFieldLength: versions(opt(int(Tag.InvocationFieldLength)), V1_2),
  counterLength: versions(opt(int(Tag.CounterLength)), V1_2),
  initialCounterValue: versions(opt(int(Tag.InitialCounterValue)), V1_2),
  /** Bytes. */
  saltLength: versions(opt(int(Tag.SaltLength)), V1_4),
  maskGenerator: versions(opt(enumeration(Tag.MaskGenerator)), V1_4),
  maskGeneratorHashingAlgorithm: versions(
    opt(enumeration(Tag.MaskGeneratorHashingAlgorithm)),
    V1_4,
  ),
  pSource: versions(opt(bytes(Tag.PSource)), V1_4),
  trailerField: versions(opt(int(Tag.TrailerField)), V1_4),
});

export type CryptographicParameters = TypeOf<typeof CryptographicParametersSchema>;

/** The request field: `Cryptographic Parameters` as a nested structure. */
export const cryptographicParametersField = () =>
  opt(CryptographicParametersSchema.at(Tag.CryptographicParameters));

/** Reads a stored Cryptographic Parameters attribute value; anything unreadable counts as absent. */
export function parametersFromAttribute(value: TtlvItem | undefined): CryptographicParameters {
  if (value === undefined || value.type !== ItemType.Structure) return {};
  try {
    return CryptographicParametersSchema.read(value, '2.1');
  } catch {
    return {};
  }
}

/**
 * The parameters in effect: each field given in the request wins, the rest come from the key's
 * Cryptographic Parameters attribute (KMIP 2.1 §6.1.20: "if omitted, the server uses the
 * Cryptographic Parameters attribute of the key").
 */
export function effectiveParameters(
  requested: CryptographicParameters | undefined,
  fromKey: CryptographicParameters,
): CryptographicParameters {
  const out: Record<string, unknown> = { ...fromKey };
  for (const [k, v] of Object.entries(requested ?? {})) if (v !== undefined) out[k] = v;
  return out as CryptographicParameters;
}
