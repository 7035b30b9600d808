// Encrypt and Decrypt with a One Time Pad (KMIP 1.3+ Cryptographic Algorithm; TC-OTP-*): the
// data is XORed with the pad's leading bytes, so both directions are the same operation. The pad
// is the Key Material of a Symmetric Key or Secret Data, in any format that holds bytes; the
// data must not be longer than the pad. Streaming is not offered: a stream would have to move
// through the pad, and no KMIP field says where it stands.

import { KmipError } from '../errors.js';
import { bytesOf, childOf } from '../kmip/items.js';
import { CryptographicAlgorithm, ResultReason, Tag } from '../ttlv/spec/generated.js';
import { noStreaming, type UsableKey } from './crypto-usage.js';

export function isOneTimePad(key: UsableKey): boolean {
  return key.algorithm === CryptographicAlgorithm.OneTimePad;
}

export function applyOneTimePad(
  key: UsableKey,
  req: { initIndicator?: boolean; correlationValue?: Uint8Array },
  data: Uint8Array,
): Buffer {
  noStreaming(req);
  const block = childOf(key.object, Tag.KeyBlock);
  if (childOf(block, Tag.KeyWrappingData) !== undefined) {
    throw new KmipError(ResultReason.FeatureNotSupported, 'a pad stored wrapped cannot be used');
  }
  const pad = bytesOf(childOf(childOf(block, Tag.KeyValue), Tag.KeyMaterial));
  if (pad === undefined) {
    throw new KmipError(ResultReason.InvalidObjectType, 'the object holds no pad bytes');
  }
  if (data.length > pad.length) {
    throw new KmipError(
      ResultReason.InvalidField,
      `the data (${data.length} bytes) is longer than the pad (${pad.length} bytes)`,
    );
  }
  const out = Buffer.alloc(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i]! ^ pad[i]!;
  return out;
}
