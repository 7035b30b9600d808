// `kmipd import --from-pykmip`: moves the objects of a PyKMIP server (Debian pykmip-server,
// PyKMIP 0.10) from its SQLite database into a kmipd store, so its clients switch without
// re-keying. The schema is SQLAlchemy joined-table inheritance (kmip/pie/objects.py,
// kmip/pie/sqltypes.py):
//
//   managed_objects      uid (integer), object_type, class_type, value (the object's bytes),
//                        operation_policy_name, sensitive, initial_date (epoch seconds),
//                        owner (the client certificate's CN, as kmipd's identity is)
//   crypto_objects       uid, cryptographic_usage_mask, state
//   keys                 uid, cryptographic_algorithm, cryptographic_length,
//                        key_format_type, _kdw_* (Key Wrapping Data of a wrapped key)
//   certificates         uid, certificate_type
//   secret_data_objects  uid, data_type
//   opaque_objects       uid, opaque_type
//   managed_object_names mo_uid, name, name_index, name_type
//   object_groups, object_group_map; app_specific_info, app_specific_info_map
//
// Enumerations are stored as their KMIP values (-1 for none) and usage masks as the KMIP
// bit mask, so they carry over as they are. The uid stays the same text ("1", "2", ...).
// Objects are rebuilt the way PyKMIP's server answers Get (kmip/pie/factory.py): a key
// block with the stored key format for keys, Opaque format for secret data.

import BetterSqlite3 from 'better-sqlite3';
import pino from 'pino';
import type { KeyWrapper } from '../crypto/key-wrapper.js';
import type { Attribute } from '../kmip/attributes.js';
import { childOf, item, numberOf } from '../kmip/items.js';
import { setAttr } from '../objects/managed-object.js';
import { keyBlock, newManagedObject } from '../objects/new-object.js';
import { derivedAttributes } from '../objects/object-attributes.js';
import { insertObject } from '../objects/repository.js';
import type { OperationContext } from '../operations/context.js';
import type { ObjectStore } from '../store/object-store.js';
import type { StructureItem } from '../ttlv/item.js';
import { KeyFormatType, ObjectType, Tag } from '../ttlv/spec/generated.js';
import { tagDefByName } from '../ttlv/spec/index.js';
import { backupError } from './container.js';
import type { BackupProgress } from './export.js';

interface Row {
  uid: number;
  object_type: number;
  class_type: string;
  value: Buffer | null;
  operation_policy_name: string | null;
  sensitive: number | null;
  initial_date: number | null;
  owner: string | null;
  usage_mask: number | null;
  state: number | null;
  algorithm: number | null;
  length: number | null;
  key_format_type: number | null;
  wrapping_method: number | null;
  certificate_type: number | null;
  data_type: number | null;
  opaque_type: number | null;
}

export interface PyKmipSummary {
  migrated: number;
  /** Objects not migrated, with the reason. */
  skipped: { uid: string; reason: string }[];
  owners: number;
  /** Objects that had no owner in PyKMIP and got the default one. */
  defaultOwner: number;
}

const present = (v: number | null | undefined): v is number =>
  v !== null && v !== undefined && v !== -1;

function tableColumns(db: BetterSqlite3.Database, table: string): Set<string> {
  const rows = db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[];
  return new Set(rows.map((r) => r.name));
}

function readRows(db: BetterSqlite3.Database): Row[] {
  const mo = tableColumns(db, 'managed_objects');
  if (!mo.has('uid') || !mo.has('class_type') || !mo.has('value')) {
    throw backupError(
      'not a PyKMIP database: no managed_objects table with uid, class_type, value',
    );
  }
  const owner = mo.has('owner') ? 'm.owner' : 'NULL';
  const keys = tableColumns(db, 'keys');
  const wrapping = keys.has('_kdw_wrapping_method') ? 'k._kdw_wrapping_method' : 'NULL';
  return db
    .prepare(
      `SELECT m.uid, m.object_type, m.class_type, m.value, m.operation_policy_name,
         m.sensitive, m.initial_date, ${owner} AS owner,
         c.cryptographic_usage_mask AS usage_mask, c.state,
         k.cryptographic_algorithm AS algorithm, k.cryptographic_length AS length,
         k.key_format_type, ${wrapping} AS wrapping_method,
         ce.certificate_type, s.data_type, o.opaque_type
       FROM managed_objects m
       LEFT JOIN crypto_objects c ON c.uid = m.uid
       LEFT JOIN keys k ON k.uid = m.uid
       LEFT JOIN certificates ce ON ce.uid = m.uid
       LEFT JOIN secret_data_objects s ON s.uid = m.uid
       LEFT JOIN opaque_objects o ON o.uid = m.uid
       ORDER BY m.uid`,
    )
    .all() as Row[];
}

