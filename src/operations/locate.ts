// KMIP 2.1 §6.1.27 Locate (KMIP 1.4 §4.9): objects of the caller whose attributes match every
// attribute given. Two instances of a date attribute are a range (inclusive); one instance,
// or any other attribute, must be equal. Results come in a stable order, newest first;
// Offset Items skips, Maximum Items caps, Located Items (1.3+) counts all matches. The server
// answers at most --max-locate-items identifiers (default 1,000) whatever Maximum Items asks.

import { locateScope } from '../auth/scope.js';
import { KmipError } from '../errors.js';
import { attribute1x, attributeSet, templateAttribute } from '../kmip/attribute-fields.js';
import type { Attribute } from '../kmip/attributes.js';
import { int, many, opt, struct, text, versions } from '../kmip/schema.js';
import { indexEntries } from '../objects/repository.js';
import type { LocateFilter } from '../store/object-store.js';
import { ItemType } from '../ttlv/item.js';
import { ResultReason, State, StorageStatusMask, Tag } from '../ttlv/spec/generated.js';
import { DEFAULT_MAX_LOCATE_ITEMS, operation } from './context.js';

const LocateRequest = struct({
  maximumItems: opt(int(Tag.MaximumItems)),
  offsetItems: opt(versions(int(Tag.OffsetItems), { since: '1.3' })),
  storageStatusMask: opt(int(Tag.StorageStatusMask)),
  objectGroupMember: opt(versions(int(Tag.ObjectGroupMember), { since: '1.1' })),
  attributeList: many(attribute1x()),
  // Some 1.0 clients wrap the filter attributes in a Template-Attribute, as Create does.
  templateAttribute: opt(templateAttribute(Tag.TemplateAttribute)),
  attributes: opt(attributeSet(Tag.Attributes)),
});

const LocateResponse = struct({
  locatedItems: opt(versions(int(Tag.LocatedItems), { since: '1.3' })),
  uniqueIdentifiers: many(text(Tag.UniqueIdentifier)),
});

/** Pre-Active, Active, Deactivated and Compromised are the contiguous values 1-4 (§11.47). */
const LIVE_STATES = { min: State.PreActive, max: State.Compromised } as const;

/** Most attributes one Locate may give (the server adds State and access filters). */
export const MAX_LOCATE_ATTRIBUTES = 128;

export function locateFilters(given: readonly Attribute[]): LocateFilter[] {
  if (given.length > MAX_LOCATE_ATTRIBUTES) {
    throw new KmipError(
      ResultReason.InvalidField,
      `a Locate may give at most ${MAX_LOCATE_ATTRIBUTES} attributes, not ${given.length}`,
    );
  }
  const filters: LocateFilter[] = [];
  const dates = new Map<string, bigint[]>();
  for (const a of given) {
    if (a.value.type === ItemType.DateTime) {
      dates.set(a.name, [...(dates.get(a.name) ?? []), a.value.value]);
      continue;
    }
    const [entry] = indexEntries([a]);
    if (entry === undefined) {
      throw new KmipError(ResultReason.InvalidField, `cannot locate by ${a.name}`);
    }
    filters.push({ name: a.name, op: 'eq', value: entry.value });
  }
  for (const [name, values] of dates) {
    if (values.length === 1) filters.push({ name, op: 'eq', value: values[0]! });
    else {
      const sorted = [...values].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
      filters.push({ name, op: 'range', min: sorted[0]!, max: sorted[sorted.length - 1]! });
    }
  }
  return filters;
}

export const locate = operation({
  request: LocateRequest,
  response: LocateResponse,
  async run(req, ctx) {
    const given = [
      ...(req.attributeList ?? []),
      ...(req.templateAttribute ?? []),
      ...(req.attributes ?? []),
    ];
    const mask = req.storageStatusMask;
    // Every object here is in on-line storage; a mask without that bit matches nothing.
    if (mask !== undefined && mask !== 0 && (mask & StorageStatusMask.OnLineStorage) === 0) {
      return { locatedItems: 0, uniqueIdentifiers: [] };
    }
    const max = req.maximumItems;
    const offset = req.offsetItems ?? 0;
    if ((max !== undefined && max < 0) || offset < 0) {
      throw new KmipError(
        ResultReason.InvalidField,
        'Maximum Items and Offset Items must not be negative',
      );
    }
    const filters = locateFilters(given);
    // Destroyed objects have no value to offer; they are found only when asked for by State.
    if (!filters.some((f) => f.name === 'State')) {
      filters.push({ name: 'State', op: 'range', min: LIVE_STATES.min, max: LIVE_STATES.max });
    }
    // The caller's own objects, and those granted to it for Locate (src/auth/scope.ts), newest
    // first as the KMIP test cases order them (TC-OFFSET-1-14). The server's cap bounds every
    // answer (Maximum Items: "the server MAY return fewer"); Located Items, answered when the
    // client pages with Offset Items, counts every match so the client can page past the cap.
    const cap = ctx.maxLocateItems ?? DEFAULT_MAX_LOCATE_ITEMS;
    const { uids, total } = await locateScope(ctx, filters, {
      offset,
      limit: Math.min(max ?? cap, cap),
      countAll: req.offsetItems !== undefined,
    });
    return { locatedItems: total, uniqueIdentifiers: uids };
  },
});
