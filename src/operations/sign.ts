// KMIP 2.1 §6.1.51 Sign (KMIP 1.4 §4.31): RSA (PKCS #1 v1.5, PSS), ECDSA, DSA and EdDSA
// signatures over Data, single or streamed, or RSA PKCS #1 v1.5 and ECDSA over Digested Data.

import {
  asymmetricKey,
  type SignatureSession,
  signatureScheme,
  signatureSession,
  signDigest,
} from '../crypto/cipher.js';
import { KmipError } from '../errors.js';
import { cryptographicParametersField } from '../kmip/cryptographic-parameters.js';
import { bool, bytes, opt, struct, text, versions } from '../kmip/schema.js';
import type { StructureItem } from '../ttlv/item.js';
import { CryptographicUsageMask, Operation, ResultReason, Tag } from '../ttlv/spec/generated.js';
import { operation } from './context.js';
import { consumeUsage, noStreaming, streamStep, streamUid, usableKey } from './crypto-usage.js';
import { targetUid } from './target.js';

const SignRequest = struct({
  uniqueIdentifier: opt(text(Tag.UniqueIdentifier)),
  cryptographicParameters: cryptographicParametersField(),
  data: opt(bytes(Tag.Data)),
  digestedData: opt(bytes(Tag.DigestedData)),
  correlationValue: opt(bytes(Tag.CorrelationValue)),
  initIndicator: opt(bool(Tag.InitIndicator)),
  finalIndicator: opt(bool(Tag.FinalIndicator)),
});

const SignResponse = struct({
  uniqueIdentifier: text(Tag.UniqueIdentifier),
  signatureData: opt(bytes(Tag.SignatureData)),
  correlationValue: versions(opt(bytes(Tag.CorrelationValue)), { since: '1.3' }),
});

/** Refuses a key object of the wrong kind, naming the kinds the operation takes. */
export function requireKeyObject(object: StructureItem, tags: readonly number[], message: string) {
  if (!tags.includes(object.tag)) throw new KmipError(ResultReason.InvalidField, message);
}

export const sign = operation({
  request: SignRequest,
  response: SignResponse,
  async run(req, ctx) {
    const uid = targetUid(req.uniqueIdentifier ?? streamUid(ctx, Operation.Sign, req), ctx);
    const key = await usableKey(
      ctx,
      uid,
      'protect',
      CryptographicUsageMask.Sign,
      req.cryptographicParameters,
    );
    requireKeyObject(key.object, [Tag.PrivateKey], 'Sign needs a Private Key');
    const privateKey = asymmetricKey(key.object);
    if (req.digestedData !== undefined) {
      noStreaming(req);
      const signatureData = signDigest(privateKey, key.params, req.digestedData);
      await consumeUsage(ctx, key.mo, req.digestedData.length);
      return { uniqueIdentifier: uid, signatureData };
    }
    const data = req.data ?? new Uint8Array(0);
    const step = streamStep<SignatureSession>(ctx, Operation.Sign, uid, req, () =>
      signatureSession(signatureScheme(privateKey, key.params, 'sign'), 'sign'),
    );
    try {
      step.state.update(data);
      const signatureData = step.last ? step.state.sign(privateKey) : undefined;
      await consumeUsage(ctx, key.mo, data.length);
      return { uniqueIdentifier: uid, signatureData, correlationValue: step.correlationValue };
    } catch (err) {
      step.abort();
      throw err;
    }
  },
});
