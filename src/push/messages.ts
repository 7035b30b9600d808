// What a durable object change becomes on the wire to a subscriber (KMIP 1.4 §5): a new object
// is a Put (New, or Replace with Replaced Unique Identifier when the object replaces another:
// Re-key, Re-key Key Pair and Re-certify link it with a Replaced Object Link; an Import that
// replaces an object keeps its identifier); an attribute change is a Notify with the changed
// instances and the deleted ones, plus Last Change Date, which §5.1 says it always includes.
// Each message is one Request Message with one batch item, in the subscriber's version, and
// carries attributes that version defines only (as Get Attributes does).

import { type Attribute, attributeInVersion, withIndexes } from '../kmip/attributes.js';
import { RequestMessage } from '../kmip/messages.js';
import { objectKeyForTag } from '../kmip/object-fields.js';
import type { ObjectChange } from '../objects/changes.js';
import { isWrapped, storedForms } from '../objects/key-wrapping.js';
import { attr, type ManagedObject, objectTagFor } from '../objects/managed-object.js';
import { linkedUid } from '../operations/rekey.js';
import { encodeTtlv } from '../ttlv/binary.js';
import type { StructureItem, TtlvItem } from '../ttlv/item.js';
import { LinkType, Operation, PutFunction, Tag } from '../ttlv/spec/generated.js';
import type { KmipVersion } from '../ttlv/spec/index.js';
import { type AttributeChange, NotifyRequest, PutRequest } from './payloads.js';

export type PushOperation = 'Put' | 'Notify';

/** One message for one subscriber. `frame` holds key material for a Put: zero it when done. */
export interface PushMessage {
  uid: string;
  operation: PushOperation;
  frame: Buffer;
}

/** The message a change becomes, nothing for a change no attribute shows, or why none is sent. */
export type Outcome = PushMessage | { uid: string; skip: string } | undefined;

export function messageFor(change: ObjectChange, version: KmipVersion): Outcome {
  switch (change.kind) {
    case 'created':
      return putMessage(
        change.object,
        version,
        linkedUid(change.object, LinkType.ReplacedObjectLink),
      );
    case 'replaced':
      return putMessage(change.object, version, change.object.uid);
    case 'changed': {
      const changes = attributeChanges(change.before, change.after, version);
      if (changes.length === 0) return undefined;
      const payload = NotifyRequest.write(
        Tag.RequestPayload,
        { uniqueIdentifier: change.uid, attributes: changes },
        version,
      );
      return {
        uid: change.uid,
        operation: 'Notify',
        frame: requestMessage(Operation.Notify, payload, version),
      };
    }
  }
}

function putMessage(
  mo: ManagedObject,
  version: KmipVersion,
  replaced: string | undefined,
): Outcome {
  if (mo.object === null) return { uid: mo.uid, skip: 'the object has no value' };
  const current = storedForms(mo.object).current;
  // Get's rules (KMIP 2.1 §4.54 Sensitive, §4.20 Extractable): such a value never leaves in
  // clear, so it is not pushed either.
  if (attr(mo, 'Sensitive')?.value === true && !isWrapped(current)) {
    return { uid: mo.uid, skip: 'the object is Sensitive' };
  }
  if (attr(mo, 'Extractable')?.value === false) {
    return { uid: mo.uid, skip: 'the object is not Extractable' };
  }
  const tag = objectTagFor(mo.objectType);
  const field = tag === undefined ? undefined : objectKeyForTag(tag);
  if (field === undefined) return { uid: mo.uid, skip: 'the object has an unknown type' };
  const payload = PutRequest.write(
    Tag.RequestPayload,
    {
      uniqueIdentifier: mo.uid,
      putFunction: replaced === undefined ? PutFunction.New : PutFunction.Replace,
      replacedUniqueIdentifier: replaced,
      [field]: current,
      attributes: withIndexes(mo.attributes.filter((a) => attributeInVersion(a, version))),
    },
    version,
  );
  return { uid: mo.uid, operation: 'Put', frame: requestMessage(Operation.Put, payload, version) };
}

/**
 * The instances that differ between two attribute lists, compared by name and position: a new
 * or changed instance with its value, an instance past the new count as deleted. Empty when
 * nothing the version shows changed; otherwise Last Change Date is always among them.
 */
export function attributeChanges(
  before: readonly Attribute[],
  after: readonly Attribute[],
  version: KmipVersion,
): AttributeChange[] {
  const old = byName(before, version);
  const now = byName(after, version);
  const out: AttributeChange[] = [];
  for (const [name, values] of now) {
    const was = old.get(name) ?? [];
    values.forEach((value, index) => {
      const prior = was[index];
      if (prior === undefined || !encodeTtlv(prior).equals(encodeTtlv(value))) {
        out.push({ name, index, value });
      }
    });
    for (let index = values.length; index < was.length; index++) out.push({ name, index });
  }
  for (const [name, was] of old) {
    if (now.has(name)) continue;
    for (let index = 0; index < was.length; index++) out.push({ name, index });
  }
  if (out.length === 0) return out;
  const lastChange = now.get('LastChangeDate')?.[0];
  if (lastChange !== undefined && !out.some((c) => c.name === 'LastChangeDate')) {
    out.push({ name: 'LastChangeDate', index: 0, value: lastChange });
  }
  return out;
}

/** The values of each attribute the version shows, names in order of first appearance. */
function byName(list: readonly Attribute[], version: KmipVersion): Map<string, TtlvItem[]> {
  const out = new Map<string, TtlvItem[]>();
  for (const a of list) {
    if (!attributeInVersion(a, version)) continue;
    const values = out.get(a.name) ?? [];
    values.push(a.value);
    out.set(a.name, values);
  }
  return out;
}

function requestMessage(operation: number, payload: StructureItem, version: KmipVersion): Buffer {
  const [major, minor] = version.split('.').map(Number) as [number, number];
  return encodeTtlv(
    RequestMessage.write(
      Tag.RequestMessage,
      {
        header: { protocolVersion: { major, minor }, batchCount: 1 },
        batchItems: [{ operation, requestPayload: payload }],
      },
      version,
    ),
  );
}