function byUid<T extends { uid: number }>(rows: T[]): Map<number, T[]> {
  const m = new Map<number, T[]>();
  for (const r of rows) {
    const list = m.get(r.uid) ?? [];
    list.push(r);
    m.set(r.uid, list);
  }
  return m;
}

/** The object structure PyKMIP's server answers Get with, or why there is none. */
function objectOf(r: Row): StructureItem | string {
  if (r.value === null) return 'no value';
  const value = new Uint8Array(r.value);
  switch (r.object_type) {
    case ObjectType.SymmetricKey:
    case ObjectType.PublicKey:
    case ObjectType.PrivateKey: {
      if (present(r.wrapping_method)) return 'registered in wrapped form (Key Wrapping Data)';
      if (!present(r.key_format_type)) return 'no key format type';
      const tag =
        r.object_type === ObjectType.SymmetricKey
          ? Tag.SymmetricKey
          : r.object_type === ObjectType.PublicKey
            ? Tag.PublicKey
            : Tag.PrivateKey;
      return item.struct(tag, [
        keyBlock(
          r.key_format_type,
          item.bytes(Tag.KeyMaterial, value),
          present(r.algorithm) ? r.algorithm : undefined,
          present(r.length) ? r.length : undefined,
        ),
      ]);
    }
    case ObjectType.Certificate:
      if (!present(r.certificate_type)) return 'no certificate type';
      return item.struct(Tag.Certificate, [
        item.enum(Tag.CertificateType, r.certificate_type),
        item.bytes(Tag.CertificateValue, value),
      ]);
    case ObjectType.SecretData:
      if (!present(r.data_type)) return 'no secret data type';
      return item.struct(Tag.SecretData, [
        item.enum(Tag.SecretDataType, r.data_type),
        keyBlock(KeyFormatType.Opaque, item.bytes(Tag.KeyMaterial, value)),
      ]);
    case ObjectType.OpaqueObject:
      if (!present(r.opaque_type)) return 'no opaque data type';
      return item.struct(Tag.OpaqueObject, [
        item.enum(Tag.OpaqueDataType, r.opaque_type),
        item.bytes(Tag.OpaqueDataValue, value),
      ]);
    default:
      return `object type ${r.object_type} (${r.class_type}) is not migrated`;
  }
}

/** What Register takes the Digest over: the key material in its format, or the certificate. */
function digestOf(object: StructureItem, value: Uint8Array) {
  const block = childOf(object, Tag.KeyBlock);
  if (block !== undefined) {
    return { bytes: value, keyFormatType: numberOf(childOf(block, Tag.KeyFormatType)) };
  }
  return object.tag === Tag.Certificate ? { bytes: value } : undefined;
}

