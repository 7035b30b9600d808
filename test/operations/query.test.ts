// KMIP 2.1 §6.1.37 Query (KMIP 1.4 §4.25): each Query function kmipd answers, in the versions
// that define it, with what the server does (the RNG new objects record, the profiles whose
// mandatory cases pass, the capabilities the message layer has), and empty answers for what it
// does not have.

import { describe, expect, it } from 'vitest';
import { childOf, item, numberOf } from '../../src/kmip/items.js';
import { ItemType, type TtlvItem } from '../../src/ttlv/item.js';
import {
  ClientRegistrationMethod,
  CryptographicAlgorithm,
  DestroyAction,
  DRBGAlgorithm,
  ObjectType,
  Operation,
  ProfileName,
  ProtectionStorageMask,
  QueryFunction,
  ResultStatus,
  RNGAlgorithm,
  Tag,
  UnwrapMode,
} from '../../src/ttlv/spec/generated.js';
import { enumName, type KmipVersion } from '../../src/ttlv/spec/index.js';
import { find, payloadOf, testServer } from '../helpers/kmip-test-client.js';

async function query(version: KmipVersion, ...functions: number[]) {
  const s = testServer();
  const res = await s.send(version, [
    {
      operation: Operation.Query,
      payload: functions.map((f) => item.enum(Tag.QueryFunction, f)),
    },
  ]);
  expect(res.batchItems[0]?.resultStatus).toBe(ResultStatus.Success);
  return payloadOf(res.batchItems[0]);
}

const all = (items: TtlvItem[], tag: number) => items.filter((i) => i.tag === tag);
const children = (i: TtlvItem | undefined) => (i?.type === ItemType.Structure ? i.value : []);
const profileNames = (items: TtlvItem[]) =>
  all(items, Tag.ProfileInformation).map((p) =>
    enumName(Tag.ProfileName, numberOf(childOf(p, Tag.ProfileName))!),
  );

describe('Query Capabilities (KMIP 1.3+)', () => {
  it('states what kmipd does: streaming, batch undo and continue; no async or attestation', async () => {
    const info = all(
      await query('1.4', QueryFunction.QueryCapabilities),
      Tag.CapabilityInformation,
    );
    expect(info).toHaveLength(1);
    expect(children(info[0]).map((c) => [c.tag, c.value])).toEqual([
      [Tag.StreamingCapability, true],
      [Tag.AsynchronousCapability, false],
      [Tag.AttestationCapability, false],
      [Tag.BatchUndoCapability, true],
      [Tag.BatchContinueCapability, true],
      [Tag.UnwrapMode, UnwrapMode.Processed],
      [Tag.DestroyAction, DestroyAction.KeyMaterialDeleted],
      [Tag.ShreddingAlgorithm, 3 /* Unsupported */],
      [Tag.RNGMode, 1 /* Unspecified */],
    ]);
  });

  it('leaves out the KMIP 1.4 batch fields for a 1.3 client', async () => {
    const info = all(
      await query('1.3', QueryFunction.QueryCapabilities),
      Tag.CapabilityInformation,
    );
    const tags = children(info[0]).map((c) => c.tag);
    expect(tags).not.toContain(Tag.BatchUndoCapability);
    expect(tags).not.toContain(Tag.BatchContinueCapability);
    expect(tags).toContain(Tag.StreamingCapability);
  });

  it('answers nothing to a 1.2 client, whose version has no such function', async () => {
    expect(await query('1.2', QueryFunction.QueryCapabilities)).toEqual([]);
  });
});

describe('Query RNGs (KMIP 1.3+)', () => {
  // Every generator, and what each records, is in rng-selection.test.ts.
  it('names first the generator new keys record when no generator is asked for', async () => {
    const rng = all(await query('2.1', QueryFunction.QueryRNGs), Tag.RNGParameters);
    expect(rng).toHaveLength(4);
    const fields = children(rng[0]).map((c) => [c.tag, c.value]);
    expect(fields).toEqual([
      [Tag.RNGAlgorithm, RNGAlgorithm.DRBG],
      [Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES],
      [Tag.CryptographicLength, 256],
      [Tag.DRBGAlgorithm, DRBGAlgorithm.CTR],
    ]);

    const s = testServer();
    const created = await s.send('2.1', [
      {
        operation: Operation.Create,
        payload: [
          item.enum(Tag.ObjectType, ObjectType.SymmetricKey),
          item.struct(Tag.Attributes, [
            item.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES),
            item.int(Tag.CryptographicLength, 128),
          ]),
        ],
      },
    ]);
    const uid = find(payloadOf(created.batchItems[0]), Tag.UniqueIdentifier)!;
    const got = await s.send('2.1', [
      {
        operation: Operation.GetAttributes,
        payload: [uid],
      },
    ]);
    const attrs = children(find(payloadOf(got.batchItems[0]), Tag.Attributes));
    const recorded = find(attrs, Tag.RandomNumberGenerator);
    expect(children(recorded).map((c) => [c.tag, c.value])).toEqual(fields);
  });
});

