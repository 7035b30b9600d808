// A human-readable TTLV tree for logs, the CLI and test failure messages. Not an encoding: it
// is not meant to be parsed back (the XML and JSON encodings are).
//
//   RequestMessage (Structure)
//     BatchItem (Structure)
//       Operation (Enumeration) Create
//       CryptographicUsageMask (Integer) Encrypt|Decrypt
//
// Key material is hidden unless asked for: a byte string or Big Integer that is, or sits
// under, Key Material, and a byte string Key Value (a wrapped key), print as `<N bytes>`.

import { ItemType, type TtlvItem } from './item.js';
import { Tag } from './spec/generated.js';
import {
  attributeNameOf,
  bytesToHex,
  formatDateTime,
  formatEnumeration,
  maskTokens,
  tagText,
  valueDomain,
} from './text-values.js';

export interface PrettyOptions {
  /** Print key material and passwords in full. Default false. */
  revealKeyMaterial?: boolean;
  /** Byte strings longer than this are cut, with their length shown. Default 32. */
  maxBytes?: number;
  /** Indentation per level. Default two spaces. */
  indent?: string;
}

const TYPE_NAMES = Object.fromEntries(
  Object.entries(ItemType).map(([name, code]) => [code, name]),
) as Record<ItemType, string>;

export function formatTtlv(item: TtlvItem, opts: PrettyOptions = {}): string {
  const lines: string[] = [];
  const o = {
    reveal: opts.revealKeyMaterial ?? false,
    maxBytes: opts.maxBytes ?? 32,
    indent: opts.indent ?? '  ',
  };
  walk(item, 0, false, undefined, o, lines);
  return lines.join('\n');
}

interface Resolved {
  reveal: boolean;
  maxBytes: number;
  indent: string;
}

function walk(
  item: TtlvItem,
  depth: number,
  underKeyMaterial: boolean,
  attributeName: string | undefined,
  o: Resolved,
  lines: string[],
): void {
  const head = `${o.indent.repeat(depth)}${tagText(item.tag)} (${TYPE_NAMES[item.type] ?? item.type})`;
  if (item.type === ItemType.Structure) {
    lines.push(head);
    const inner = underKeyMaterial || item.tag === Tag.KeyMaterial;
    const childName = attributeNameOf(item.value);
    for (const child of item.value) walk(child, depth + 1, inner, childName, o, lines);
    return;
  }
  lines.push(`${head} ${valueText(item, underKeyMaterial, attributeName, o)}`);
}

function valueText(
  item: Exclude<TtlvItem, { type: 1 }>,
  underKeyMaterial: boolean,
  attributeName: string | undefined,
  o: Resolved,
): string {
  const domain = valueDomain(item.tag, item.type, attributeName);
  switch (item.type) {
    case ItemType.Integer:
      return maskTokens(domain, item.value)?.join('|') ?? String(item.value);
    case ItemType.Enumeration:
      return formatEnumeration(domain, item.value);
    case ItemType.Interval:
    case ItemType.LongInteger:
    case ItemType.DateTimeExtended:
      return String(item.value);
    case ItemType.DateTime:
      return formatDateTime(item.value);
    case ItemType.Boolean:
      return String(item.value);
    case ItemType.TextString:
      if (!o.reveal && item.tag === Tag.Password) return `<${item.value.length} characters>`;
      return JSON.stringify(item.value);
    case ItemType.BigInteger:
    case ItemType.ByteString: {
      const secret =
        underKeyMaterial ||
        item.tag === Tag.KeyMaterial ||
        (item.tag === Tag.KeyValue && item.type === ItemType.ByteString);
      if (secret && !o.reveal) return `<${item.value.length} bytes>`;
      const prefix = item.type === ItemType.BigInteger ? '0x' : '';
      if (item.value.length <= o.maxBytes) return `${prefix}${bytesToHex(item.value)}`;
      const shown = bytesToHex(item.value.subarray(0, o.maxBytes));
      return `${prefix}${shown}… (${item.value.length} bytes)`;
    }
  }
}
