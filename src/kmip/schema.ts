// Declarative payload schemas (STYLE: "a payload is a declaration"). A schema lists fields by
// tag, item type, cardinality and the KMIP versions that define them; one generic mapper reads
// a TTLV Structure into a typed object and writes one back, shaped for the peer's version.

import { KmipError } from '../errors.js';
import { ItemType, type StructureItem, type TtlvItem } from '../ttlv/item.js';
import { ResultReason } from '../ttlv/spec/generated.js';
import { type KmipVersion, tagName, versionAtLeast } from '../ttlv/spec/index.js';

type Mode = 'one' | 'opt' | 'many';

export interface Field<T, M extends Mode = 'one'> {
  readonly tag: number;
  readonly mode: M;
  readonly since?: KmipVersion;
  readonly until?: KmipVersion;
  read(item: TtlvItem, version: KmipVersion): T;
  write(tag: number, value: T, version: KmipVersion): TtlvItem;
}

// biome-ignore lint/suspicious/noExplicitAny: a schema is a record of heterogeneous fields
export type Fields = Record<string, Field<any, Mode>>;

type ValueOf<F> = F extends Field<infer T, infer M> ? (M extends 'many' ? T[] : T) : never;
type RequiredKeys<S extends Fields> = {
  [K in keyof S]: S[K] extends Field<unknown, 'one' | 'many'> ? K : never;
}[keyof S];
type OptionalKeys<S extends Fields> = Exclude<keyof S, RequiredKeys<S>>;

/** The object type a schema reads to and writes from. */
export type Infer<S extends Fields> = { [K in RequiredKeys<S>]: ValueOf<S[K]> } & {
  [K in OptionalKeys<S>]?: ValueOf<S[K]>;
};

/** The value type a struct schema reads and writes. */
export type TypeOf<S> = S extends StructSchema<infer T> ? T : never;

export interface StructSchema<T> {
  readonly fields: Fields;
  read(item: TtlvItem, version: KmipVersion): T;
  write(tag: number, value: T, version: KmipVersion): StructureItem;
}

function wrongType(item: TtlvItem, expected: number): KmipError {
  return new KmipError(
    ResultReason.InvalidField,
    `expected item type ${expected}, got ${item.type}`,
    [tagName(item.tag)],
  );
}

function primitive<T>(type: number) {
  return (tag: number): Field<T> => ({
    tag,
    mode: 'one',
    read(item) {
      if (item.type !== type) throw wrongType(item, type);
      return item.value as T;
    },
    write(t, value) {
      return { tag: t, type, value } as TtlvItem;
    },
  });
}

export const int = primitive<number>(ItemType.Integer);
export const long = primitive<bigint>(ItemType.LongInteger);
export const bigInteger = primitive<Uint8Array>(ItemType.BigInteger);
export const enumeration = primitive<number>(ItemType.Enumeration);
export const bool = primitive<boolean>(ItemType.Boolean);
export const text = primitive<string>(ItemType.TextString);
export const bytes = primitive<Uint8Array>(ItemType.ByteString);
export const dateTime = primitive<bigint>(ItemType.DateTime);
export const interval = primitive<number>(ItemType.Interval);

/** Any item, kept as it is (attribute values, nested objects handled elsewhere). */
export function raw(tag: number): Field<TtlvItem> {
  return {
    tag,
    mode: 'one',
    read: (item) => item,
    write: (t, value) => (value.tag === t ? value : ({ ...value, tag: t } as TtlvItem)),
  };
}

export function opt<T>(f: Field<T>): Field<T, 'opt'> {
  return { ...f, mode: 'opt' };
}
export function many<T>(f: Field<T>): Field<T, 'many'> {
  return { ...f, mode: 'many' };
}
/** Restricts a field to the versions that define it (KMIP version ranges as metadata). */
export function versions<T, M extends Mode>(
  f: Field<T, M>,
  range: { since?: KmipVersion; until?: KmipVersion },
): Field<T, M> {
  return { ...f, ...range };
}

export function inVersion(
  f: { since?: KmipVersion; until?: KmipVersion },
  v: KmipVersion,
): boolean {
  if (f.since !== undefined && !versionAtLeast(v, f.since)) return false;
  if (f.until !== undefined && !versionAtLeast(f.until, v)) return false;
  return true;
}

/**
 * A Structure schema. Children are matched by tag, in any order; unknown children are
 * ignored (extensions and fields of other versions). A missing required field is Invalid Field.
 * Repeated fields read as arrays, empty when absent.
 */
export function struct<S extends Fields>(
  fields: S,
): StructSchema<Infer<S>> & { at(tag: number): Field<Infer<S>> } {
  const entries = Object.entries(fields);
  const byTag = new Map<number, [string, Field<unknown, Mode>]>();
  for (const [key, f] of entries) byTag.set(f.tag, [key, f]);
  const manyKeys = entries.filter(([, f]) => f.mode === 'many').map(([key]) => key);

  const schema: StructSchema<Infer<S>> = {
    fields,
    read(item, version) {
      if (item.type !== ItemType.Structure) throw wrongType(item, ItemType.Structure);
      const out: Record<string, unknown> = {};
      for (const key of manyKeys) out[key] = [];
      for (const child of item.value) {
        const hit = byTag.get(child.tag);
        if (hit === undefined) continue;
        const [key, f] = hit;
        let value: unknown;
        try {
          value = f.read(child, version);
        } catch (err) {
          if (err instanceof KmipError) err.within(tagName(item.tag));
          throw err;
        }
        if (f.mode === 'many') (out[key] as unknown[]).push(value);
        else if (key in out) {
          throw new KmipError(ResultReason.InvalidField, 'field given more than once', [
            tagName(item.tag),
            tagName(child.tag),
          ]);
        } else out[key] = value;
      }
      for (const [key, f] of entries) {
        if (f.mode === 'one' && !(key in out)) {
          throw new KmipError(ResultReason.InvalidField, `missing ${tagName(f.tag)}`, [
            tagName(item.tag),
          ]);
        }
      }
      return out as Infer<S>;
    },
    write(tag, value, version) {
      const children: TtlvItem[] = [];
      const v = value as Record<string, unknown>;
      for (const [key, f] of entries) {
        const x = v[key];
        if (x === undefined || !inVersion(f, version)) continue;
        if (f.mode === 'many') {
          for (const each of x as unknown[]) children.push(f.write(f.tag, each, version));
        } else children.push(f.write(f.tag, x, version));
      }
      return { tag, type: ItemType.Structure, value: children };
    },
  };
  return {
    ...schema,
    at(tag: number): Field<Infer<S>> {
      return { tag, mode: 'one', read: schema.read, write: schema.write };
    },
  };
}

/** A field backed by a custom schema-like reader/writer (e.g. the attribute list forms). */
export function custom<T>(
  tag: number,
  read: (item: TtlvItem, version: KmipVersion) => T,
  write: (tag: number, value: T, version: KmipVersion) => TtlvItem,
): Field<T> {
  return { tag, mode: 'one', read, write };
}
