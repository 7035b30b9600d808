// The spec table (src/ttlv/spec/kmip-spec.json → generated.ts) against the generator, an
// independent reference table (KMIP 1.4 §9.1.3 and the KMIP 2.0 additions) and the names used by
// the OASIS conformance test cases of KMIP 1.4 and 2.1.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isGeneratedCurrent } from '../../../scripts/gen-spec.js';
import { ItemType } from '../../../src/ttlv/item.js';
import {
  ENUM_DEFS,
  enumDefForTag,
  enumName,
  enumValue,
  enumValueExistsIn,
  KMIP_VERSIONS,
  type KmipVersion,
  MASK_DEFS,
  maskDefForTag,
  maskNames,
  maskValue,
  normalizeName,
  ResultReason,
  TAG_DEFS,
  Tag,
  tagDef,
  tagDefByName,
  tagDefBySpecName,
  tagExistsIn,
  tagName,
  versionAtLeast,
  versionFrom,
} from '../../../src/ttlv/spec/index.js';

const FIXTURES = fileURLToPath(new URL('../../../fixtures/', import.meta.url));

interface RefGroup {
  name: string;
  values?: Record<string, number | string>;
}
interface RefTable {
  tags: Record<string, number | string>;
  enums: RefGroup[];
  masks: RefGroup[];
}
const num = (x: number | string) => (typeof x === 'number' ? x : Number.parseInt(x, 16));
const readRef = (file: string) =>
  JSON.parse(readFileSync(join(FIXTURES, 'spec-tables', file), 'utf8')) as RefTable;

function exists(d: { since: string; until?: string }, v: KmipVersion): boolean {
  return (
    versionAtLeast(v, d.since as KmipVersion) &&
    (d.until === undefined || versionAtLeast(d.until as KmipVersion, v))
  );
}

/** Our group (enumeration or mask) of a reference group, found by normalised name. */
function ourGroup(refName: string) {
  const name = normalizeName(refName);
  return [...ENUM_DEFS, ...MASK_DEFS].find((g) => g.name === name);
}
function ourValue(refGroup: string, refValueName: string) {
  const g = ourGroup(refGroup);
  const n = normalizeName(refValueName);
  return g?.values.find(
    (v) => v.name === n || (v.aliases ?? []).some((a) => normalizeName(a) === n),
  );
}

describe('generated.ts', () => {
  it('is not stale (scripts/gen-spec.ts --check)', () => {
    expect(isGeneratedCurrent()).toBe(true);
  });

  it('keeps the constants other modules import', () => {
    expect(Tag.ActivationDate).toBe(0x420001);
    expect(Tag.CryptographicAlgorithm).toBe(0x420028);
    expect(ResultReason.ItemNotFound).toBe(0x01);
    expect(ResultReason.GeneralFailure).toBe(0x100);
    expect(ResultReason.WrongKeyLifecycleState).toBe(0x43);
  });
});

