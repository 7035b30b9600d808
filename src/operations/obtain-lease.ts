// KMIP 2.1 §6.1.35 Obtain Lease (KMIP 1.4 §4.17): a Lease Time (KMIP 2.1 §4.38), the interval
// for which the client may use its cached copy of the object, and the object's Last Change
// Date, by which the client sees whether its cached attributes are stale. The lease runs from
// the time of the response. The Lease Time attribute, when the object has one, is the longest
// lease the server grants for it; otherwise the server default applies. Leases are granted
// only for objects that can be used: not Pre-Active, not destroyed, not archived.

import { dateOf, numberOf } from '../kmip/items.js';
import { dateTime, interval, opt, struct, text } from '../kmip/schema.js';
import { stateName } from '../objects/lifecycle.js';
import { attr, type ManagedObject, wrongState } from '../objects/managed-object.js';
import { loadObject } from '../objects/repository.js';
import { State, Tag } from '../ttlv/spec/generated.js';
import { requireOnline } from './archive.js';
import { operation } from './context.js';
import { targetUid } from './target.js';
import { UidOnly } from './uid-payload.js';

/** Lease granted when the object has no Lease Time attribute, in seconds. */
export const DEFAULT_LEASE_SECONDS = 3600;

const LEASABLE: readonly number[] = [State.Active, State.Deactivated, State.Compromised];

const ObtainLeaseResponse = struct({
  uniqueIdentifier: text(Tag.UniqueIdentifier),
  leaseTime: opt(interval(Tag.LeaseTime)),
  lastChangeDate: opt(dateTime(Tag.LastChangeDate)),
});

/** The longest lease the server grants for this object, in seconds. */
export function maximumLease(mo: ManagedObject): number {
  return numberOf(attr(mo, 'LeaseTime')) ?? DEFAULT_LEASE_SECONDS;
}

export const obtainLease = operation({
  request: UidOnly,
  response: ObtainLeaseResponse,
  async run(req, ctx) {
    const uid = targetUid(req.uniqueIdentifier, ctx);
    const mo = await loadObject(ctx, uid);
    requireOnline(mo);
    if (!LEASABLE.includes(mo.state)) {
      throw wrongState(ctx.version, `no lease for an object in state ${stateName(mo.state)}`);
    }
    return {
      uniqueIdentifier: uid,
      leaseTime: maximumLease(mo),
      lastChangeDate: dateOf(attr(mo, 'LastChangeDate')) ?? dateOf(attr(mo, 'InitialDate')),
    };
  },
});
