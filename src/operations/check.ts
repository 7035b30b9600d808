// KMIP 2.1 §6.1.6 Check (KMIP 1.4 §4.10): whether the client may use the object as it intends,
// without using it: enough Usage Limits left for the Usage Limits Count given, every bit of the
// Cryptographic Usage Mask given allowed by the object's mask, and a lease at least as long as
// the Lease Time given (obtain-lease.ts). A passed check answers the Unique Identifier; a failed
// one empties the ID Placeholder and fails with the reason of the first check that failed
// (BL-M-2-21, BL-M-3-21: Incompatible Cryptographic Usage Mask, in 1.x Permission Denied).

import { KmipError } from '../errors.js';
import { numberOf } from '../kmip/items.js';
import { int, interval, long, opt, struct, text } from '../kmip/schema.js';
import { DESTROYED_STATES, stateName } from '../objects/lifecycle.js';
import { attr, wrongState } from '../objects/managed-object.js';
import { loadObject } from '../objects/repository.js';
import { ResultReason, Tag } from '../ttlv/spec/generated.js';
import { requireOnline } from './archive.js';
import { operation } from './context.js';
import { versionReason } from './crypto-usage.js';
import { remainingUsage, usageExceeded } from './get-usage-allocation.js';
import { maximumLease } from './obtain-lease.js';
import { targetUid } from './target.js';

const CheckFields = {
  uniqueIdentifier: opt(text(Tag.UniqueIdentifier)),
  usageLimitsCount: opt(long(Tag.UsageLimitsCount)),
  cryptographicUsageMask: opt(int(Tag.CryptographicUsageMask)),
  leaseTime: opt(interval(Tag.LeaseTime)),
};

const CheckRequest = struct(CheckFields);
const CheckResponse = struct(CheckFields);

export const check = operation({
  request: CheckRequest,
  response: CheckResponse,
  async run(req, ctx) {
    const uid = targetUid(req.uniqueIdentifier, ctx);
    try {
      const mo = await loadObject(ctx, uid);
      requireOnline(mo);
      if (DESTROYED_STATES.includes(mo.state)) {
        throw wrongState(ctx.version, `an object in state ${stateName(mo.state)} cannot be used`);
      }
      const wanted = req.usageLimitsCount;
      const remaining = remainingUsage(mo);
      if (wanted !== undefined && remaining !== undefined && wanted > remaining) {
        throw usageExceeded(ctx.version, 'Check failed: not enough Usage Limits remain');
      }
      const mask = numberOf(attr(mo, 'CryptographicUsageMask'));
      const asked = req.cryptographicUsageMask;
      if (asked !== undefined && mask !== undefined && (asked & ~mask) !== 0) {
        throw new KmipError(
          versionReason(
            ctx.version,
            ResultReason.IncompatibleCryptographicUsageMask,
            ResultReason.PermissionDenied,
          ),
          'Check failed: the Cryptographic Usage Mask does not allow this use',
        );
      }
      if (req.leaseTime !== undefined && req.leaseTime > maximumLease(mo)) {
        throw new KmipError(
          ResultReason.PermissionDenied,
          'Check failed: the Lease Time asked for is longer than the server grants',
        );
      }
    } catch (err) {
      ctx.placeholder = undefined;
      throw err;
    }
    return { uniqueIdentifier: uid };
  },
});
