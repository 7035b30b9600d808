// `kmipd export`: every object of a store (all owners, destroyed ones included) and its
// server-wide settings into an encrypted backup (container.ts, records.ts). Material is unwrapped with the server's KEK
// keyring and sealed under the operator's backup key. The file is written beside its final
// name and renamed into place once complete, so a failed export leaves no partial backup.
//
// The object list is taken when the export begins; objects created afterwards are not in
// the backup and objects removed meanwhile are left out. Each object is read in one store
// call, so its attributes, state and material are consistent with each other.

import { open, rename, rm } from 'node:fs/promises';
import type { KeyWrapper } from '../crypto/key-wrapper.js';
import type { ObjectStore } from '../store/object-store.js';
import { type BackupSecret, ChunkWriter } from './container.js';
import {
  BACKUP_FORMAT,
  encodeEnd,
  encodeManifest,
  encodeObject,
  encodeSetting,
  RECORD_VERSION,
} from './records.js';

export interface BackupProgress {
  total(n: number): void;
  tick(): void;
}

export interface ExportSummary {
  /** Objects written. */
  objects: number;
  /** Of those, destroyed objects (no material). */
  withoutMaterial: number;
  /** Listed at the start but removed before they were read. */
  vanished: number;
  /** Server-wide settings written (the Set Constraints list). */
  settings: number;
  owners: number;
  bytes: number;
}

export async function exportBackup(opts: {
  store: ObjectStore;
  wrapper: KeyWrapper;
  out: string;
  secret: BackupSecret;
  progress?: BackupProgress;
}): Promise<ExportSummary> {
  const { store, wrapper, out, secret, progress } = opts;
  const partial = `${out}.partial`;
  const file = await open(partial, 'wx', 0o600);
  let done = false;
  try {
    const writer = await ChunkWriter.create(file, secret);
    try {
      const uids = await store.locate({ filters: [] });
      progress?.total(uids.length);
      await writer.write(
        encodeManifest({
          format: BACKUP_FORMAT,
          version: RECORD_VERSION,
          createdAt: new Date().toISOString(),
          source: store.kind,
          listed: uids.length,
        }),
        false,
      );
      const summary: ExportSummary = {
        objects: 0,
        withoutMaterial: 0,
        vanished: 0,
        settings: 0,
        owners: 0,
        bytes: 0,
      };
      for (const name of await store.settingNames()) {
        const value = await store.getSetting(name);
        if (value === undefined) continue;
        await writer.write(encodeSetting(name, value), false);
        summary.settings++;
      }
      const owners = new Set<string>();
      for (const uid of uids) {
        const o = await store.get(uid);
        if (o === undefined) {
          summary.vanished++;
          progress?.tick();
          continue;
        }
        const material = o.material === null ? null : await wrapper.unwrap(o.material, o.uid);
        const record = encodeObject({ ...o, material });
        material?.fill(0);
        await writer.write(record, false);
        record.fill(0);
        summary.objects++;
        if (material === null) summary.withoutMaterial++;
        owners.add(o.owner);
        progress?.tick();
      }
      await writer.write(encodeEnd(summary.objects, summary.settings), true);
      await file.sync();
      summary.owners = owners.size;
      summary.bytes = (await file.stat()).size;
      done = true;
      return summary;
    } finally {
      writer.close();
    }
  } finally {
    await file.close();
    if (done) await rename(partial, out);
    else await rm(partial, { force: true });
  }
}
