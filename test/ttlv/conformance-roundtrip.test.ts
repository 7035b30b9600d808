// Every request and response of the KMIP 1.4 and 2.1 OASIS conformance test cases goes
// XML -> item tree -> binary TTLV -> item tree -> XML with nothing lost (KMIP Profiles 2.1
// §5.4.1). The original and the re-encoded XML are compared as element trees after
// normalising what the encoding lets vary: whitespace, hex case, mask order, number formats
// and time zones. The expected side is read by a separate, naive tokenizer, not by the codec.
// Placeholders (Profiles §4, FORMAT.md §5) are resolved to unique generated values that map
// back to the placeholder text on the way out.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeTtlv, encodeTtlv } from '../../src/ttlv/binary.js';
import { ItemType } from '../../src/ttlv/item.js';
import { maskValue, tagDefByName, tagDefBySpecName } from '../../src/ttlv/spec/index.js';
import { bytesToHex } from '../../src/ttlv/text-values.js';
import {
  conformanceXmlText,
  type PrimitiveValue,
  ttlvToXml,
  xmlToTtlvItems,
} from '../../src/ttlv/xml.js';

const ROOT =
  process.env.KMIP_CONFORMANCE_DIR ?? join(import.meta.dirname, '../../fixtures/conformance');
const SETS = [
  'kmip-profiles-v1.4-os',
  'kmip-profiles-v2.1-os',
  'kmip-testcases-v1.4-cnprd01',
  'kmip-testcases-v2.1-cn01',
];

function xmlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return xmlFiles(p);
    return e.name.endsWith('.xml') ? [p] : [];
  });
}

// --- A naive element tokenizer for the expected side ----------------------------------------

interface El {
  name: string;
  attrs: Record<string, string>;
  children: El[];
}

