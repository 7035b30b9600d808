// Structural comparison of an actual response tree with the expected one from a test case
// (FORMAT.md §6), and of a request the server sent (Put, Notify: KMIP 1.4 §5) with the
// expected request. Normative basis, KMIP Profiles 2.1 §4.1: "Other variations not explicitly
// noted in this section SHALL be deemed non-conformant." Every tolerance below names the item
// of §4.1.1 (Variable items, Allowed response variations) or §4.1.2 (Variable behavior) that
// permits it; anything else must match: same tag, same type, same value, same children.

import { ItemType, type TtlvItem } from '../ttlv/item.js';
import { formatTtlv } from '../ttlv/pretty.js';
import { Operation, PaddingMethod, ResultStatus, Tag } from '../ttlv/spec/generated.js';
import { enumName, tagName } from '../ttlv/spec/index.js';
import { childOf } from './loader.js';
import {
  attributeTagOf,
  type Bound,
  type CaseState,
  effectiveTag,
  type Placeholder,
  sameValue,
} from './placeholders.js';

export interface Mismatch {
  /** Tag path, e.g. `ResponseMessage › BatchItem › ResponsePayload › UniqueIdentifier`. */
  path: string;
  message: string;
  expected?: string;
  actual?: string;
}

/** What the runner knows about one batch item of the request, for the tolerances. */
export interface BatchContext {
  operation: number | undefined;
  /** §4.1.1 items 7, 8, 11: outputs under a server-generated key or of a random process. */
  variableOutputs: boolean;
  /** Decrypt of a ciphertext an earlier response returned (not a literal of the test). */
  ciphertextFromServer: boolean;
  /** §4.1.1 item 12: Get or Export without a Key Format Type in the request. */
  keyFormatChosenByServer: boolean;
  /** §4.1.1 "Discover Versions may list extra versions when the client sent none". */
  discoverAll: boolean;
  /** FORMAT.md §6: Locate results are a set unless Maximum Items or Offset Items are given. */
  locateAsSet: boolean;
}

/** §4.1.1 items 1-5, 10, 19, 20 and "Vendor Identification text": any value of the type. */
const ANY_VALUE = new Set<number>([
  Tag.UniqueIdentifier,
  Tag.PrivateKeyUniqueIdentifier,
  Tag.PublicKeyUniqueIdentifier,
  Tag.UniqueBatchItemID,
  Tag.AsynchronousCorrelationValue,
  Tag.TimeStamp,
  Tag.LinkedObjectIdentifier,
  Tag.ServerCorrelationValue,
  Tag.ClientCorrelationValue,
  Tag.VendorIdentification,
]);

/** §4.1.1 item 9: DateTime attributes the server sets unless the request fixed them. */
const SERVER_DATES = new Set<number>([
  Tag.ActivationDate,
  Tag.ArchiveDate,
  Tag.CompromiseDate,
  Tag.CompromiseOccurrenceDate,
  Tag.DeactivationDate,
  Tag.DestroyDate,
  Tag.InitialDate,
  Tag.LastChangeDate,
  Tag.ProcessStartDate,
  Tag.ProtectStopDate,
  Tag.ValidityDate,
  Tag.OriginalCreationDate,
]);

/** §4.1.1 items 7, 8, 11: values that vary with a server-generated key or random process. */
const OUTPUT_TAGS = new Set<number>([
  Tag.KeyMaterial,
  Tag.KeyValue,
  Tag.Data,
  Tag.SignatureData,
  Tag.MACData,
  Tag.IVCounterNonce,
  Tag.AuthenticatedEncryptionTag,
  Tag.DigestValue,
  Tag.CorrelationValue,
]);

/**
 * Structures whose contents may be anything: §4.1.1 "the contents of Server Information (the
 * structure itself must be present)" and "Random Number Generator attribute contents (any RNG
 * Algorithm, optional fields present or not)". Query RNGs answers with RNG Parameters, the
 * structure that is the value of the Random Number Generator attribute, describing the same
 * generator, so the same variation applies to it; the number of generators is still compared.
 */
const ANY_CONTENTS = new Set<number>([
  Tag.ServerInformation,
  Tag.RandomNumberGenerator,
  Tag.RNGParameters,
]);

/** Children whose presence and value are not compared, wherever they are. */
const NEVER_COMPARED = new Set<number>([
  // §4.1.1 "Result Message may be absent or have any text".
  Tag.ResultMessage,
]);