describe('Query Profiles (KMIP 1.3+)', () => {
  it('claims at 1.4 only v1.4 server profiles whose mandatory cases pass', async () => {
    const names = profileNames(await query('1.4', QueryFunction.QueryProfiles));
    expect(names).toContain('SymmetricKeyLifecycleServerKMIPV1_4');
    expect(names).toContain('BasicCryptographicServerKMIPV1_4');
    expect(names.every((n) => n?.endsWith('V1_4'))).toBe(true);
    // TL-M-3 does not pass; Baseline has no 1.4 cases; HTTPS is off by default.
    for (const absent of ['TapeLibrary', 'Baseline', 'Complete', 'HTTPS', 'Client']) {
      expect(names.some((n) => n?.includes(absent))).toBe(false);
    }
  });

  it('claims the 2.x profile names at 2.1, without Tape Library or PKCS#11', async () => {
    const items = await query('2.1', QueryFunction.QueryProfiles);
    const values = all(items, Tag.ProfileInformation).map((p) =>
      numberOf(childOf(p, Tag.ProfileName)),
    );
    expect(values).toContain(ProfileName.BaselineServer);
    expect(values).toContain(ProfileName.QuantumSafeServer);
    expect(values).not.toContain(ProfileName.TapeLibraryServer);
    expect(values).not.toContain(ProfileName.PKCS_11Server);
    expect(values).not.toContain(ProfileName.CompleteServer);
  });

  it('claims nothing at a version whose profile cases were not run (1.3)', async () => {
    expect(profileNames(await query('1.3', QueryFunction.QueryProfiles))).toEqual([]);
  });
});

describe('Query functions with nothing to report', () => {
  it.each([
    ['Validations', QueryFunction.QueryValidations],
    ['Attestation Types', QueryFunction.QueryAttestationTypes],
    ['Application Namespaces', QueryFunction.QueryApplicationNamespaces],
    ['Extension List', QueryFunction.QueryExtensionList],
    ['Extension Map', QueryFunction.QueryExtensionMap],
  ])('%s: an empty payload (TC-Q-VAL-2-14)', async (_name, fn) => {
    expect(await query('1.4', fn)).toEqual([]);
  });
});

describe('Query Client Registration Methods (KMIP 1.3+)', () => {
  it('names pki init, pki client, CA-signed client keys and --client-cert (TC-Q-CREG-1-14)', async () => {
    const items = await query('1.4', QueryFunction.QueryClientRegistrationMethods);
    expect(all(items, Tag.ClientRegistrationMethod).map((m) => m.value)).toEqual([
      ClientRegistrationMethod.ServerPreGenerated,
      ClientRegistrationMethod.ServerOnDemand,
      ClientRegistrationMethod.ClientGenerated,
      ClientRegistrationMethod.ClientRegistered,
    ]);
  });
});

describe('Query Defaults Information and Storage Protection Masks (KMIP 2.0+)', () => {
  it('lists the defaults new objects get and the one storage protection kmipd has', async () => {
    const items = await query(
      '2.1',
      QueryFunction.QueryDefaultsInformation,
      QueryFunction.QueryStorageProtectionMasks,
    );
    const defaults = all(children(find(items, Tag.DefaultsInformation)), Tag.ObjectDefaults);
    expect(defaults.map((d) => numberOf(childOf(d, Tag.ObjectType)))).toContain(
      ObjectType.SymmetricKey,
    );
    const attrs = children(childOf(defaults[0], Tag.Attributes));
    expect(attrs.map((a) => [a.tag, a.value])).toEqual([
      [Tag.Sensitive, false],
      [Tag.Extractable, true],
      [Tag.LeaseTime, 3600],
      [Tag.ProtectionStorageMask, ProtectionStorageMask.Software],
    ]);
    const masks = children(find(items, Tag.ProtectionStorageMasks));
    expect(masks.map((m) => [m.tag, m.value])).toEqual([
      [Tag.ProtectionStorageMask, ProtectionStorageMask.Software],
    ]);
  });

  it('answers nothing to them at 1.4, where they do not exist', async () => {
    expect(await query('1.4', 13, 14)).toEqual([]);
  });
});

describe('Query Operations', () => {
  it('lists Derive Key from KMIP 1.0 on', async () => {
    const ops = all(await query('1.0', QueryFunction.QueryOperations), Tag.Operation);
    expect(ops.map((o) => o.value)).toContain(Operation.DeriveKey);
  });
});
