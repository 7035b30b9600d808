// KMIP 2.1 §6.1.52 Signature Verify (KMIP 1.4 §4.32): a signature that does not verify, or is
// malformed, is answered Invalid, not as an error (CS-AC-M-2). Streamed: the Signature Data may
// come with any request of the stream; the Validity Indicator comes with the last.

import {
  asymmetricKey,
  type SignatureSession,
  signatureScheme,
  signatureSession,
  verifyDigest,
} from '../crypto/cipher.js';
import { cryptographicParametersField } from '../kmip/cryptographic-parameters.js';
import { bool, bytes, enumeration, opt, struct, text, versions } from '../kmip/schema.js';
import {
  CryptographicUsageMask,
  Operation,
  Tag,
  ValidityIndicator,
} from '../ttlv/spec/generated.js';
import { operation } from './context.js';
import { noStreaming, streamStep, streamUid, usableKey } from './crypto-usage.js';
import { requireKeyObject } from './sign.js';
import { targetUid } from './target.js';

const SignatureVerifyRequest = struct({
  uniqueIdentifier: opt(text(Tag.UniqueIdentifier)),
  cryptographicParameters: cryptographicParametersField(),
  data: opt(bytes(Tag.Data)),
  digestedData: opt(bytes(Tag.DigestedData)),
  signatureData: opt(bytes(Tag.SignatureData)),
  correlationValue: opt(bytes(Tag.CorrelationValue)),
  initIndicator: opt(bool(Tag.InitIndicator)),
  finalIndicator: opt(bool(Tag.FinalIndicator)),
});

const SignatureVerifyResponse = struct({
  uniqueIdentifier: text(Tag.UniqueIdentifier),
  validityIndicator: opt(enumeration(Tag.ValidityIndicator)),
  correlationValue: versions(opt(bytes(Tag.CorrelationValue)), { since: '1.3' }),
});

interface VerifyState {
  session: SignatureSession;
  signature?: Uint8Array;
}

const validity = (ok: boolean) => (ok ? ValidityIndicator.Valid : ValidityIndicator.Invalid);

export const signatureVerify = operation({
  request: SignatureVerifyRequest,
  response: SignatureVerifyResponse,
  async run(req, ctx) {
    const uid = targetUid(
      req.uniqueIdentifier ?? streamUid(ctx, Operation.SignatureVerify, req),
      ctx,
    );
    const key = await usableKey(
      ctx,
      uid,
      'process',
      CryptographicUsageMask.Verify,
      req.cryptographicParameters,
    );
    requireKeyObject(
      key.object,
      [Tag.PublicKey, Tag.PrivateKey],
      'Signature Verify needs a Public or Private Key',
    );
    const publicKey = asymmetricKey(key.object);
    if (req.digestedData !== undefined) {
      noStreaming(req);
      const ok =
        req.signatureData !== undefined &&
        verifyDigest(publicKey, key.params, req.digestedData, req.signatureData);
      return { uniqueIdentifier: uid, validityIndicator: validity(ok) };
    }
    const step = streamStep<VerifyState>(ctx, Operation.SignatureVerify, uid, req, () => ({
      session: signatureSession(signatureScheme(publicKey, key.params, 'verify'), 'verify'),
    }));
    try {
      if (req.signatureData !== undefined) step.state.signature = req.signatureData;
      step.state.session.update(req.data ?? new Uint8Array(0));
      if (!step.last) return { uniqueIdentifier: uid, correlationValue: step.correlationValue };
      const signature = step.state.signature;
      const ok = signature !== undefined && step.state.session.verify(publicKey, signature);
      return { uniqueIdentifier: uid, validityIndicator: validity(ok) };
    } catch (err) {
      step.abort();
      throw err;
    }
  },
});
