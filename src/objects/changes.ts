// What the repository reports after a change to a managed object is durable: the store write
// has resolved (with SQLite, `synchronous=FULL`, it is on disk). The one consumer today is the
// push to subscribers (src/push), which turns a new object into a KMIP Put and an attribute
// change into a KMIP Notify (KMIP 1.4 §5). Reported only when a sink is configured: without
// one the repository does no extra work.

import type { Attribute } from '../kmip/attributes.js';
import type { ManagedObject } from './managed-object.js';

export type ObjectChange =
  /** A new object was inserted (Create, Register, Re-key, Certify, ...). */
  | { kind: 'created'; object: ManagedObject }
  /** The object stored under the same identifier was swapped for another (Import, Replace). */
  | { kind: 'replaced'; object: ManagedObject }
  /** Attributes, state or material changed (Add/Modify/Delete Attribute, Destroy, ...). */
  | {
      kind: 'changed';
      uid: string;
      owner: string;
      before: readonly Attribute[];
      after: readonly Attribute[];
    };

/**
 * Receives each change as it becomes durable, in store commit order for any one object. It
 * must copy what it keeps: the caller goes on using the object.
 */
export type ChangeSink = (change: ObjectChange) => void;
