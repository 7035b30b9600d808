// KMIP 2.1 §6.1.18 Decrypt (KMIP 1.4 §4.30): the inverse of Encrypt. A missing IV is Invalid
// Message (CS-BC-M-11..13); a wrong AEAD tag or bad padding is Cryptographic Failure
// (CS-BC-M-GCM-1). Deactivated and Compromised keys may still decrypt.

import { asymmetricKey, rsaDecrypt } from '../crypto/cipher.js';
import { cryptographicParametersField } from '../kmip/cryptographic-parameters.js';
import { bool, bytes, opt, struct, text, versions } from '../kmip/schema.js';
import { CryptographicUsageMask, Operation, Tag } from '../ttlv/spec/generated.js';
import { operation } from './context.js';
import { noStreaming, streamedOutput, streamStep, streamUid, usableKey } from './crypto-usage.js';
import { isSymmetric, keyCipher } from './encrypt.js';
import { applyOneTimePad, isOneTimePad } from './one-time-pad.js';
import { targetUid } from './target.js';

const DecryptRequest = struct({
  uniqueIdentifier: opt(text(Tag.UniqueIdentifier)),
  cryptographicParameters: cryptographicParametersField(),
  data: opt(bytes(Tag.Data)),
  ivCounterNonce: opt(bytes(Tag.IVCounterNonce)),
  correlationValue: opt(bytes(Tag.CorrelationValue)),
  initIndicator: opt(bool(Tag.InitIndicator)),
  finalIndicator: opt(bool(Tag.FinalIndicator)),
  authenticatedEncryptionAdditionalData: opt(bytes(Tag.AuthenticatedEncryptionAdditionalData)),
  authenticatedEncryptionTag: opt(bytes(Tag.AuthenticatedEncryptionTag)),
});

const DecryptResponse = struct({
  uniqueIdentifier: text(Tag.UniqueIdentifier),
  data: opt(bytes(Tag.Data)),
  correlationValue: versions(opt(bytes(Tag.CorrelationValue)), { since: '1.3' }),
});

export const decrypt = operation({
  request: DecryptRequest,
  response: DecryptResponse,
  async run(req, ctx) {
    const uid = targetUid(req.uniqueIdentifier ?? streamUid(ctx, Operation.Decrypt, req), ctx);
    const key = await usableKey(
      ctx,
      uid,
      'process',
      CryptographicUsageMask.Decrypt,
      req.cryptographicParameters,
    );
    const data = req.data ?? new Uint8Array(0);
    if (isOneTimePad(key)) return { uniqueIdentifier: uid, data: applyOneTimePad(key, req, data) };
    if (!isSymmetric(key.object)) {
      noStreaming(req);
      return {
        uniqueIdentifier: uid,
        data: rsaDecrypt(asymmetricKey(key.object), key.params, data),
      };
    }
    const step = streamStep(ctx, Operation.Decrypt, uid, req, () =>
      keyCipher('decrypt', key, {
        iv: req.ivCounterNonce,
        aad: req.authenticatedEncryptionAdditionalData,
      }),
    );
    try {
      let out = step.state.update(data);
      if (step.last) {
        out = Buffer.concat([out, step.state.final(req.authenticatedEncryptionTag).data]);
      }
      return {
        uniqueIdentifier: uid,
        data: streamedOutput(step, out),
        correlationValue: step.correlationValue,
      };
    } catch (err) {
      step.abort();
      throw err;
    }
  },
});
