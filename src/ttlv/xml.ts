// The KMIP XML encoding (KMIP Profiles 2.1 §5.4.1): one element per TTLV item, named by the
// tag's normalised name, with `type` and `value` attributes. Lossless against binary TTLV.
//
// A small strict XML reader of our own rather than a general XML library: the encoding needs
// elements, attributes, comments and character references only, and two things a library hides
// — the line of each element for error messages, and the raw attribute text, because a value
// whose raw text starts with `$` is a conformance placeholder (Profiles §4) while `&#36;` is a
// literal dollar sign. DTDs, entities other than the five predefined ones, CDATA and text
// content are refused.

import { invalidMessage, KmipError } from '../errors.js';
import { ItemType, type TtlvItem } from './item.js';
import { type DecodeLimits, resolveLimits } from './limits.js';
import { Tag } from './spec/generated.js';
import {
  attributeNameOf,
  bytesToHex,
  formatDateTime,
  formatEnumeration,
  hexToBytes,
  maskTokens,
  parseBigIntegerHex,
  parseBooleanText,
  parseDateTime,
  parseEnumeration,
  parseInt64,
  parseIntegerTokens,
  parseTagText,
  parseTypeName,
  parseUint32,
  tagText,
  type ValueDomain,
  valueDomain,
} from './text-values.js';

/** A value as the item tree holds it, for one primitive item type. */
export type PrimitiveValue = number | bigint | boolean | string | Uint8Array;

/**
 * Supplies the value of a placeholder (`$UNIQUE_IDENTIFIER_0`, `$NOW-3600`, Profiles §4). `text`
 * is the raw attribute text, `type` the item type, `path` the tag path of the item.
 */
export type PlaceholderResolver = (text: string, type: ItemType, path: string[]) => PrimitiveValue;

export interface XmlReadOptions {
  placeholders?: PlaceholderResolver;
  limits?: Partial<DecodeLimits>;
}

export interface XmlWriteOptions {
  /** Indentation per level; '' writes everything on one line. Default two spaces. */
  indent?: string;
}

// ---------------------------------------------------------------------------------------------
// Writing

export function ttlvToXml(item: TtlvItem, opts: XmlWriteOptions = {}): string {
  const indent = opts.indent ?? '  ';
  const out: string[] = [];
  writeItem(item, undefined, 0, indent, out);
  return indent === '' ? out.join('') : `${out.join('\n')}\n`;
}

function writeItem(
  item: TtlvItem,
  attributeName: string | undefined,
  depth: number,
  indent: string,
  out: string[],
): void {
  const pad = indent.repeat(depth);
  const name = tagText(item.tag);
  const generic = name.startsWith('0x');
  const open = generic ? `TTLV tag="${name}"` : name;
  const close = generic ? 'TTLV' : name;
  if (item.type === ItemType.Structure) {
    if (item.value.length === 0) {
      out.push(`${pad}<${open}/>`);
      return;
    }
    out.push(`${pad}<${open}>`);
    const childName = attributeNameOf(item.value);
    for (const child of item.value) writeItem(child, childName, depth + 1, indent, out);
    out.push(`${pad}</${close}>`);
    return;
  }
  const domain = valueDomain(item.tag, item.type, attributeName);
  const value = escapeAttribute(formatXmlValue(item, domain), item.type === ItemType.TextString);
  out.push(`${pad}<${open} type="${TYPE_NAMES[item.type]}" value="${value}"/>`);
}

const TYPE_NAMES = Object.fromEntries(
  Object.entries(ItemType).map(([name, code]) => [code, name]),
) as Record<ItemType, string>;

function formatXmlValue(item: Exclude<TtlvItem, { type: 1 }>, domain: ValueDomain): string {
  switch (item.type) {
    case ItemType.Integer:
      return maskTokens(domain, item.value)?.join(' ') ?? String(item.value);
    case ItemType.Enumeration:
      return formatEnumeration(domain, item.value);
    case ItemType.Interval:
    case ItemType.LongInteger:
    case ItemType.DateTimeExtended:
      return String(item.value);
    case ItemType.DateTime:
      return formatDateTime(item.value);
    case ItemType.BigInteger:
    case ItemType.ByteString:
      return bytesToHex(item.value);
    case ItemType.Boolean:
      return item.value ? 'true' : 'false';
    case ItemType.TextString:
      return item.value;
  }
}

/**
 * Escapes an attribute value. Tab, CR and LF become character references because XML
 * attribute-value normalisation would turn them into spaces; other control characters too,
 * so that any Text String survives. A leading `$` is written `&#36;` so that it is never read
 * back as a placeholder.
 */