/** Children whose presence and value are not compared inside a given parent. */
function droppedIn(parent: number, ctx: BatchContext | undefined): ReadonlySet<number> {
  if (parent === Tag.ResponseHeader) {
    // §4.1.1 items 19, 20: Server and Client Correlation Value.
    return new Set([Tag.ServerCorrelationValue, Tag.ClientCorrelationValue]);
  }
  if (parent === Tag.ResponsePayload && ctx?.operation === Operation.Locate) {
    // §4.1.1 "LocatedItems may appear even without OffsetItems".
    return new Set([Tag.LocatedItems]);
  }
  if (parent === Tag.ResponsePayload && ctx?.operation === Operation.Query) {
    // §4.1.1 items 14, 15: Extensions and Application Namespaces in Query. Items 16, 17:
    // Object Types and Operations "beyond those the profile requires" may differ; the lists in
    // the files are one vendor's, and which entries each profile requires is not encoded here,
    // so these lists are not compared at all (a known gap: a server listing nothing passes).
    return new Set([
      Tag.ExtensionInformation,
      Tag.ApplicationNamespace,
      Tag.Operation,
      Tag.ObjectType,
    ]);
  }
  return EMPTY;
}
const EMPTY: ReadonlySet<number> = new Set();

type Mode = 'ordered' | 'subset' | 'set' | 'subsequence' | 'attributes';

function modeOf(parent: number, ctx: BatchContext | undefined, depthInPayload: number): Mode {
  const op = ctx?.operation;
  // A Put or Notify the server sent carries the object's attributes as a Get Attributes answer
  // does: §4.1.1 item 21 (additional attributes) and §4.1.2 (any order) apply to its Attribute
  // list; the fields before it keep their order.
  if (parent === Tag.RequestPayload && (op === Operation.Put || op === Operation.Notify)) {
    return 'attributes';
  }
  if (parent === Tag.ResponsePayload) {
    // §4.1.2 "the order of attributes returned by Get Attributes is unspecified"; §4.1.1 item
    // 21 "additional attributes beyond those shown in the response", extra Object Group values
    // and vendor attributes (1.x: the Attribute list; Get Attribute List: the name list).
    if (op === Operation.GetAttributes || op === Operation.GetAttributeList) return 'subset';
    // §4.1.1 items 16, 17: Query may report object types and operations beyond the profile's.
    if (op === Operation.Query) return 'subset';
    if (op === Operation.Locate && ctx?.locateAsSet) return 'set';
    if (op === Operation.DiscoverVersions && ctx?.discoverAll) return 'subsequence';
  }
  // 2.x: the children of Attributes in a Get Attributes response, and in an Export response,
  // which returns "all of the object's attributes" (the same two variations apply).
  const attributeAnswer = op === Operation.GetAttributes || op === Operation.Export;
  if (parent === Tag.Attributes && attributeAnswer && depthInPayload === 1) return 'subset';
  return 'ordered';
}

interface Walk {
  /** Path of the parent structure. */
  path: string[];
  /** Position among same-tag siblings when the tag repeats, or a 1.x attribute's name. */
  index?: number | string | undefined;
  batch: BatchContext | undefined;
  /** Tag a 1.x AttributeValue stands for, from its sibling AttributeName. */
  attributeTag: number | undefined;
  underKeyMaterial: boolean;
  /** Depth below the batch item's ResponsePayload; -1 outside it. */
  depthInPayload: number;
}

export class Comparator {
  /** Bindings made by this comparison; the caller commits them after a match. */
  pending = new Map<string, Bound>();

  constructor(
    private readonly state: CaseState,
    private readonly marks: ReadonlyMap<TtlvItem, Placeholder>,
  ) {}

  /** Compares a whole response message. `batches[i]` describes request batch item i. */
  compareMessage(expected: TtlvItem, actual: TtlvItem, batches: BatchContext[]): Mismatch[] {
    return this.item(
      expected,
      actual,
      {
        path: [],
        batch: undefined,
        attributeTag: undefined,
        underKeyMaterial: false,
        depthInPayload: -1,
      },
      batches,
    );
  }

  /** Writes the pending bindings into the case state. */
  commit(): void {
    for (const [k, v] of this.pending) this.state.bindings.set(k, v);
    this.pending.clear();
  }