function naiveParse(text: string): El[] {
  const stack: El[] = [{ name: '#root', attrs: {}, children: [] }];
  const token = /<!--[\s\S]*?-->|<(\/?)([^\s/>]+)((?:\s+[\w:]+\s*=\s*"[^"]*")*)\s*(\/?)>/g;
  for (const m of text.matchAll(token)) {
    if (m[0].startsWith('<!--')) continue;
    const [, closing, name, attrText, selfClosing] = m;
    if (closing) {
      stack.pop();
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const a of attrText!.matchAll(/([\w:]+)\s*=\s*"([^"]*)"/g)) {
      attrs[a[1]!] = a[2]!
        .replace(/&#(\d+);/g, (_, d) => String.fromCodePoint(Number(d)))
        .replace(/&#x([0-9a-f]+);/gi, (_, h) => String.fromCodePoint(Number.parseInt(h, 16)))
        .replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>')
        .replace(/&quot;/g, '"')
        .replace(/&amp;/g, '&');
    }
    const el: El = { name: name!, attrs, children: [] };
    stack.at(-1)!.children.push(el);
    if (!selfClosing) stack.push(el);
  }
  return stack[0]!.children;
}

// --- Placeholders ----------------------------------------------------------------------------

/** Maps each placeholder to a unique value of its type, and that value's canonical text back. */
class PlaceholderTable {
  private readonly forward = new Map<string, PrimitiveValue>();
  readonly back = new Map<string, string>();
  private n = 0;

  resolve = (text: string, type: ItemType): PrimitiveValue => {
    const key = `${type}:${text}`;
    let value = this.forward.get(key);
    if (value === undefined) {
      const n = ++this.n;
      if (type === ItemType.TextString) value = `placeholder#${n}`;
      else if (type === ItemType.ByteString)
        value = Buffer.from(`fe11${String(n).padStart(8, '0')}`, 'hex');
      else if (type === ItemType.DateTime) value = 4_000_000_000n + BigInt(n);
      else throw new Error(`no generator for a placeholder of type ${type}`);
      this.forward.set(key, value);
      this.back.set(`${type}:${canonicalOf(value)}`, text);
    }
    return value;
  };
}

function canonicalOf(value: PrimitiveValue): string {
  return value instanceof Uint8Array ? bytesToHex(value) : String(value);
}

// --- Normalisation ---------------------------------------------------------------------------

const TYPE_CODES = ItemType as Record<string, ItemType>;

function maskDomain(el: El, siblings: El[]): number | undefined {
  if (el.name === 'AttributeValue') {
    const nameEl = siblings.find((s) => s.name === 'AttributeName');
    const text = nameEl?.attrs.value;
    if (text !== undefined) return (tagDefBySpecName(text) ?? tagDefByName(text))?.tag;
  }
  return tagDefByName(el.name)?.tag;
}

function normalValue(el: El, siblings: El[], table: PlaceholderTable): string {
  const type = el.attrs.type ?? 'Structure';
  const raw = el.attrs.value ?? '';
  const code = TYPE_CODES[type]!;
  if (raw.startsWith('$')) return raw;
  let canonical: string;
  switch (type) {
    case 'Integer': {
      const tokens = raw.trim().split(/\s+/);
      if (tokens.length === 1 && /^-?\d+$/.test(tokens[0]!)) {
        canonical = String(Number(tokens[0]));
        break;
      }
      if (tokens.length === 1 && /^0x/i.test(tokens[0]!)) {
        canonical = String(Number.parseInt(tokens[0]!, 16) | 0);
        break;
      }
      const domain = maskDomain(el, siblings);
      let bits = 0;
      for (const t of tokens) {
        const v = /^0x/i.test(t) ? Number.parseInt(t, 16) : maskValue(domain ?? -1, [t]);
        if (v === undefined) return `unresolvable mask token ${t}`;
        bits |= v;
      }
      canonical = String(bits | 0);
      break;
    }
    case 'LongInteger':
    case 'DateTimeExtended':
      canonical = String(BigInt(raw.trim()));
      break;
    case 'Interval':
      canonical = String(Number(raw.trim()));
      break;
    case 'DateTime':
      canonical = /^0x/i.test(raw)
        ? String(BigInt.asIntN(64, BigInt(raw)))
        : String(Date.parse(raw) / 1000);
      break;
    case 'ByteString':
    case 'BigInteger':
      canonical = raw.toLowerCase();
      break;
    case 'Enumeration':
      canonical = /^0x/i.test(raw) ? `0x${raw.slice(2).toLowerCase().padStart(8, '0')}` : raw;
      break;
    default:
      canonical = raw;
  }
  return table.back.get(`${code}:${canonical}`) ?? canonical;
}

function normalise(el: El, siblings: El[], table: PlaceholderTable): unknown {
  const type = el.attrs.type ?? 'Structure';
  if (type === 'Structure') {
    return { [el.name]: el.children.map((c) => normalise(c, el.children, table)) };
  }
  return { [el.name]: `${type} ${normalValue(el, siblings, table)}` };
}

// --- The test --------------------------------------------------------------------------------

const files = SETS.flatMap((set) => xmlFiles(join(ROOT, set))).sort();

describe('conformance test cases: XML -> binary TTLV -> XML (Profiles 2.1 §5.4.1)', () => {
  let messages = 0;

  it.each(files.map((f) => [f.slice(ROOT.length + 1), f]))('%s', (_, file) => {
    const text = conformanceXmlText(readFileSync(file, 'latin1'));
    const table = new PlaceholderTable();
    const items = xmlToTtlvItems(text, { placeholders: table.resolve });
    const expected = naiveParse(text)[0]!.children;
    expect(items.length).toBe(expected.length);
    items.forEach((item, i) => {
      const bytes = encodeTtlv(item);
      const back = ttlvToXml(decodeTtlv(bytes));
      const actual = naiveParse(back)[0]!;
      const want = expected[i]!;
      expect(normalise(actual, [], table)).toEqual(normalise(want, [], table));
      messages++;
    });
  });

  it('checked every file and message of the four sets', () => {
    expect(files.length).toBe(284);
    expect(messages).toBe(3310);
  });
});
