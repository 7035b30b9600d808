// Runtime lookups over the generated spec table. Every map is built once at import: the codec
// calls these per item, so a lookup is one Map access. Enumerations are reached through their
// tag, never through a global name table, because value names repeat across enumerations.
import type { ItemType } from '../item.js';
import { ENUM_DEFS, type GeneratedGroupDef, MASK_DEFS, TAG_DEFS } from './generated.js';
import { normalizeName } from './normalize.js';

export * from './generated.js';
export { normalizeName } from './normalize.js';

export type KmipVersion = '1.0' | '1.1' | '1.2' | '1.3' | '1.4' | '2.0' | '2.1';
export const KMIP_VERSIONS: readonly KmipVersion[] = [
  '1.0',
  '1.1',
  '1.2',
  '1.3',
  '1.4',
  '2.0',
  '2.1',
];

const VERSION_INDEX = new Map<string, number>(KMIP_VERSIONS.map((v, i) => [v, i]));

export function versionFrom(major: number, minor: number): KmipVersion | undefined {
  const v = `${major}.${minor}`;
  return VERSION_INDEX.has(v) ? (v as KmipVersion) : undefined;
}

export function versionAtLeast(v: KmipVersion, min: KmipVersion): boolean {
  return VERSION_INDEX.get(v)! >= VERSION_INDEX.get(min)!;
}

export interface TagDef {
  name: string;
  specName: string;
  tag: number;
  /** undefined: the item type varies (by version or by context). */
  type: ItemType | undefined;
  since: KmipVersion;
  until?: KmipVersion;
  enumeration?: string;
  mask?: string;
}
export interface EnumValueDef {
  name: string;
  specName: string;
  value: number;
  since: KmipVersion;
  until?: KmipVersion;
}
export interface EnumDef {
  name: string;
  specName: string;
  values: readonly EnumValueDef[];
  tags: readonly string[];
}
export interface MaskDef {
  name: string;
  specName: string;
  values: readonly EnumValueDef[];
  tags: readonly string[];
}

interface Group {
  def: EnumDef;
  byValue: Map<number, EnumValueDef>;
  byName: Map<string, number>;
}

function inRange(d: { since: KmipVersion; until?: KmipVersion }, v: KmipVersion): boolean {
  const i = VERSION_INDEX.get(v)!;
  return (
    VERSION_INDEX.get(d.since)! <= i && (d.until === undefined || i <= VERSION_INDEX.get(d.until)!)
  );
}

const tagsByNumber = new Map<number, TagDef>();
const tagsByName = new Map<string, TagDef>();
const tagsBySpecName = new Map<string, TagDef>();
for (const d of TAG_DEFS as readonly TagDef[]) {
  tagsByNumber.set(d.tag, d);
  tagsByName.set(d.name, d);
  tagsBySpecName.set(d.specName, d);
}

function buildGroups(defs: readonly GeneratedGroupDef[]): Map<string, Group> {
  const groups = new Map<string, Group>();
  for (const g of defs) {
    const values = g.values.map(
      (v): EnumValueDef => ({
        name: v.name,
        specName: v.specName,
        value: v.value,
        since: v.since as KmipVersion,
        ...(v.until === undefined ? {} : { until: v.until as KmipVersion }),
      }),
    );
    const byValue = new Map<number, EnumValueDef>();
    const byName = new Map<string, number>();
    for (const [i, v] of values.entries()) {
      byValue.set(v.value, v);
      byName.set(v.name, v.value);
      byName.set(v.specName, v.value);
      for (const a of g.values[i]!.aliases ?? []) {
        byName.set(a, v.value);
        byName.set(normalizeName(a), v.value);
      }
    }
    const def: EnumDef = { name: g.name, specName: g.specName, values, tags: g.tags };
    groups.set(g.name, { def, byValue, byName });
  }
  return groups;
}

const enumGroups = buildGroups(ENUM_DEFS);
const maskGroups = buildGroups(MASK_DEFS);
/** Tag number → enumeration or mask group of that tag. */
const enumOfTag = new Map<number, Group>();
const maskOfTag = new Map<number, Group>();
for (const d of tagsByNumber.values()) {
  if (d.enumeration !== undefined) enumOfTag.set(d.tag, enumGroups.get(d.enumeration)!);
  if (d.mask !== undefined) maskOfTag.set(d.tag, maskGroups.get(d.mask)!);
}

export function tagDef(tag: number): TagDef | undefined {
  return tagsByNumber.get(tag);
}

/** By normalised name, e.g. 'CryptographicAlgorithm'. */
export function tagDefByName(name: string): TagDef | undefined {
  return tagsByName.get(name);
}

/** By the specification's name (the 1.x Attribute Name text, e.g. 'Cryptographic Algorithm'), or the normalised name. */
export function tagDefBySpecName(name: string): TagDef | undefined {
  return tagsBySpecName.get(name) ?? tagsByName.get(name);
}

/** Normalised name, or '0x54000a' style hex (6 digits, lower case) for an unknown tag. */
export function tagName(tag: number): string {
  return tagsByNumber.get(tag)?.name ?? `0x${tag.toString(16).padStart(6, '0')}`;
}

export function tagExistsIn(tag: number, v: KmipVersion): boolean {
  const d = tagsByNumber.get(tag);
  return d !== undefined && inRange(d, v);
}

export function enumDefForTag(tag: number): EnumDef | undefined {
  return enumOfTag.get(tag)?.def;
}

/** Normalised name of an enumeration value, in any version. */
export function enumName(tag: number, value: number): string | undefined {
  return enumOfTag.get(tag)?.byValue.get(value)?.name;
}

/** Accepts the normalised name, the spec name, or a recorded alias. */
export function enumValue(tag: number, name: string): number | undefined {
  return enumOfTag.get(tag)?.byName.get(name);
}

export function enumValueExistsIn(tag: number, value: number, v: KmipVersion): boolean {
  const d = enumOfTag.get(tag)?.byValue.get(value);
  return d !== undefined && inRange(d, v);
}

export function maskDefForTag(tag: number): MaskDef | undefined {
  return maskOfTag.get(tag)?.def;
}

/** Names of the set bits that have one; `rest` keeps the set bits with no name. */
export function maskNames(tag: number, value: number): { names: string[]; rest: number } {
  const g = maskOfTag.get(tag);
  const names: string[] = [];
  let rest = value >>> 0;
  if (g !== undefined) {
    for (const d of g.def.values) {
      if ((rest & d.value) === d.value) {
        names.push(d.name);
        rest = (rest & ~d.value) >>> 0;
      }
    }
  }
  return { names, rest };
}

/** OR of the named bits; undefined when a name is not a bit of the tag's mask. */
export function maskValue(tag: number, names: readonly string[]): number | undefined {
  const g = maskOfTag.get(tag);
  if (g === undefined) return undefined;
  let value = 0;
  for (const n of names) {
    const bit = g.byName.get(n);
    if (bit === undefined) return undefined;
    value = (value | bit) >>> 0;
  }
  return value;
}