  private item(e: TtlvItem, a: TtlvItem, w: Walk, batches: BatchContext[] = []): Mismatch[] {
    const label = w.index === undefined ? tagName(e.tag) : `${tagName(e.tag)}[${w.index}]`;
    const path = [...w.path, label];
    if (e.tag !== a.tag) {
      return [
        mismatch(this.marks, path, `expected tag ${tagName(e.tag)}, found ${tagName(a.tag)}`, e, a),
      ];
    }
    if (e.type !== a.type) {
      return [mismatch(this.marks, path, 'item types differ', e, a, this.marks.get(e))];
    }
    if (e.type === ItemType.Structure && a.type === ItemType.Structure) {
      if (ANY_CONTENTS.has(effectiveTag(e.tag, w.attributeTag))) return [];
      return this.structure(e, a, { ...w, path }, batches);
    }
    return this.primitive(e, a, { ...w, path });
  }

  private structure(
    e: Extract<TtlvItem, { type: 1 }>,
    a: Extract<TtlvItem, { type: 1 }>,
    w: Walk,
    batches: BatchContext[],
  ): Mismatch[] {
    const dropped = droppedIn(e.tag, w.batch);
    const keep = (c: TtlvItem) => !NEVER_COMPARED.has(c.tag) && !dropped.has(c.tag);
    const ev = e.value.filter(keep);
    const av = a.value.filter(keep);
    const attributeTag = attributeTagOf(e.value);
    const child = (c: TtlvItem, i: number, items: readonly TtlvItem[]): Walk => ({
      path: w.path,
      index: siblingIndex(c, i, items),
      batch: w.batch,
      attributeTag,
      underKeyMaterial: w.underKeyMaterial || e.tag === Tag.KeyMaterial,
      depthInPayload: w.depthInPayload >= 0 ? w.depthInPayload + 1 : -1,
    });
    const mode = modeOf(e.tag, w.batch, w.depthInPayload);
    if (mode === 'attributes') {
      const attribute = (c: TtlvItem) => c.tag === Tag.Attribute;
      const other = (c: TtlvItem) => c.tag !== Tag.Attribute;
      const first = this.ordered(
        e,
        a,
        ev.filter(other),
        av.filter(other),
        w,
        batches,
        child,
        false,
        false,
      );
      if (first.length > 0) return first;
      return this.unordered(ev.filter(attribute), av.filter(attribute), 'subset', w, child);
    }
    if (mode !== 'ordered') return this.unordered(ev, av, mode, w, child);

    // §4.1.1 item 12: a Key Format Type the server chose may differ; the key value then has
    // another shape and is not compared.
    const skipKeyValue =
      e.tag === Tag.KeyBlock &&
      w.batch?.keyFormatChosenByServer === true &&
      !sameItem(childOf(e, Tag.KeyFormatType), childOf(a, Tag.KeyFormatType));
    // §4.1.1 item 13: the Digest's Hashing Algorithm may differ, and then so does its value.
    const skipDigestValue =
      e.tag === Tag.Digest &&
      !sameItem(childOf(e, Tag.HashingAlgorithm), childOf(a, Tag.HashingAlgorithm));

    // A response with the wrong number of batch items is best explained by the items
    // themselves, so they are compared before the header's Batch Count.
    if (e.tag === Tag.ResponseMessage || e.tag === Tag.RequestMessage) {
      const items = (xs: TtlvItem[]) => xs.filter((x) => x.tag === Tag.BatchItem);
      const first = this.ordered(e, a, items(ev), items(av), w, batches, child, false, false);
      if (first.length > 0) return first;
    }
    return this.ordered(e, a, ev, av, w, batches, child, skipKeyValue, skipDigestValue);
  }

