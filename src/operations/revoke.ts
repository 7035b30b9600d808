// KMIP 2.1 §6.1.45 Revoke (KMIP 1.4 §4.20): a compromise reason moves the object to
// Compromised (Compromise Date, Compromise Occurrence Date); any other reason to Deactivated
// (Deactivation Date). Revocation Reason is recorded.

import { item } from '../kmip/items.js';
import { dateTime, enumeration, opt, struct, text } from '../kmip/schema.js';
import { DESTROYED_STATES, requireState, transition } from '../objects/lifecycle.js';
import { setAttr, wrongState } from '../objects/managed-object.js';
import { loadObject, saveObject } from '../objects/repository.js';
import { RevocationReasonCode, State, Tag } from '../ttlv/spec/generated.js';
import { operation } from './context.js';
import { targetUid } from './target.js';
import { UidResult } from './uid-payload.js';

const RevocationReason = struct({
  code: enumeration(Tag.RevocationReasonCode),
  message: opt(text(Tag.RevocationMessage)),
});

const RevokeRequest = struct({
  uniqueIdentifier: opt(text(Tag.UniqueIdentifier)),
  revocationReason: RevocationReason.at(Tag.RevocationReason),
  compromiseOccurrenceDate: opt(dateTime(Tag.CompromiseOccurrenceDate)),
});

const COMPROMISE: readonly number[] = [
  RevocationReasonCode.KeyCompromise,
  RevocationReasonCode.CACompromise,
];

export const revoke = operation({
  request: RevokeRequest,
  response: UidResult,
  async run(req, ctx) {
    const uid = targetUid(req.uniqueIdentifier, ctx);
    const mo = await loadObject(ctx, uid);
    if (DESTROYED_STATES.includes(mo.state)) {
      throw wrongState(ctx.version, `object ${uid} has been destroyed`);
    }
    const reason = req.revocationReason;
    const revocation = [item.enum(Tag.RevocationReasonCode, reason.code)];
    if (reason.message !== undefined)
      revocation.push(item.text(Tag.RevocationMessage, reason.message));
    if (COMPROMISE.includes(reason.code)) {
      setAttr(mo, item.date(Tag.CompromiseOccurrenceDate, req.compromiseOccurrenceDate ?? ctx.now));
      transition(ctx, mo, State.Compromised, Tag.CompromiseDate);
    } else {
      requireState(ctx, mo, [State.PreActive, State.Active, State.Deactivated], 'revoke');
      if (mo.state !== State.Deactivated)
        transition(ctx, mo, State.Deactivated, Tag.DeactivationDate);
    }
    setAttr(mo, item.struct(Tag.RevocationReason, revocation));
    await saveObject(ctx, mo);
    return { uniqueIdentifier: uid };
  },
});
