// The object structures a payload may carry, each under its own tag (KMIP 2.1 §2.2 Objects):
// Register requests and Get responses hold exactly one of them.

import { Tag } from '../ttlv/spec/generated.js';
import { opt, raw } from './schema.js';

export function objectFields() {
  return {
    certificate: opt(raw(Tag.Certificate)),
    symmetricKey: opt(raw(Tag.SymmetricKey)),
    publicKey: opt(raw(Tag.PublicKey)),
    privateKey: opt(raw(Tag.PrivateKey)),
    splitKey: opt(raw(Tag.SplitKey)),
    template: opt(raw(Tag.Template)),
    secretData: opt(raw(Tag.SecretData)),
    opaqueObject: opt(raw(Tag.OpaqueObject)),
    pgpKey: opt(raw(Tag.PGPKey)),
  };
}

export type ObjectKey = keyof ReturnType<typeof objectFields>;

export const OBJECT_KEYS = Object.keys(objectFields()) as ObjectKey[];

/** The payload key under which an object structure with this tag travels. */
const KEY_BY_TAG = new Map<number, ObjectKey>(
  Object.entries(objectFields()).map(([key, f]) => [f.tag, key as ObjectKey]),
);

export function objectKeyForTag(tag: number): ObjectKey | undefined {
  return KEY_BY_TAG.get(tag);
}