  private ordered(
    e: Extract<TtlvItem, { type: 1 }>,
    a: Extract<TtlvItem, { type: 1 }>,
    ev: TtlvItem[],
    av: TtlvItem[],
    w: Walk,
    batches: BatchContext[],
    child: (c: TtlvItem, i: number, items: readonly TtlvItem[]) => Walk,
    skipKeyValue: boolean,
    skipDigestValue: boolean,
  ): Mismatch[] {
    const out: Mismatch[] = [];
    const n = Math.max(ev.length, av.length);
    for (let i = 0; i < n; i++) {
      const ec = ev[i];
      const ac = av[i];
      if (ec === undefined) {
        out.push(mismatch(this.marks, w.path, `unexpected ${tagName(ac!.tag)}`, undefined, ac));
        break;
      }
      if (ac === undefined) {
        out.push(
          mismatch(
            this.marks,
            w.path,
            `missing ${tagName(ec.tag)}`,
            ec,
            undefined,
            this.marks.get(ec),
          ),
        );
        break;
      }
      if (ec.tag !== ac.tag) {
        const missing = !av.slice(i).some((x) => x.tag === ec.tag);
        const msg = missing
          ? `missing ${tagName(ec.tag)} (found ${tagName(ac.tag)} in its place)`
          : `expected ${tagName(ec.tag)}, found ${tagName(ac.tag)}`;
        out.push(mismatch(this.marks, w.path, msg, ec, ac, this.marks.get(ec)));
        break;
      }
      if (skipKeyValue && (ec.tag === Tag.KeyValue || ec.tag === Tag.KeyFormatType)) continue;
      if (skipDigestValue && (ec.tag === Tag.DigestValue || ec.tag === Tag.HashingAlgorithm)) {
        continue;
      }
      let cw = child(ec, i, ev);
      if (
        (e.tag === Tag.ResponseMessage || e.tag === Tag.RequestMessage) &&
        ec.tag === Tag.BatchItem
      ) {
        const b = ev.slice(0, i).filter((x) => x.tag === Tag.BatchItem).length;
        cw = { ...cw, batch: batches[b] };
      }
      if (
        e.tag === Tag.BatchItem &&
        (ec.tag === Tag.ResponsePayload || ec.tag === Tag.RequestPayload)
      ) {
        cw = { ...cw, depthInPayload: 0 };
      }
      out.push(...this.item(ec, ac, cw, batches));
      if (out.length > 0) break;
    }
    if (e.tag === Tag.BatchItem && out.length > 0) explainResult(out[0]!, a);
    return out;
  }

  /**
   * Multiset matching: every expected child must match a distinct actual child. Expected
   * children without unbound placeholders are matched first, so that a placeholder does not
   * take an item a literal needs.
   */
  private unordered(
    ev: TtlvItem[],
    av: TtlvItem[],
    mode: Exclude<Mode, 'ordered' | 'attributes'>,
    w: Walk,
    child: (c: TtlvItem, i: number, items: readonly TtlvItem[]) => Walk,
  ): Mismatch[] {
    const used = new Array<boolean>(av.length).fill(false);
    if (mode === 'subsequence') {
      let j = 0;
      for (const [i, ec] of ev.entries()) {
        let found = false;
        for (; j < av.length && !found; j++) found = this.tryMatch(ec, av[j]!, child(ec, i, ev));
        if (!found)
          return [mismatch(this.marks, w.path, `missing ${tagName(ec.tag)} (in order)`, ec)];
      }
      return [];
    }
    // Get Attribute List names each attribute once (KMIP 2.1 §6.1.22); SKFF-M-9-14/-21 list
    // State twice, which no server can match, so repeated expected names count once.
    const expected =
      w.batch?.operation === Operation.GetAttributeList
        ? ev.filter(
            (c, i) => c.type === ItemType.Structure || ev.findIndex((x) => sameItem(x, c)) === i,
          )
        : ev;
    const order = expected
      .map((c, i) => ({ c, i, free: this.hasUnbound(c) }))
      .sort((x, y) => Number(x.free) - Number(y.free) || x.i - y.i);
    for (const { c: ec, i } of order) {
      const key = keyOf(ec);
      const named = ec.tag === Tag.Attribute ? `'${key.slice(key.indexOf('/') + 1)}'` : undefined;
      const cw = { ...child(ec, i, expected), ...(named === undefined ? {} : { index: named }) };
      let found = -1;
      for (let j = 0; j < av.length && found < 0; j++) {
        if (!used[j] && av[j]!.tag === ec.tag && this.tryMatch(ec, av[j]!, cw)) found = j;
      }
      if (found >= 0) {
        used[found] = true;
        continue;
      }
      const peers = av.filter((x, j) => !used[j] && keyOf(x) === key);
      if (peers.length === 1) {
        // One candidate with the same tag (and 1.x attribute name): show where it differs.
        const inner = this.item(ec, peers[0]!, cw);
        if (inner.length > 0) return inner;
      }
      const what = named === undefined ? tagName(ec.tag) : `Attribute ${named}`;
      return [
        mismatch(
          this.marks,
          w.path,
          peers.length === 0
            ? `missing ${what}`
            : `no ${what} matches (${peers.length} candidates differ)`,
          ec,
          peers[0],
          this.marks.get(ec),
        ),
      ];
    }
    if (mode === 'set') {
      const extra = av.findIndex((_, j) => !used[j]);
      if (extra >= 0)
        return [
          mismatch(
            this.marks,
            w.path,
            `unexpected ${tagName(av[extra]!.tag)}`,
            undefined,
            av[extra],
          ),
        ];
    }
    return [];
  }

