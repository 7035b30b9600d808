// KMIP 2.1 §6.1.16 Destroy (KMIP 1.4 §4.21): the key value is removed for good; the object's
// attributes remain with State Destroyed (or Destroyed Compromised). An Active object must be
// revoked first; Pre-Active objects can be destroyed directly (Barbican never activates).

import { requireState, transition } from '../objects/lifecycle.js';
import { loadObject, saveObject } from '../objects/repository.js';
import { State, Tag } from '../ttlv/spec/generated.js';
import { operation } from './context.js';
import { targetUid } from './target.js';
import { UidOnly, UidResult } from './uid-payload.js';

export const destroy = operation({
  request: UidOnly,
  response: UidResult,
  async run(req, ctx) {
    const uid = targetUid(req.uniqueIdentifier, ctx);
    const mo = await loadObject(ctx, uid);
    requireState(ctx, mo, [State.PreActive, State.Deactivated, State.Compromised], 'destroy');
    const next = mo.state === State.Compromised ? State.DestroyedCompromised : State.Destroyed;
    transition(ctx, mo, next, Tag.DestroyDate);
    await saveObject(ctx, mo, { dropMaterial: true });
    return { uniqueIdentifier: uid };
  },
});