export async function migratePyKmip(opts: {
  database: string;
  store: ObjectStore;
  wrapper: KeyWrapper;
  /** Owner of objects PyKMIP kept without one. */
  defaultOwner: string;
  merge?: boolean;
  progress?: BackupProgress;
}): Promise<PyKmipSummary> {
  const { store, wrapper, progress } = opts;
  let db: BetterSqlite3.Database;
  try {
    db = new BetterSqlite3(opts.database, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw backupError(
      `cannot open the PyKMIP database ${opts.database}: ${(err as Error).message}`,
    );
  }
  let rows: Row[];
  let names: Map<number, { uid: number; name: string; name_type: number | null }[]>;
  let groups: Map<number, { uid: number; object_group: string }[]>;
  let infos: Map<number, { uid: number; ns: string | null; data: string | null }[]>;
  try {
    rows = readRows(db);
    names = byUid(
      db
        .prepare(
          'SELECT mo_uid AS uid, name, name_type FROM managed_object_names ORDER BY mo_uid, name_index, id',
        )
        .all() as { uid: number; name: string; name_type: number | null }[],
    );
    groups = byUid(
      db
        .prepare(
          `SELECT m.managed_object_id AS uid, g.object_group FROM object_group_map m
           JOIN object_groups g ON g.id = m.object_group_id ORDER BY g.id`,
        )
        .all() as { uid: number; object_group: string }[],
    );
    infos = byUid(
      db
        .prepare(
          `SELECT m.managed_object_id AS uid, a.application_namespace AS ns,
             a.application_data AS data FROM app_specific_info_map m
           JOIN app_specific_info a ON a.id = m.app_specific_info_id ORDER BY a.id`,
        )
        .all() as { uid: number; ns: string | null; data: string | null }[],
    );
  } catch (err) {
    throw backupError(
      `cannot read the PyKMIP database ${opts.database}: ${(err as Error).message}`,
    );
  } finally {
    db.close();
  }

  if (!opts.merge && (await store.count()) > 0) {
    throw backupError('the target store is not empty: migrate into an empty one, or give --merge');
  }
  progress?.total(rows.length);
  const log = pino({ level: 'silent' });
  const inserted: string[] = [];
  const summary: PyKmipSummary = { migrated: 0, skipped: [], owners: 0, defaultOwner: 0 };
  const owners = new Set<string>();
  try {
    for (const r of rows) {
      const uid = String(r.uid);
      const object = objectOf(r);
      if (typeof object === 'string') {
        summary.skipped.push({ uid, reason: object });
        progress?.tick();
        continue;
      }
      if (await store.get(uid)) {
        summary.skipped.push({ uid, reason: 'the identifier is taken in the target store' });
        progress?.tick();
        continue;
      }
      const owner = r.owner ?? opts.defaultOwner;
      if (r.owner === null) summary.defaultOwner++;
      owners.add(owner);
      const created = BigInt(r.initial_date ?? Math.floor(Date.now() / 1000));
      const ctx: OperationContext = {
        identity: owner,
        isAdmin: true,
        version: '2.1',
        store,
        wrapper,
        log,
        placeholder: undefined,
        onUndo() {},
        now: created,
      };
      const given: Attribute[] = [];
      for (const n of names.get(r.uid) ?? []) {
        given.push({
          name: 'Name',
          value: item.struct(Tag.Name, [
            item.text(Tag.NameValue, n.name),
            item.enum(Tag.NameType, present(n.name_type) ? n.name_type : 1),
          ]),
        });
      }
      if (r.usage_mask !== null) {
        given.push({
          name: 'CryptographicUsageMask',
          value: item.int(Tag.CryptographicUsageMask, r.usage_mask),
        });
      }
      if (r.operation_policy_name !== null && tagDefByName('OperationPolicyName') !== undefined) {
        given.push({
          name: 'OperationPolicyName',
          value: item.text(Tag.OperationPolicyName, r.operation_policy_name),
        });
      }
      for (const g of groups.get(r.uid) ?? []) {
        given.push({ name: 'ObjectGroup', value: item.text(Tag.ObjectGroup, g.object_group) });
      }
      for (const a of infos.get(r.uid) ?? []) {
        given.push({
          name: 'ApplicationSpecificInformation',
          value: item.struct(Tag.ApplicationSpecificInformation, [
            item.text(Tag.ApplicationNamespace, a.ns ?? ''),
            item.text(Tag.ApplicationData, a.data ?? ''),
          ]),
        });
      }
      if (r.sensitive !== null) {
        given.push({ name: 'Sensitive', value: item.bool(Tag.Sensitive, r.sensitive === 1) });
      }
      const mo = newManagedObject(ctx, {
        uid,
        objectType: r.object_type,
        object,
        given,
        derived: derivedAttributes(r.object_type, object, given),
        digestOf: r.value === null ? undefined : digestOf(object, new Uint8Array(r.value)),
      });
      mo.owner = owner;
      mo.createdAt = Number(created) * 1000;
      if (present(r.state)) {
        mo.state = r.state;
        setAttr(mo, item.enum(Tag.State, r.state));
      }
      await insertObject(ctx, mo);
      inserted.push(uid);
      summary.migrated++;
      progress?.tick();
    }
  } catch (err) {
    for (const uid of inserted) await store.remove(uid).catch(() => false);
    throw err;
  }
  summary.owners = owners.size;
  return summary;
}