  private tryMatch(e: TtlvItem, a: TtlvItem, w: Walk): boolean {
    const saved = this.pending;
    this.pending = new Map(saved);
    const ok = this.item(e, a, w).length === 0;
    if (!ok) this.pending = saved;
    return ok;
  }

  private hasUnbound(it: TtlvItem): boolean {
    if (it.type === ItemType.Structure) return it.value.some((c) => this.hasUnbound(c));
    const p = this.marks.get(it);
    return p !== undefined && this.bound(p.text) === undefined;
  }

  private bound(name: string): Bound | undefined {
    return this.pending.get(name) ?? this.state.bindings.get(name);
  }

  private primitive(e: TtlvItem, a: TtlvItem, w: Walk): Mismatch[] {
    const tag = effectiveTag(e.tag, w.attributeTag);
    const p = this.marks.get(e);
    const actual = { type: a.type, value: a.value } as Bound;
    if (p !== undefined) {
      switch (p.kind) {
        case 'any':
          return [];
        case 'now': {
          // FORMAT.md §5: a date the client supplied must be echoed exactly; a date the server
          // sets is a variable item (§4.1.1 items 6, 9).
          const sent = this.state.sentNow.get(`${tag}:${p.text}`);
          if (sent === undefined || sent.has(a.value as bigint)) return [];
          return [
            mismatch(this.marks, w.path, `expected the ${p.text} value the request sent`, e, a, p),
          ];
        }
        case 'output':
          this.pending.set(p.text, actual);
          return [];
        case 'identifier':
        case 'random': {
          const b = this.bound(p.text);
          if (b === undefined) {
            this.pending.set(p.text, actual);
            return [];
          }
          if (b.type === a.type && sameValue(b.value, a.value as Bound['value'])) return [];
          return [mismatch(this.marks, w.path, `${p.text} was bound to another value`, e, a, p, b)];
        }
      }
    }
    if (ANY_VALUE.has(tag)) return [];
    if (a.type === ItemType.DateTime && SERVER_DATES.has(tag)) {
      // §4.1.1 item 9: "DateTime attributes not fixed by the request".
      const sent = this.state.sentDates.get(tag);
      if (sent === undefined || sent.has(a.value)) return [];
      return [mismatch(this.marks, w.path, 'expected a date the request sent', e, a)];
    }
    if (w.batch?.variableOutputs === true && (w.underKeyMaterial || OUTPUT_TAGS.has(tag))) {
      // Decrypting what the server itself encrypted must give the plaintext back exactly.
      const roundTrip = w.batch.ciphertextFromServer && tag === Tag.Data;
      if (!roundTrip) return [];
    }
    if (sameValue(e.value as Bound['value'], a.value as Bound['value'])) return [];
    return [mismatch(this.marks, w.path, 'values differ', e, a)];
  }
}

/** Batch context of one request batch item, from its materialised payload. */
export function batchContextOf(
  operation: number | undefined,
  payload: TtlvItem | undefined,
  serverGeneratedTarget: boolean,
  ciphertextFromServer = false,
): BatchContext {
  const has = (tag: number, pred: (it: TtlvItem) => boolean = () => true) =>
    payload !== undefined && findItem(payload, (it) => it.tag === tag && pred(it)) !== undefined;
  // §4.1.1 item 8: outputs with a random IV or nonce, OAEP or PSS randomness, or random
  // numbers vary even under a key the test supplied. Encrypt without an IV lets the server
  // choose one (random, except in ECB mode, which is accepted leniently here).
  const randomized =
    operation === Operation.RNGRetrieve ||
    has(Tag.RandomIV, (it) => it.value === true) ||
    has(
      Tag.PaddingMethod,
      (it) => it.value === PaddingMethod.OAEP || it.value === PaddingMethod.PSS,
    ) ||
    (operation === Operation.Encrypt && !has(Tag.IVCounterNonce));
  const emptyPayload =
    payload === undefined || (payload.type === ItemType.Structure && payload.value.length === 0);
  return {
    operation,
    variableOutputs: serverGeneratedTarget || randomized,
    ciphertextFromServer: operation === Operation.Decrypt && ciphertextFromServer,
    keyFormatChosenByServer:
      (operation === Operation.Get || operation === Operation.Export) && !has(Tag.KeyFormatType),
    discoverAll: operation === Operation.DiscoverVersions && emptyPayload,
    locateAsSet: operation === Operation.Locate && !has(Tag.MaximumItems) && !has(Tag.OffsetItems),
  };
}

