// Placeholders (symbolic identifiers) of the conformance test cases, KMIP Profiles 2.1 §4:
// "Symbolic identifiers are of the form $UPPERCASE_NAME followed by optional unique index
// value." FORMAT.md §5 lists the ones in the corpus and what a runner does with each.
//
// A test case is parsed once. Each placeholder becomes a unique sentinel value of the item's
// type during XML reading and is then recorded in a side table (`marks`) keyed by the item, so
// the parsed tree stays a plain TtlvItem tree. Requests are materialised per step from that
// tree; expected responses are compared with the marks in view.

import { randomBytes } from 'node:crypto';
import { ItemType, type TtlvItem } from '../ttlv/item.js';
import { Tag } from '../ttlv/spec/generated.js';
import { tagDefBySpecName } from '../ttlv/spec/index.js';
import type { PrimitiveValue } from '../ttlv/xml.js';

export type PlaceholderKind =
  /** Server-chosen identifiers: bound at first sight in a response, equal afterwards. */
  | 'identifier'
  /**
   * Outputs of the server (key material, ciphertext, signatures, IVs, correlation values):
   * rebound at each response occurrence (§4.1.1 items 7, 8, 11); a request-first occurrence
   * takes the latest value of the same tag from an earlier response (FORMAT.md §5).
   */
  | 'output'
  /** `$NOW±n`: the real time plus n seconds in requests (Profiles §4). */
  | 'now'
  /** `*_RANDOM_*`: a fresh value the server does not know (negative tests). */
  | 'random'
  /** Any value of the type: Server Correlation Value (§4.1.1 item 19). */
  | 'any';

export interface Placeholder {
  text: string;
  kind: PlaceholderKind;
  /** Seconds added to the current time for `$NOW±n`. */
  offset: number;
}

const IDENTIFIER = /^\$(?:SHORT_)?UNIQUE_IDENTIFIER(?:_\d+)?$|^\$TICKET_VALUE(?:_\d+)?$/;
const OUTPUT =
  /^\$(?:CORRELATION_VALUE|KEY_MATERIAL|KEY_VALUE|DIGEST_VALUE|DATA|IV_COUNTER_NONCE|AUTHENTICATED_ENCRYPTION_TAG|SIGNATURE_DATA|MAC_DATA)(?:_\d+)?$/;
const NOW = /^\$NOW(?:([+-])(\d+))?$/;
const RANDOM = /^\$[A-Z_]*_RANDOM(?:_\d+)?$/;

export class HarnessError extends Error {
  override readonly name = 'HarnessError';
}

/** Classifies a placeholder; an unknown one is a harness error (FORMAT.md §5 step 3). */
export function classifyPlaceholder(text: string): Placeholder {
  const now = NOW.exec(text);
  if (now !== null) {
    const n = now[2] === undefined ? 0 : Number(now[2]);
    return { text, kind: 'now', offset: now[1] === '-' ? -n : n };
  }
  if (RANDOM.test(text)) return { text, kind: 'random', offset: 0 };
  if (text === '$SERVER_CORRELATION_VALUE') return { text, kind: 'any', offset: 0 };
  if (IDENTIFIER.test(text)) return { text, kind: 'identifier', offset: 0 };
  if (OUTPUT.test(text)) return { text, kind: 'output', offset: 0 };
  throw new HarnessError(`unknown placeholder ${text}`);
}

/** A parsed message with its placeholder items. */
export interface MessageTemplate {
  item: TtlvItem;
  marks: ReadonlyMap<TtlvItem, Placeholder>;
}

/**
 * Hands out sentinel values while the XML reader runs, then finds them in the parsed tree.
 * Text sentinels start with NUL (no KMIP text holds one), byte-string sentinels are recognised
 * by identity, numbers by a fractional part, 64-bit values by a range no test uses.
 */
export class SentinelTable {
  private readonly byText = new Map<string, Placeholder>();
  private readonly byBytes = new Map<Uint8Array, Placeholder>();
  private readonly byBigint = new Map<bigint, Placeholder>();
  private readonly byNumber = new Map<number, Placeholder>();
  private next = 0;

  readonly resolver = (text: string, type: ItemType): PrimitiveValue => {
    const p = classifyPlaceholder(text);
    const k = this.next++;
    switch (type) {
      case ItemType.TextString: {
        const v = `\u0000placeholder:${k}`;
        this.byText.set(v, p);
        return v;
      }
      case ItemType.ByteString:
      case ItemType.BigInteger: {
        const v = new Uint8Array(type === ItemType.BigInteger ? 8 : 0);
        this.byBytes.set(v, p);
        return v;
      }
      case ItemType.DateTime:
      case ItemType.LongInteger:
      case ItemType.DateTimeExtended: {
        const v = -(1n << 62n) - BigInt(k);
        this.byBigint.set(v, p);
        return v;
      }
      case ItemType.Integer:
      case ItemType.Enumeration:
      case ItemType.Interval: {
        const v = k + 0.5;
        this.byNumber.set(v, p);
        return v;
      }
      default:
        throw new HarnessError(`placeholder ${text} in an item of type ${type}`);
    }
  };

