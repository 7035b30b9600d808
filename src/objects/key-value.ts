// Meta-data-only objects (KMIP 1.4 §2.2, KMIP 2.1 §2.1.3 Key Block: the Key Value may be
// omitted only for a meta-data-only object). Since KMIP 1.2 a client may register a key whose
// value lives elsewhere: the Key Block names format, algorithm and length but carries no Key
// Value. The server records the attribute Key Value Present = false (absent means the value is
// present) next to the client's Key Value Location, hands the Key Block back as registered on
// Get, and refuses anything that needs the key itself with Key Value Not Present
// (TC-MDO-1/2/3-14, TC-MDO-1/2/3-20).

import { invalidField, KmipError } from '../errors.js';
import { childOf } from '../kmip/items.js';
import type { StructureItem } from '../ttlv/item.js';
import { ResultReason, Tag } from '../ttlv/spec/generated.js';
import { enumValueExistsIn, type KmipVersion, versionAtLeast } from '../ttlv/spec/index.js';

/** A Key Block without a Key Value: the object is meta-data only. */
export function isMetadataOnly(object: StructureItem | null): boolean {
  const block = childOf(object ?? undefined, Tag.KeyBlock);
  return block !== undefined && childOf(block, Tag.KeyValue) === undefined;
}

/** Register: KMIP 1.0 and 1.1 require the Key Value; meta-data-only objects came with 1.2. */
export function acceptMetadataOnly(version: KmipVersion, object: StructureItem): void {
  if (isMetadataOnly(object) && !versionAtLeast(version, '1.2')) {
    throw invalidField(`KMIP ${version} requires a Key Value in the Key Block`);
  }
}

/**
 * Refuses to `action` (encrypt, wrap, convert, ...) with an object that has no Key Value. KMIP
 * 1.0 and 1.1 have no Key Value Not Present; their clients get Illegal Operation.
 */
export function requireKeyValue(
  version: KmipVersion,
  uid: string,
  object: StructureItem | null,
  action: string,
): void {
  if (!isMetadataOnly(object)) return;
  const reason = enumValueExistsIn(Tag.ResultReason, ResultReason.KeyValueNotPresent, version)
    ? ResultReason.KeyValueNotPresent
    : ResultReason.IllegalOperation;
  throw new KmipError(reason, `object ${uid} is meta-data only: no Key Value to ${action}`);
}
