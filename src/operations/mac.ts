// KMIP 2.1 §6.1.31 MAC (KMIP 1.4 §4.33): HMAC with SHA-1, SHA-2 or MD5, single or streamed. The
// HMAC algorithm comes from the Cryptographic Parameters or the key's attributes; the Key Block
// of a registered MAC key may name another algorithm (CS-AC-M-4 registers it as AES).

import { createHmac, type Hmac } from 'node:crypto';
import { hmacHashName, symmetricKeyBytes } from '../crypto/cipher.js';
import { KmipError } from '../errors.js';
import { cryptographicParametersField } from '../kmip/cryptographic-parameters.js';
import { bool, bytes, opt, struct, text, versions } from '../kmip/schema.js';
import {
  CryptographicAlgorithm,
  CryptographicUsageMask,
  Operation,
  ResultReason,
  Tag,
} from '../ttlv/spec/generated.js';
import { operation } from './context.js';
import { consumeUsage, streamStep, streamUid, type UsableKey, usableKey } from './crypto-usage.js';
import { targetUid } from './target.js';

const MacRequest = struct({
  uniqueIdentifier: opt(text(Tag.UniqueIdentifier)),
  cryptographicParameters: cryptographicParametersField(),
  data: opt(bytes(Tag.Data)),
  correlationValue: opt(bytes(Tag.CorrelationValue)),
  initIndicator: opt(bool(Tag.InitIndicator)),
  finalIndicator: opt(bool(Tag.FinalIndicator)),
});

const MacResponse = struct({
  uniqueIdentifier: text(Tag.UniqueIdentifier),
  macData: opt(bytes(Tag.MACData)),
  correlationValue: versions(opt(bytes(Tag.CorrelationValue)), { since: '1.3' }),
});

const HMAC_ALGORITHMS: ReadonlySet<number> = new Set([
  CryptographicAlgorithm.HMAC_SHA1,
  CryptographicAlgorithm.HMAC_SHA224,
  CryptographicAlgorithm.HMAC_SHA256,
  CryptographicAlgorithm.HMAC_SHA384,
  CryptographicAlgorithm.HMAC_SHA512,
  CryptographicAlgorithm.HMAC_MD5,
]);

/** An HMAC keyed with the key's material, wiped once the HMAC holds it. */
export function keyHmac(key: UsableKey): Hmac {
  if (key.object.tag !== Tag.SymmetricKey) {
    throw new KmipError(ResultReason.InvalidField, 'MAC needs a Symmetric Key');
  }
  const algorithm = key.algorithms.find((a) => HMAC_ALGORITHMS.has(a)) ?? key.algorithm;
  if (algorithm === undefined) {
    throw new KmipError(ResultReason.InvalidField, 'no MAC algorithm given for the key');
  }
  const hash = hmacHashName(algorithm);
  const bytes = symmetricKeyBytes(key.object);
  try {
    return createHmac(hash, bytes);
  } finally {
    bytes.fill(0);
  }
}

export const mac = operation({
  request: MacRequest,
  response: MacResponse,
  async run(req, ctx) {
    const uid = targetUid(req.uniqueIdentifier ?? streamUid(ctx, Operation.MAC, req), ctx);
    const key = await usableKey(
      ctx,
      uid,
      'protect',
      CryptographicUsageMask.MACGenerate,
      req.cryptographicParameters,
    );
    const data = req.data ?? new Uint8Array(0);
    const step = streamStep(ctx, Operation.MAC, uid, req, () => keyHmac(key));
    try {
      step.state.update(data);
      const macData = step.last ? step.state.digest() : undefined;
      await consumeUsage(ctx, key.mo, data.length);
      return { uniqueIdentifier: uid, macData, correlationValue: step.correlationValue };
    } catch (err) {
      step.abort();
      throw err;
    }
  },
});