describe('runtime lookups', () => {
  it('maps protocol versions', () => {
    expect(KMIP_VERSIONS).toEqual(['1.0', '1.1', '1.2', '1.3', '1.4', '2.0', '2.1']);
    expect(versionFrom(1, 4)).toBe('1.4');
    expect(versionFrom(2, 1)).toBe('2.1');
    expect(versionFrom(3, 0)).toBeUndefined();
    expect(versionAtLeast('2.0', '1.4')).toBe(true);
    expect(versionAtLeast('1.2', '1.3')).toBe(false);
  });

  it('finds tags by number, normalised name and spec name', () => {
    const d = tagDef(Tag.CryptographicAlgorithm)!;
    expect(d).toMatchObject({
      name: 'CryptographicAlgorithm',
      specName: 'Cryptographic Algorithm',
      type: ItemType.Enumeration,
      since: '1.0',
      enumeration: 'CryptographicAlgorithm',
    });
    expect(d.until).toBeUndefined();
    expect(tagDefByName('CryptographicAlgorithm')).toBe(d);
    expect(tagDefBySpecName('Cryptographic Algorithm')).toBe(d);
    expect(tagDefBySpecName('CryptographicAlgorithm')).toBe(d);
    expect(tagDefBySpecName('X.509 Certificate Identifier')?.name).toBe(
      'X_509CertificateIdentifier',
    );
    expect(tagName(Tag.UniqueIdentifier)).toBe('UniqueIdentifier');
    expect(tagName(0x54000a)).toBe('0x54000a');
  });

  it('knows the version range of a tag', () => {
    expect(tagExistsIn(Tag.TemplateAttribute, '1.4')).toBe(true);
    expect(tagExistsIn(Tag.TemplateAttribute, '2.0')).toBe(false);
    expect(tagDef(Tag.AttributeIndex)).toMatchObject({ since: '1.0', until: '1.4' });
    expect(tagDef(Tag.OperationPolicyName)).toMatchObject({ until: '1.4' });
    expect(tagExistsIn(Tag.Attributes, '1.4')).toBe(false);
    expect(tagExistsIn(Tag.Attributes, '2.0')).toBe(true);
    expect(tagExistsIn(Tag.ProcessingStage, '2.0')).toBe(false);
    expect(tagExistsIn(Tag.ProcessingStage, '2.1')).toBe(true);
    expect(tagExistsIn(0x540001, '2.1')).toBe(false);
  });

  it('marks tags whose item type varies', () => {
    expect(tagDef(Tag.AttributeValue)?.type).toBeUndefined();
    expect(tagDef(Tag.UniqueIdentifier)?.type).toBeUndefined();
    expect(tagDef(Tag.RequestMessage)?.type).toBe(ItemType.Structure);
  });

  it('looks enumerations up through their tag', () => {
    expect(enumDefForTag(Tag.State)?.name).toBe('State');
    expect(enumName(Tag.State, 1)).toBe('PreActive');
    expect(enumValue(Tag.State, 'PreActive')).toBe(1);
    expect(enumValue(Tag.State, 'Pre-Active')).toBe(1);
    expect(enumValue(Tag.HashingAlgorithm, 'SHA_256')).toBe(6);
    expect(enumValue(Tag.MaskGeneratorHashingAlgorithm, 'SHA_256')).toBe(6);
    expect(enumValue(Tag.KeyFormatType, 'PKCS_1')).toBe(3);
    expect(enumValue(Tag.CryptographicAlgorithm, 'DES3')).toBe(2);
    expect(enumValue(Tag.ObjectType, 'NoSuchType')).toBeUndefined();
    expect(enumName(Tag.UniqueIdentifier, 1)).toBe('IDPlaceholder');
    expect(enumDefForTag(Tag.ActivationDate)).toBeUndefined();
  });

  it('knows the version range of an enumeration value', () => {
    expect(enumValueExistsIn(Tag.ObjectType, 0x06, '1.4')).toBe(true);
    expect(enumValueExistsIn(Tag.ObjectType, 0x06, '2.0')).toBe(false);
    expect(enumValueExistsIn(Tag.Operation, 0x3b, '2.0')).toBe(false);
    expect(enumValueExistsIn(Tag.Operation, 0x3b, '2.1')).toBe(true);
    expect(enumValueExistsIn(Tag.ResultReason, 0x0b, '1.0')).toBe(true);
    expect(enumValueExistsIn(Tag.ResultReason, 0x0b, '2.0')).toBe(false);
  });

  it('splits and joins bit masks', () => {
    expect(maskDefForTag(Tag.CryptographicUsageMask)?.name).toBe('CryptographicUsageMask');
    expect(maskNames(Tag.CryptographicUsageMask, 0x0c)).toEqual({
      names: ['Encrypt', 'Decrypt'],
      rest: 0,
    });
    expect(maskNames(Tag.CryptographicUsageMask, 0x1000000c)).toEqual({
      names: ['Encrypt', 'Decrypt'],
      rest: 0x10000000,
    });
    expect(maskValue(Tag.CryptographicUsageMask, ['Decrypt', 'Encrypt'])).toBe(0x0c);
    expect(maskValue(Tag.CryptographicUsageMask, ['Decrypt', 'Bogus'])).toBeUndefined();
    expect(maskValue(Tag.StorageStatusMask, ['OnLineStorage', 'ArchivalStorage'])).toBe(3);
    expect(maskValue(Tag.ProtectionStorageMask, ['Software'])).toBe(1);
    expect(maskDefForTag(Tag.State)).toBeUndefined();
  });
});

describe('counts per version (snapshot: a change here is a change to the table)', () => {
  const EXPECTED: Record<KmipVersion, [number, number, number, number, number]> = {
    // tags, enumerations, enumeration values, masks, mask bits
    '1.0': [161, 30, 245, 2, 22],
    '1.1': [183, 33, 271, 2, 22],
    '1.2': [211, 36, 361, 2, 22],
    '1.3': [247, 47, 536, 2, 22],
    '1.4': [292, 49, 608, 2, 22],
    '2.0': [338, 61, 813, 3, 33],
    '2.1': [355, 63, 827, 3, 33],
  };
  it.each(KMIP_VERSIONS)('KMIP %s', (v) => {
    const enums = ENUM_DEFS.filter((g) => exists(g, v));
    const masks = MASK_DEFS.filter((g) => exists(g, v));
    expect([
      TAG_DEFS.filter((d) => exists(d, v)).length,
      enums.length,
      enums.reduce((n, g) => n + g.values.filter((x) => exists(x, v)).length, 0),
      masks.length,
      masks.reduce((n, g) => n + g.values.filter((x) => exists(x, v)).length, 0),
    ]).toEqual(EXPECTED[v]);
  });
});