function escapeAttribute(text: string, isText: boolean): string {
  let s = text.replace(/[&<>"\u0000-\u001f\u007f\ufffe\uffff]/g, (c) => {
    switch (c) {
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      case '"':
        return '&quot;';
      default:
        return `&#${c.charCodeAt(0)};`;
    }
  });
  if (isText && s.startsWith('$')) s = `&#36;${s.slice(1)}`;
  return s;
}

// ---------------------------------------------------------------------------------------------
// Reading

/** Reads one message: the document's root element is the item. */
export function xmlToTtlv(text: string, opts: XmlReadOptions = {}): TtlvItem {
  const root = parseXmlDocument(text, opts);
  return new ItemReader(opts).item(root, undefined);
}

/**
 * Reads a document holding several messages, such as a conformance test case: a `<KMIP>` (or
 * `<KmipTestCase>`) root whose children are messages. Any other root is one message.
 */
export function xmlToTtlvItems(text: string, opts: XmlReadOptions = {}): TtlvItem[] {
  const root = parseXmlDocument(text, opts);
  const reader = new ItemReader(opts);
  if (root.name !== 'KMIP' && root.name !== 'KmipTestCase') return [reader.item(root, undefined)];
  return root.children.map((child, i) => {
    try {
      return reader.item(child, undefined);
    } catch (err) {
      if (err instanceof KmipError) err.within(`${root.name}[${i}]`);
      throw err;
    }
  });
}

/**
 * The conformance files' own pre-processing (FORMAT.md §2): drops `#` annotation lines and
 * anything after the root element closes (TC-ECDSA-SIGN-1-14 closes `</KMIP>` twice).
 */
