// KMIP 2.1 §6.1.28 Get Usage Allocation (KMIP 1.4 §4.18): the client reserves Usage Limits Count
// units of an object's Usage Limits (KMIP 2.1 §4.61) for applying protection itself. The server
// assumes the whole allocation is consumed and lowers the remaining count at once. Only objects
// with Usage Limits, while protection is allowed (Active, before the Protect Stop Date), can
// give an allocation. Usage Limits Count in the stored attribute is the remaining amount, as
// crypto-usage.ts keeps it for the server's own cryptographic operations.

import { KmipError } from '../errors.js';
import { childOf, dateOf, item, numberOf } from '../kmip/items.js';
import { long, opt, struct, text } from '../kmip/schema.js';
import { stateName } from '../objects/lifecycle.js';
import { attr, type ManagedObject, setAttr, wrongState } from '../objects/managed-object.js';
import { loadObject, saveObject } from '../objects/repository.js';
import { ItemType } from '../ttlv/item.js';
import { ResultReason, State, Tag } from '../ttlv/spec/generated.js';
import type { KmipVersion } from '../ttlv/spec/index.js';
import { requireOnline } from './archive.js';
import { operation } from './context.js';
import { versionReason } from './crypto-usage.js';
import { targetUid } from './target.js';
import { UidResult } from './uid-payload.js';

const GetUsageAllocationRequest = struct({
  uniqueIdentifier: opt(text(Tag.UniqueIdentifier)),
  usageLimitsCount: long(Tag.UsageLimitsCount),
});

/** The units still available: the stored count, else the total; undefined without limits. */
export function remainingUsage(mo: ManagedObject): bigint | undefined {
  const limits = attr(mo, 'UsageLimits');
  const count = childOf(limits, Tag.UsageLimitsCount);
  if (count?.type === ItemType.LongInteger) return count.value;
  const total = childOf(limits, Tag.UsageLimitsTotal);
  return total?.type === ItemType.LongInteger ? total.value : undefined;
}

export function usageExceeded(version: KmipVersion, message: string): KmipError {
  return new KmipError(
    versionReason(version, ResultReason.UsageLimitExceeded, ResultReason.PermissionDenied),
    message,
  );
}

export const getUsageAllocation = operation({
  request: GetUsageAllocationRequest,
  response: UidResult,
  async run(req, ctx) {
    const uid = targetUid(req.uniqueIdentifier, ctx);
    if (req.usageLimitsCount <= 0n) {
      throw new KmipError(ResultReason.InvalidField, 'Usage Limits Count must be positive');
    }
    const mo = await loadObject(ctx, uid);
    requireOnline(mo);
    if (mo.state !== State.Active) {
      throw wrongState(ctx.version, `no allocation for an object in state ${stateName(mo.state)}`);
    }
    const stop = dateOf(attr(mo, 'ProtectStopDate'));
    if (stop !== undefined && ctx.now > stop) {
      throw wrongState(ctx.version, `the object's Protect Stop Date has passed`);
    }
    const remaining = remainingUsage(mo);
    if (remaining === undefined) {
      throw new KmipError(
        versionReason(ctx.version, ResultReason.IllegalOperation, ResultReason.PermissionDenied),
        'the object has no Usage Limits to allocate from',
      );
    }
    if (req.usageLimitsCount > remaining) {
      throw usageExceeded(
        ctx.version,
        'the requested allocation exceeds the remaining Usage Limits',
      );
    }
    const limits = attr(mo, 'UsageLimits');
    const total = childOf(limits, Tag.UsageLimitsTotal);
    const unit = numberOf(childOf(limits, Tag.UsageLimitsUnit));
    setAttr(
      mo,
      item.struct(Tag.UsageLimits, [
        ...(total === undefined ? [] : [total]),
        item.long(Tag.UsageLimitsCount, remaining - req.usageLimitsCount),
        ...(unit === undefined ? [] : [item.enum(Tag.UsageLimitsUnit, unit)]),
      ]),
    );
    await saveObject(ctx, mo);
    return { uniqueIdentifier: uid };
  },
});