describe('reference tables (fixtures/spec-tables, see SOURCES.md)', () => {
  it('KMIP 1.4: every tag, enumeration value and mask bit matches and exists in 1.4', () => {
    const ref = readRef('kmip_1_4.json');
    for (const [name, value] of Object.entries(ref.tags)) {
      const d = tagDef(num(value));
      expect(d?.name, name).toBe(normalizeName(name));
      expect(tagExistsIn(num(value), '1.4'), name).toBe(true);
    }
    for (const g of [...ref.enums, ...ref.masks]) {
      expect(ourGroup(g.name), g.name).toBeDefined();
      for (const [name, value] of Object.entries(g.values ?? {})) {
        const ours = ourValue(g.name, name);
        expect(ours?.value, `${g.name}: ${name}`).toBe(num(value));
        expect(exists(ours!, '1.4'), `${g.name}: ${name}`).toBe(true);
      }
    }
  });

  it('KMIP 2.0 additions: every tag and value matches; values exist in 2.0 unless 2.0 reserves them', () => {
    const ref = readRef('kmip_2_0_additions.json');
    for (const [name, value] of Object.entries(ref.tags)) {
      const d = tagDef(num(value));
      expect(d?.name, name).toBe(normalizeName(name));
      expect(tagExistsIn(num(value), '2.0'), name).toBe(true);
    }
    // The reference lists whole enumerations, including values KMIP 2.0 §11 marks (Reserved).
    // It also names Profile Names 0x118-0x11B (Suite B), which KMIP 2.0 OS §11.40 reserves and
    // our table therefore does not carry.
    const notIn20 = (group: string, name: string) =>
      group === 'Profile Name' && name.startsWith('Suite B minLOS_') && !/ KMIP v1\.\d$/.test(name);
    const reservedIn20 = (group: string, name: string) =>
      (group === 'Object Type' && name === 'Template') ||
      (group === 'Profile Name' && / KMIP v1\.\d$/.test(name)) ||
      (group === 'Result Reason' && ['Illegal Operation', 'Index Out of Bounds'].includes(name));
    for (const g of [...ref.enums, ...ref.masks]) {
      expect(ourGroup(g.name), g.name).toBeDefined();
      for (const [name, value] of Object.entries(g.values ?? {})) {
        if (notIn20(g.name, name.trim())) continue;
        const ours = ourValue(g.name, name);
        expect(ours?.value, `${g.name}: ${name}`).toBe(num(value));
        expect(exists(ours!, '2.0'), `${g.name}: ${name}`).toBe(!reservedIn20(g.name, name.trim()));
      }
    }
  });
});

describe('names used by the OASIS conformance test cases (fixtures/conformance)', () => {
  const SETS = [
    'kmip-profiles-v1.4-os',
    'kmip-profiles-v2.1-os',
    'kmip-testcases-v1.4-cnprd01',
    'kmip-testcases-v2.1-cn01',
  ];
  const files = (dir: string): string[] =>
    readdirSync(dir).flatMap((f) => {
      const p = join(dir, f);
      return statSync(p).isDirectory() ? files(p) : p.endsWith('.xml') ? [p] : [];
    });
  // Typing of these two depends on siblings (1.x Attribute Name; 2.x tag-valued reference).
  const SIBLING_TYPED = new Set(['AttributeValue', 'AttributeReference']);
  const ROOTS = new Set(['KMIP']);
  const ELEMENT = /<([A-Za-z_][\w.-]*)((?:\s+[\w:-]+\s*=\s*"[^"]*")*)\s*\/?>/g;
  const attr = (attrs: string, name: string) =>
    new RegExp(`\\s${name}\\s*=\\s*"([^"]*)"`).exec(attrs)?.[1];

  it.each(SETS)('%s: every element name and enumeration or mask value resolves', (set) => {
    const paths = files(join(FIXTURES, 'conformance', set));
    expect(paths.length).toBeGreaterThan(0);
    const problems = new Set<string>();
    let checked = 0;
    for (const p of paths) {
      for (const m of readFileSync(p, 'latin1').matchAll(ELEMENT)) {
        const [, element, attrs = ''] = m;
        if (element === undefined || ROOTS.has(element)) continue;
        const d = tagDefByName(element);
        if (d === undefined) {
          problems.add(`unknown element ${element}`);
          continue;
        }
        const type = attr(attrs, 'type');
        const value = attr(attrs, 'value');
        if (value === undefined || SIBLING_TYPED.has(element)) continue;
        if (type === 'Enumeration' && !value.startsWith('$') && !value.startsWith('0x')) {
          checked++;
          if (enumValue(d.tag, value) === undefined) problems.add(`${element}=${value}`);
        }
        if (type === 'Integer' && d.mask !== undefined && !value.startsWith('$')) {
          const names = value.split(/\s+/).filter((w) => w !== '' && !w.startsWith('0x'));
          checked++;
          if (maskValue(d.tag, names) === undefined) problems.add(`${element}=${value}`);
        }
      }
    }
    expect([...problems]).toEqual([]);
    expect(checked).toBeGreaterThan(0);
  });
});
