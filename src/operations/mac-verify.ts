// KMIP 2.1 §6.1.32 MAC Verify (KMIP 1.4 §4.34): recomputes the MAC and compares in constant
// time. Streamed: the MAC Data may come with any request; the Validity Indicator with the last.

import type { Hmac } from 'node:crypto';
import { sameBytes } from '../crypto/cipher.js';
import { cryptographicParametersField } from '../kmip/cryptographic-parameters.js';
import { bool, bytes, enumeration, opt, struct, text, versions } from '../kmip/schema.js';
import {
  CryptographicUsageMask,
  Operation,
  Tag,
  ValidityIndicator,
} from '../ttlv/spec/generated.js';
import { operation } from './context.js';
import { streamStep, streamUid, usableKey } from './crypto-usage.js';
import { keyHmac } from './mac.js';
import { targetUid } from './target.js';

const MacVerifyRequest = struct({
  uniqueIdentifier: opt(text(Tag.UniqueIdentifier)),
  cryptographicParameters: cryptographicParametersField(),
  data: opt(bytes(Tag.Data)),
  macData: opt(bytes(Tag.MACData)),
  correlationValue: opt(bytes(Tag.CorrelationValue)),
  initIndicator: opt(bool(Tag.InitIndicator)),
  finalIndicator: opt(bool(Tag.FinalIndicator)),
});

const MacVerifyResponse = struct({
  uniqueIdentifier: text(Tag.UniqueIdentifier),
  validityIndicator: opt(enumeration(Tag.ValidityIndicator)),
  correlationValue: versions(opt(bytes(Tag.CorrelationValue)), { since: '1.3' }),
});

interface MacVerifyState {
  hmac: Hmac;
  expected?: Uint8Array;
}

export const macVerify = operation({
  request: MacVerifyRequest,
  response: MacVerifyResponse,
  async run(req, ctx) {
    const uid = targetUid(req.uniqueIdentifier ?? streamUid(ctx, Operation.MACVerify, req), ctx);
    const key = await usableKey(
      ctx,
      uid,
      'process',
      CryptographicUsageMask.MACVerify,
      req.cryptographicParameters,
    );
    const step = streamStep<MacVerifyState>(ctx, Operation.MACVerify, uid, req, () => ({
      hmac: keyHmac(key),
    }));
    try {
      if (req.macData !== undefined) step.state.expected = req.macData;
      step.state.hmac.update(req.data ?? new Uint8Array(0));
      if (!step.last) return { uniqueIdentifier: uid, correlationValue: step.correlationValue };
      const expected = step.state.expected;
      const ok = expected !== undefined && sameBytes(step.state.hmac.digest(), expected);
      return {
        uniqueIdentifier: uid,
        validityIndicator: ok ? ValidityIndicator.Valid : ValidityIndicator.Invalid,
      };
    } catch (err) {
      step.abort();
      throw err;
    }
  },
});