/** Adds the server's Result Reason and Result Message to a mismatch in a failed batch item. */
function explainResult(m: Mismatch, a: Extract<TtlvItem, { type: 1 }>): void {
  const status = childOf(a, Tag.ResultStatus);
  if (status?.type !== ItemType.Enumeration || status.value === ResultStatus.Success) return;
  const reason = childOf(a, Tag.ResultReason);
  const text = childOf(a, Tag.ResultMessage);
  const parts = [enumName(Tag.ResultStatus, status.value) ?? String(status.value)];
  if (reason?.type === ItemType.Enumeration) {
    parts.push(enumName(Tag.ResultReason, reason.value) ?? String(reason.value));
  }
  if (text?.type === ItemType.TextString) parts.push(JSON.stringify(text.value));
  m.message += ` (server: ${parts.join(' ')})`;
}

export function findItem(it: TtlvItem, pred: (it: TtlvItem) => boolean): TtlvItem | undefined {
  if (pred(it)) return it;
  if (it.type !== ItemType.Structure) return undefined;
  for (const c of it.value) {
    const f = findItem(c, pred);
    if (f !== undefined) return f;
  }
  return undefined;
}

function keyOf(it: TtlvItem): string {
  if (it.tag === Tag.Attribute && it.type === ItemType.Structure) {
    const name = childOf(it, Tag.AttributeName);
    return `${it.tag}/${name?.type === ItemType.TextString ? name.value : ''}`;
  }
  return String(it.tag);
}

function sameItem(x: TtlvItem | undefined, y: TtlvItem | undefined): boolean {
  if (x === undefined || y === undefined) return x === y;
  return (
    x.type !== ItemType.Structure &&
    x.type === y.type &&
    sameValue(x.value as Bound['value'], y.value as Bound['value'])
  );
}

/** Position among same-tag siblings (`BatchItem[1]`) when the tag repeats, else undefined. */
function siblingIndex(c: TtlvItem, i: number, items: readonly TtlvItem[]): number | undefined {
  if (items.filter((x) => x.tag === c.tag).length === 1) return undefined;
  return items.slice(0, i).filter((x) => x.tag === c.tag).length;
}

function mismatch(
  marks: ReadonlyMap<TtlvItem, Placeholder>,
  path: readonly string[],
  message: string,
  e?: TtlvItem,
  a?: TtlvItem,
  p?: Placeholder,
  bound?: Bound,
): Mismatch {
  const m: Mismatch = { path: joinPath(path), message };
  if (e !== undefined) {
    m.expected = p === undefined ? show(e, marks) : `${tagName(e.tag)} ${p.text}`;
    if (bound !== undefined)
      m.expected += ` (bound to ${show({ tag: e.tag, ...bound } as TtlvItem)})`;
  }
  if (a !== undefined) m.actual = show(a);
  return m;
}

/**
 * Key material is shown: conformance keys are published test data. Placeholders of the
 * expected tree are shown by name (as text items, whatever their type).
 */
function show(it: TtlvItem, marks?: ReadonlyMap<TtlvItem, Placeholder>): string {
  const named = (x: TtlvItem): TtlvItem => {
    if (x.type === ItemType.Structure) return { ...x, value: x.value.map(named) };
    const p = marks?.get(x);
    return p === undefined ? x : { tag: x.tag, type: ItemType.TextString, value: p.text };
  };
  return formatTtlv(marks === undefined ? it : named(it), {
    maxBytes: 48,
    revealKeyMaterial: true,
  });
}

function joinPath(path: readonly string[]): string {
  return path.join(' › ');
}
