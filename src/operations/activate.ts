// KMIP 2.1 §6.1.1 Activate (KMIP 1.4 §4.19): Pre-Active → Active, Activation Date = now.

import { requireState, transition } from '../objects/lifecycle.js';
import { loadObject, saveObject } from '../objects/repository.js';
import { State, Tag } from '../ttlv/spec/generated.js';
import { operation } from './context.js';
import { targetUid } from './target.js';
import { UidOnly, UidResult } from './uid-payload.js';

export const activate = operation({
  request: UidOnly,
  response: UidResult,
  async run(req, ctx) {
    const uid = targetUid(req.uniqueIdentifier, ctx);
    const mo = await loadObject(ctx, uid);
    requireState(ctx, mo, [State.PreActive], 'activate');
    transition(ctx, mo, State.Active, Tag.ActivationDate);
    await saveObject(ctx, mo);
    return { uniqueIdentifier: uid };
  },
});
