// KMIP 2.1 §6.1.20 Encrypt (KMIP 1.4 §4.29): symmetric encryption (AES, 3DES, ChaCha20,
// ChaCha20-Poly1305), single or streamed, and RSA encryption. The IV/Counter/Nonce is returned
// only when the server generated it; AEAD modes return the Authenticated Encryption Tag.

import {
  asymmetricKey,
  type CipherSession,
  rsaEncrypt,
  symmetricKeyBytes,
  symmetricSession,
} from '../crypto/cipher.js';
import { KmipError } from '../errors.js';
import { cryptographicParametersField } from '../kmip/cryptographic-parameters.js';
import { bool, bytes, opt, struct, text, versions } from '../kmip/schema.js';
import type { StructureItem } from '../ttlv/item.js';
import { CryptographicUsageMask, Operation, ResultReason, Tag } from '../ttlv/spec/generated.js';
import { operation } from './context.js';
import {
  consumeUsage,
  noStreaming,
  streamedOutput,
  streamStep,
  streamUid,
  type UsableKey,
  usableKey,
} from './crypto-usage.js';
import { applyOneTimePad, isOneTimePad } from './one-time-pad.js';
import { targetUid } from './target.js';

const EncryptRequest = struct({
  uniqueIdentifier: opt(text(Tag.UniqueIdentifier)),
  cryptographicParameters: cryptographicParametersField(),
  data: opt(bytes(Tag.Data)),
  ivCounterNonce: opt(bytes(Tag.IVCounterNonce)),
  correlationValue: opt(bytes(Tag.CorrelationValue)),
  initIndicator: opt(bool(Tag.InitIndicator)),
  finalIndicator: opt(bool(Tag.FinalIndicator)),
  authenticatedEncryptionAdditionalData: opt(bytes(Tag.AuthenticatedEncryptionAdditionalData)),
});

const EncryptResponse = struct({
  uniqueIdentifier: text(Tag.UniqueIdentifier),
  data: opt(bytes(Tag.Data)),
  ivCounterNonce: opt(bytes(Tag.IVCounterNonce)),
  correlationValue: versions(opt(bytes(Tag.CorrelationValue)), { since: '1.3' }),
  authenticatedEncryptionTag: versions(opt(bytes(Tag.AuthenticatedEncryptionTag)), {
    since: '1.4',
  }),
});

/** A cipher for a symmetric key, with the key bytes wiped once the cipher holds them. */
export function keyCipher(
  direction: 'encrypt' | 'decrypt',
  key: UsableKey,
  input: { iv?: Uint8Array; aad?: Uint8Array },
): CipherSession {
  if (key.algorithm === undefined) {
    throw new KmipError(ResultReason.InvalidField, 'the key has no Cryptographic Algorithm');
  }
  const bytes = symmetricKeyBytes(key.object);
  try {
    return symmetricSession(direction, key.algorithm, bytes, key.params, input);
  } finally {
    bytes.fill(0);
  }
}

export function isSymmetric(object: StructureItem): boolean {
  return object.tag === Tag.SymmetricKey;
}

export const encrypt = operation({
  request: EncryptRequest,
  response: EncryptResponse,
  async run(req, ctx) {
    const uid = targetUid(req.uniqueIdentifier ?? streamUid(ctx, Operation.Encrypt, req), ctx);
    const key = await usableKey(
      ctx,
      uid,
      'protect',
      CryptographicUsageMask.Encrypt,
      req.cryptographicParameters,
    );
    const data = req.data ?? new Uint8Array(0);
    if (isOneTimePad(key)) {
      const out = applyOneTimePad(key, req, data);
      await consumeUsage(ctx, key.mo, data.length);
      return { uniqueIdentifier: uid, data: out };
    }
    if (!isSymmetric(key.object)) {
      noStreaming(req);
      const out = rsaEncrypt(asymmetricKey(key.object), key.params, data);
      await consumeUsage(ctx, key.mo, data.length);
      return { uniqueIdentifier: uid, data: out };
    }
    const step = streamStep(ctx, Operation.Encrypt, uid, req, () =>
      keyCipher('encrypt', key, {
        iv: req.ivCounterNonce,
        aad: req.authenticatedEncryptionAdditionalData,
      }),
    );
    try {
      let out = step.state.update(data);
      let tag: Buffer | undefined;
      if (step.last) {
        const fin = step.state.final();
        out = Buffer.concat([out, fin.data]);
        tag = fin.tag;
      }
      await consumeUsage(ctx, key.mo, data.length);
      return {
        uniqueIdentifier: uid,
        data: streamedOutput(step, out),
        ivCounterNonce: step.first ? step.state.generatedIv : undefined,
        correlationValue: step.correlationValue,
        authenticatedEncryptionTag: tag,
      };
    } catch (err) {
      step.abort();
      throw err;
    }
  },
});
