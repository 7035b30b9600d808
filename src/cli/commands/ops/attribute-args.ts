// Attributes typed on the command line: `NAME=VALUE` or NAME and VALUE, the value read by the
// attribute's item type in the spec table (enumeration names, masks as comma lists, dates in
// ISO 8601, bytes in hex). Custom attributes (x-…, vendor-name) are text.

import { attributeNameArg, oneAttribute } from '../../../client/attributes.js';
import type { Attribute } from '../../../kmip/attributes.js';
import { ItemType } from '../../../ttlv/item.js';
import { tagDefByName } from '../../../ttlv/spec/index.js';
import { hexArg } from './common.js';

export function attributeFromText(name: string, text: string): Attribute {
  const internal = attributeNameArg(name);
  const def = tagDefByName(internal);
  if (def === undefined) return oneAttribute(internal, text);
  const value = (() => {
    switch (def.type) {
      case ItemType.Integer:
        return def.mask !== undefined ? text.split(',').map((s) => s.trim()) : Number(text);
      case ItemType.LongInteger:
        return BigInt(text);
      case ItemType.Interval:
        return Number(text);
      case ItemType.Boolean:
        if (text !== 'true' && text !== 'false') throw new Error(`${name} must be true or false`);
        return text === 'true';
      case ItemType.DateTime: {
        const d = text === 'now' ? new Date() : new Date(text);
        if (Number.isNaN(d.getTime())) throw new Error(`${name} must be an ISO 8601 date or now`);
        return d;
      }
      case ItemType.ByteString:
        return hexArg(text, name);
      default:
        return text;
    }
  })();
  if (typeof value === 'number' && Number.isNaN(value)) throw new Error(`${name} must be a number`);
  return oneAttribute(internal, value);
}

/** `NAME=VALUE` pairs from --attr. */
export function attributePairs(pairs: readonly string[] | undefined): Attribute[] {
  return (pairs ?? []).map((p) => {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new Error(`--attr wants NAME=VALUE, got '${p}'`);
    return attributeFromText(p.slice(0, eq), p.slice(eq + 1));
  });
}