  /** Collects the placeholder items of a parsed tree. */
  template(item: TtlvItem): MessageTemplate {
    const marks = new Map<TtlvItem, Placeholder>();
    const walk = (it: TtlvItem): void => {
      if (it.type === ItemType.Structure) {
        for (const c of it.value) walk(c);
        return;
      }
      const v: unknown = it.value;
      const p =
        typeof v === 'string'
          ? this.byText.get(v)
          : v instanceof Uint8Array
            ? this.byBytes.get(v)
            : typeof v === 'bigint'
              ? this.byBigint.get(v)
              : typeof v === 'number'
                ? this.byNumber.get(v)
                : undefined;
      if (p !== undefined) marks.set(it, p);
    };
    walk(item);
    return { item, marks };
  }
}

/** A concrete value bound to a placeholder name, with the item type it came from. */
export interface Bound {
  type: ItemType;
  value: PrimitiveValue;
}

export function sameValue(a: PrimitiveValue, b: PrimitiveValue): boolean {
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
  }
  return a === b;
}

/**
 * The state of one test case: placeholder bindings, the latest server output per tag (for
 * request-first placeholders), and the `$NOW±n` values actually sent, per tag, so that a
 * response echoing a client-supplied date must echo it exactly (FORMAT.md §5).
 */
export class CaseState {
  readonly bindings = new Map<string, Bound>();
  readonly lastOutputByTag = new Map<number, Bound>();
  /** `${tag}:${placeholder}` → DateTime values sent. */
  readonly sentNow = new Map<string, Set<bigint>>();
  /** Effective tag → literal DateTime values sent (a date fixed by the request, §4.1.1 item 9). */
  readonly sentDates = new Map<number, Set<bigint>>();
  /** Unique identifiers returned by operations that generate an object on the server. */
  readonly generatedIds = new Set<string>();
  /** Latest identifier returned by any response: the ID Placeholder value. */
  lastId: string | undefined;

  /**
   * Deep-copies a request template with every placeholder replaced (FORMAT.md §5 step 3).
   * `now` is the step's current time in whole seconds, fixed once per step. `record: false`
   * keeps the dates out of the dates the server must echo: for the response the runner sends
   * back to a server-to-client request (src/conformance/push-listener.ts).
   */
  materialise(t: MessageTemplate, now: bigint, { record = true } = {}): TtlvItem {
    const copy = (it: TtlvItem, attributeTag: number | undefined): TtlvItem => {
      if (it.type === ItemType.Structure) {
        const nameTag = attributeTagOf(it.value);
        return { ...it, value: it.value.map((c) => copy(c, nameTag)) };
      }
      const effective = effectiveTag(it.tag, attributeTag);
      const p = t.marks.get(it);
      if (p === undefined) {
        if (record && it.type === ItemType.DateTime) addTo(this.sentDates, effective, it.value);
        return { ...it } as TtlvItem;
      }
      return {
        tag: it.tag,
        type: it.type,
        value: this.requestValue(p, it, effective, now, record),
      } as TtlvItem;
    };
    return copy(t.item, undefined);
  }

  private requestValue(
    p: Placeholder,
    it: TtlvItem,
    tag: number,
    now: bigint,
    record: boolean,
  ): PrimitiveValue {
    switch (p.kind) {
      case 'now': {
        if (it.type !== ItemType.DateTime) throw new HarnessError(`${p.text} in a non-DateTime`);
        const v = now + BigInt(p.offset);
        if (record) addTo(this.sentNow, `${tag}:${p.text}`, v);
        return v;
      }
      case 'random': {
        const bound = this.bindings.get(p.text);
        if (bound !== undefined) return this.checkType(p, it, bound);
        const value =
          it.type === ItemType.TextString
            ? `conformance-random-${randomBytes(12).toString('hex')}`
            : new Uint8Array(randomBytes(16));
        if (it.type !== ItemType.TextString && it.type !== ItemType.ByteString) {
          throw new HarnessError(`${p.text} in an item of type ${it.type}`);
        }
        this.bindings.set(p.text, { type: it.type, value });
        return value;
      }
      case 'identifier':
      case 'output': {
        let bound = this.bindings.get(p.text);
        if (bound === undefined && p.kind === 'output') {
          bound = this.lastOutputByTag.get(it.tag);
          if (bound !== undefined) this.bindings.set(p.text, bound);
        }
        if (bound === undefined) {
          throw new HarnessError(`${p.text} is used in a request before any response bound it`);
        }
        return this.checkType(p, it, bound);
      }
      case 'any':
        throw new HarnessError(`${p.text} has no value to send`);
    }
  }

  private checkType(p: Placeholder, it: TtlvItem, bound: Bound): PrimitiveValue {
    if (bound.type !== it.type) {
      throw new HarnessError(
        `${p.text} is bound to a type ${bound.type} value, used as ${it.type}`,
      );
    }
    return bound.value;
  }
}

function addTo<K>(map: Map<K, Set<bigint>>, key: K, value: bigint): void {
  let set = map.get(key);
  if (set === undefined) {
    set = new Set();
    map.set(key, set);
  }
  set.add(value);
}

/**
 * In a 1.x `Attribute{AttributeName, AttributeValue}` the value's meaning comes from the name
 * (FORMAT.md §9): returns the tag that name stands for, if the structure is such an attribute.
 */
export function attributeTagOf(children: readonly TtlvItem[]): number | undefined {
  const name = children.find((c) => c.tag === Tag.AttributeName);
  if (name === undefined || name.type !== ItemType.TextString) return undefined;
  return tagDefBySpecName(name.value)?.tag;
}

/** The tag an item stands for: a 1.x AttributeValue stands for its attribute's tag. */
export function effectiveTag(tag: number, attributeTag: number | undefined): number {
  return tag === Tag.AttributeValue && attributeTag !== undefined ? attributeTag : tag;
}