export function conformanceXmlText(text: string): string {
  const lines = text.split(/\r?\n/).filter((line) => !/^\s*#/.test(line));
  const joined = lines.join('\n');
  const root = /<([A-Za-z][\w.-]*)/.exec(joined.replace(/<!--[\s\S]*?-->/g, ''));
  if (root === null) return joined;
  const end = joined.indexOf(`</${root[1]}>`);
  return end < 0 ? joined : joined.slice(0, end + root[1]!.length + 3);
}

interface XmlAttribute {
  raw: string;
  value: string;
}

interface XmlElement {
  name: string;
  attrs: Map<string, XmlAttribute>;
  children: XmlElement[];
  line: number;
}

class ItemReader {
  private readonly placeholders: PlaceholderResolver | undefined;
  private readonly maxItems: number;
  private items = 0;
  private readonly path: string[] = [];

  constructor(opts: XmlReadOptions) {
    this.placeholders = opts.placeholders;
    this.maxItems = resolveLimits(opts.limits).maxItems;
  }

  item(el: XmlElement, attributeName: string | undefined): TtlvItem {
    let tag: number | undefined;
    try {
      tag = elementTag(el);
      this.path.push(tagText(tag));
      if (++this.items > this.maxItems) throw invalidMessage(`more than ${this.maxItems} items`);
      const typeAttr = el.attrs.get('type');
      const type = typeAttr === undefined ? ItemType.Structure : parseTypeName(typeAttr.value);
      const valueAttr = el.attrs.get('value');
      if (type === ItemType.Structure) {
        if (valueAttr !== undefined) throw invalidMessage('a Structure has no value attribute');
        return { tag, type, value: this.children(el) };
      }
      if (el.children.length > 0) throw invalidMessage(`a ${TYPE_NAMES[type]} has no children`);
      if (valueAttr === undefined) throw invalidMessage('missing value attribute');
      return this.primitive(tag, type, valueAttr, valueDomain(tag, type, attributeName));
    } catch (err) {
      if (err instanceof KmipError) {
        if (!err.message.includes(' (line ')) err.message += ` (line ${el.line})`;
        err.within(tag === undefined ? el.name : tagText(tag));
      }
      throw err;
    } finally {
      if (tag !== undefined) this.path.pop();
    }
  }

  private children(el: XmlElement): TtlvItem[] {
    const nameEl = el.children.find(
      (c) =>
        c.attrs.get('type')?.value === 'TextString' &&
        elementTagOrUndefined(c) === Tag.AttributeName,
    );
    const attributeName = nameEl?.attrs.get('value')?.value;
    const items: TtlvItem[] = [];
    const seen = new Map<string, number>();
    for (const child of el.children) {
      try {
        const item = this.item(child, attributeName);
        const label = tagText(item.tag);
        seen.set(label, (seen.get(label) ?? 0) + 1);
        items.push(item);
      } catch (err) {
        if (err instanceof KmipError) {
          const label = err.path[0];
          const n = label === undefined ? 0 : (seen.get(label) ?? 0);
          if (n > 0) err.path[0] = `${label}[${n}]`;
        }
        throw err;
      }
    }
    return items;
  }

  private primitive(tag: number, type: ItemType, attr: XmlAttribute, d: ValueDomain): TtlvItem {
    if (attr.raw.startsWith('$')) return this.placeholder(tag, type, attr.raw);
    const text = attr.value;
    switch (type) {
      case ItemType.Integer:
        return { tag, type, value: parseIntegerTokens(d, text.split(/\s+/).filter(Boolean)) };
      case ItemType.Enumeration:
        return { tag, type, value: parseEnumeration(d, text.trim()) };
      case ItemType.Interval:
        return { tag, type, value: parseUint32(text.trim()) };
      case ItemType.LongInteger:
      case ItemType.DateTimeExtended:
        return { tag, type, value: parseInt64(text.trim()) };
      case ItemType.DateTime:
        return { tag, type, value: parseDateTime(text.trim()) };
      case ItemType.BigInteger:
        return { tag, type, value: parseBigIntegerHex(text.trim()) };
      case ItemType.ByteString:
        return { tag, type, value: hexToBytes(text.trim(), 'Byte String value') };
      case ItemType.Boolean:
        return { tag, type, value: parseBooleanText(text.trim()) };
      case ItemType.TextString:
        return { tag, type, value: text };
      default:
        throw invalidMessage(`unknown item type ${type}`);
    }
  }

  private placeholder(tag: number, type: ItemType, text: string): TtlvItem {
    if (this.placeholders === undefined) {
      throw invalidMessage(`unresolved placeholder ${text}`);
    }
    const value = this.placeholders(text, type, [...this.path]);
    const item = { tag, type, value } as TtlvItem;
    if (!valueFitsType(item)) {
      throw invalidMessage(
        `placeholder ${text} resolved to a value that is no ${TYPE_NAMES[type]}`,
      );
    }
    return item;
  }
}

function valueFitsType(item: TtlvItem): boolean {
  const v: unknown = item.value;
  switch (item.type) {
    case ItemType.Integer:
    case ItemType.Enumeration:
    case ItemType.Interval:
      return typeof v === 'number';
    case ItemType.LongInteger:
    case ItemType.DateTime:
    case ItemType.DateTimeExtended:
      return typeof v === 'bigint';
    case ItemType.BigInteger:
    case ItemType.ByteString:
      return v instanceof Uint8Array;
    case ItemType.Boolean:
      return typeof v === 'boolean';
    case ItemType.TextString:
      return typeof v === 'string';
    default:
      return false;
  }
}

function elementTagOrUndefined(el: XmlElement): number | undefined {
  if (el.name === 'TTLV') {
    const tag = el.attrs.get('tag');
    return tag === undefined ? undefined : parseTagText(tag.value.trim());
  }
  return parseTagText(el.name);
}

function elementTag(el: XmlElement): number {
  if (el.name === 'TTLV' && !el.attrs.has('tag')) throw invalidMessage('TTLV element without tag');
  const tag = elementTagOrUndefined(el);
  if (tag === undefined) {
    const shown = el.name === 'TTLV' ? el.attrs.get('tag')?.value : el.name;
    throw invalidMessage(`unknown tag '${shown}'`);
  }
  return tag;
}

// ---------------------------------------------------------------------------------------------
// The XML reader

const NAME = /[A-Za-z0-9_:][-A-Za-z0-9_.:]*/y;
const SPACE = /[ \t\n]*/y;

function parseXmlDocument(text: string, opts: XmlReadOptions): XmlElement {
  return new XmlParser(text, resolveLimits(opts.limits).maxDepth).document();
}

class XmlParser {
  private pos = 0;
  private readonly s: string;

  constructor(
    text: string,
    private readonly maxDepth: number,
  ) {
    this.s = text.replace(/^\ufeff/, '').replace(/\r\n?/g, '\n');
  }

  document(): XmlElement {
    this.misc();
    if (this.s.startsWith('<!DOCTYPE', this.pos)) this.fail('DTDs are not accepted');
    if (this.s[this.pos] !== '<') this.fail('expected the root element');
    const root = this.element(1);
    this.misc();
    if (this.pos < this.s.length) this.fail('content after the root element');
    return root;
  }

  private readonly newlines: number[] = [];

  /** 1-based line of an offset, by binary search over the newline offsets. */
  private line(at = this.pos): number {
    if (this.newlines.length === 0) {
      for (let i = this.s.indexOf('\n'); i >= 0; i = this.s.indexOf('\n', i + 1)) {
        this.newlines.push(i);
      }
      this.newlines.push(Number.POSITIVE_INFINITY);
    }
    let lo = 0;
    let hi = this.newlines.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.newlines[mid]! < at) lo = mid + 1;
      else hi = mid;
    }
    return lo + 1;
  }

  private fail(message: string, at = this.pos): never {
    throw invalidMessage(`malformed XML: ${message} (line ${this.line(at)})`);
  }

  private skipSpace(): void {
    SPACE.lastIndex = this.pos;
    SPACE.exec(this.s);
    this.pos = SPACE.lastIndex;
  }

  /** Whitespace, comments and processing instructions (the XML declaration). */
  private misc(): void {
    for (;;) {
      this.skipSpace();
      if (this.s.startsWith('<!--', this.pos)) this.comment();
      else if (this.s.startsWith('<?', this.pos)) {
        const end = this.s.indexOf('?>', this.pos);
        if (end < 0) this.fail('unterminated processing instruction');
        this.pos = end + 2;
      } else return;
    }
  }

  private comment(): void {
    const end = this.s.indexOf('-->', this.pos + 4);
    if (end < 0) this.fail('unterminated comment');
    this.pos = end + 3;
  }

  private name(): string {
    NAME.lastIndex = this.pos;
    const m = NAME.exec(this.s);
    if (m === null) this.fail('expected a name');
    this.pos = NAME.lastIndex;
    return m[0];
  }

  private element(depth: number): XmlElement {
    const start = this.pos;
    if (depth > this.maxDepth + 1) this.fail(`elements nested deeper than ${this.maxDepth}`);
    this.pos++; // '<'
    const name = this.name().replace(/^[^:]*:/, '');
    const el: XmlElement = { name, attrs: new Map(), children: [], line: this.line(start) };
    for (;;) {
      const before = this.pos;
      this.skipSpace();
      const c = this.s[this.pos];
      if (c === '/') {
        if (this.s[this.pos + 1] !== '>') this.fail("expected '/>'");
        this.pos += 2;
        return el;
      }
      if (c === '>') {
        this.pos++;
        break;
      }
      if (c === undefined) this.fail(`unterminated <${name}>`);
      if (before === this.pos) this.fail('expected whitespace between attributes');
      this.attribute(el);
    }
    for (;;) {
      this.skipSpace();
      if (this.s.startsWith('</', this.pos)) {
        this.pos += 2;
        const closing = this.name().replace(/^[^:]*:/, '');
        if (closing !== name) this.fail(`</${closing}> closes <${name}>`);
        this.skipSpace();
        if (this.s[this.pos] !== '>') this.fail("expected '>'");
        this.pos++;
        return el;
      }
      if (this.s.startsWith('<!--', this.pos)) this.comment();
      else if (this.s.startsWith('<!', this.pos) || this.s.startsWith('<?', this.pos)) {
        this.fail('CDATA, DTDs and processing instructions are not accepted here');
      } else if (this.s[this.pos] === '<') el.children.push(this.element(depth + 1));
      else if (this.pos >= this.s.length) this.fail(`unterminated <${name}>`);
      else this.fail(`text content in <${name}>`);
    }
  }

  private attribute(el: XmlElement): void {
    const at = this.pos;
    const name = this.name();
    this.skipSpace();
    if (this.s[this.pos] !== '=') this.fail(`expected '=' after ${name}`);
    this.pos++;
    this.skipSpace();
    const quote = this.s[this.pos];
    if (quote !== '"' && quote !== "'") this.fail('expected a quoted attribute value');
    const end = this.s.indexOf(quote, this.pos + 1);
    if (end < 0) this.fail('unterminated attribute value');
    const raw = this.s.slice(this.pos + 1, end);
    if (raw.includes('<')) this.fail(`'<' in attribute ${name}`);
    this.pos = end + 1;
    if (name === 'xmlns' || name.startsWith('xmlns:')) return;
    if (el.attrs.has(name)) this.fail(`duplicate attribute ${name}`, at);
    el.attrs.set(name, { raw, value: this.unescape(raw, at) });
  }

  private unescape(raw: string, at: number): string {
    // Attribute-value normalisation (XML 1.0 §3.3.3): literal whitespace becomes a space.
    return raw.replace(/[\t\n]/g, ' ').replace(/&([^;&]*);?/g, (whole, ref: string) => {
      if (!whole.endsWith(';')) this.fail(`bare '&' in attribute value`, at);
      switch (ref) {
        case 'lt':
          return '<';
        case 'gt':
          return '>';
        case 'amp':
          return '&';
        case 'quot':
          return '"';
        case 'apos':
          return "'";
      }
      const m = /^#(?:x([0-9a-fA-F]{1,6})|([0-9]{1,7}))$/.exec(ref);
      const cp = m === null ? -1 : Number.parseInt(m[1] ?? m[2]!, m[1] === undefined ? 10 : 16);
      if (cp < 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        this.fail(`unknown reference &${ref};`, at);
      }
      return String.fromCodePoint(cp);
    });
  }
}
