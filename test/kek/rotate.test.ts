// KEK rotation, software to software, on a real SQLite store driven through the message
// layer: every object keeps its exact key bytes, `kek status` shows them all under the new
// version, an interrupted rotation resumes with the same version, and the CLI does the same.

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureKeyring, Keyring } from '../../src/crypto/keyring.js';
import { readDescriptors, readRotating } from '../../src/kek/layout.js';
import { kekStatus, rotateKek } from '../../src/kek/rotate.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite-store.js';
import { testServer } from '../helpers/kmip-test-client.js';
import { runKmipd } from '../helpers/kmipd-process.js';
import { createdUids, createRequest, getRequest, gotKeys } from './support.js';

const OBJECTS = 200;

let dir: string;
let store: SqliteStore;
let keyring: Keyring;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kmipd-rotate-'));
  await ensureKeyring({ dataDir: dir });
  store = await openSqliteStore({ path: dir });
  // The serving side's keyring, separate from the one the rotation opens, as in two processes.
  keyring = await Keyring.open({ dataDir: dir, checkIntervalMs: 0 });
});
afterEach(async () => {
  await keyring.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Creates OBJECTS keys through the message layer; answers uid → key bytes. */
async function populate(s: ReturnType<typeof testServer>): Promise<Map<string, Buffer>> {
  const uids: string[] = [];
  for (let i = 0; i < OBJECTS; i += 50) uids.push(...createdUids(await s.raw(createRequest(50))));
  const keys = gotKeys(await s.raw(getRequest(uids)));
  return new Map(uids.map((u, i) => [u, keys[i]!]));
}

async function expectSameKeys(s: ReturnType<typeof testServer>, keys: Map<string, Buffer>) {
  const uids = [...keys.keys()];
  const got = gotKeys(await s.raw(getRequest(uids)));
  uids.forEach((u, i) => {
    expect(got[i]!.equals(keys.get(u)!), `key bytes of ${u}`).toBe(true);
  });
}

describe('rotation software → software', () => {
  it(`re-wraps ${OBJECTS} objects; every Get returns its exact bytes; status shows all on the new version`, async () => {
    const s = testServer({ store, wrapper: keyring });
    const keys = await populate(s);
    const v1 = keyring.current;

    const r = await rotateKek({ dataDir: dir, store, graceMs: 0 });
    expect(r).toMatchObject({ how: 'added', complete: true });
    expect(r.target).toMatchObject({ version: 2, kind: 'file', keyFile: 'keks/0002.key' });
    expect(r.summary).toMatchObject({ rewrapped: OBJECTS, failed: [], interrupted: false });

    await expectSameKeys(s, keys);
    for (const uid of keys.keys()) {
      expect((await store.get(uid))?.material?.kekId).toBe(r.target.kekId);
    }
    const st = await kekStatus(dir, store);
    expect(st.versions.map((v) => [v.descriptor.version, v.current, v.objects])).toEqual([
      [1, false, 0],
      [2, true, OBJECTS],
    ]);
    expect(st.rotating).toBeUndefined();
    expect(st.unknown).toEqual([]);

    // The serving keyring has moved to version 2 for new objects.
    const [fresh] = createdUids(await s.raw(createRequest(1)));
    expect((await store.get(fresh!))?.material?.kekId).toBe(r.target.kekId);
    expect(keyring.current.version).toBe(2);
    expect(v1.kekId).not.toBe(r.target.kekId);
  });

  it('leaves destroyed objects alone and reports a blob no version can open', async () => {
    const s = testServer({ store, wrapper: keyring });
    const keys = await populate(s);
    const [victim, orphan] = [...keys.keys()];
    const obj = (await store.get(victim!))!;
    await store.update({ ...obj, material: null }, obj.revision);
    const o = (await store.get(orphan!))!;
    await store.update(
      { ...o, material: { ...o.material!, kekId: '00112233deadbeef' } },
      o.revision,
    );

    const r = await rotateKek({ dataDir: dir, store, graceMs: 0 });
    expect(r.complete).toBe(false);
    expect(r.summary.rewrapped).toBe(OBJECTS - 2);
    expect(r.summary.failed).toEqual([
      { uid: orphan, reason: `object ${orphan} is wrapped by unknown KEK 00112233deadbeef` },
    ]);
    expect(await readRotating(dir)).toBe(2);
    const st = await kekStatus(dir, store);
    expect(st.unknown).toEqual([{ kekId: '00112233deadbeef', objects: 1 }]);
  });
});

describe('a server stuck on the old KEK', () => {
  it('objects that keep arriving under the old version leave the rotation unsettled, not looping', async () => {
    const s = testServer({ store, wrapper: keyring });
    await populate(s);
    // A server that cannot switch: it wraps with version 1 whatever `current` says.
    const v1 = await keyring.wrapperFor(keyring.current);
    const stuck = testServer({ store, wrapper: v1 });
    let stop = false;
    const load = (async () => {
      while (!stop) {
        createdUids(await stuck.raw(createRequest(1)));
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    const r = await rotateKek({ dataDir: dir, store, graceMs: 30 });
    stop = true;
    await load;
    expect(r.complete).toBe(false);
    expect(r.summary).toMatchObject({ unsettled: true, sweeps: 6, failed: [] });
    expect(await readRotating(dir)).toBe(2);
  });
});

describe('resumption', () => {
  it('an interrupted rotation continues with the same version, not a new one', async () => {
    const s = testServer({ store, wrapper: keyring });
    const keys = await populate(s);

    const first = await rotateKek({ dataDir: dir, store, graceMs: 0, stopAfter: 60 });
    expect(first).toMatchObject({ how: 'added', complete: false });
    expect(first.summary).toMatchObject({ rewrapped: 60, interrupted: true });
    expect(await readRotating(dir)).toBe(2);
    let st = await kekStatus(dir, store);
    expect(st.versions.map((v) => v.objects)).toEqual([OBJECTS - 60, 60]);
    expect(st.rotating).toBe(2);
    // Half-rotated: the server reads both versions.
    await expectSameKeys(s, keys);

    // Run again, even naming a new KEK: the unfinished rotation is finished first.
    const second = await rotateKek({
      dataDir: dir,
      store,
      graceMs: 0,
      choice: { kind: 'file' },
    });
    expect(second).toMatchObject({ how: 'resumed', complete: true });
    expect(second.target.version).toBe(2);
    expect(second.summary.rewrapped).toBe(OBJECTS - 60);
    expect((await readDescriptors(dir)).map((d) => d.version)).toEqual([1, 2]);
    expect(await readRotating(dir)).toBeUndefined();
    st = await kekStatus(dir, store);
    expect(st.versions.map((v) => v.objects)).toEqual([0, OBJECTS]);
    await expectSameKeys(s, keys);
  });

  it('kmipd kek rotate --resume and kek status from the command line', async () => {
    const s = testServer({ store, wrapper: keyring });
    const keys = await populate(s);
    await rotateKek({ dataDir: dir, store, graceMs: 0, stopAfter: 10 });

    const run = await runKmipd(['kek', 'rotate', '--data-dir', dir, '--resume', '--grace-ms', '0']);
    expect(run.stderr).toContain('resuming with KEK version 2 (file');
    expect(run.stdout).toMatch(
      new RegExp(`^re-wrapped ${OBJECTS - 10} objects under KEK version 2 `),
    );
    expect(run.stdout).toContain('0 failed');
    expect(run.code).toBe(0);

    const status = await runKmipd(['kek', 'status', '--data-dir', dir, '--json']);
    expect(status.code).toBe(0);
    const st = JSON.parse(status.stdout) as Awaited<ReturnType<typeof kekStatus>>;
    expect(st.versions.map((v) => [v.descriptor.version, v.current, v.objects])).toEqual([
      [1, false, 0],
      [2, true, OBJECTS],
    ]);
    const table = await runKmipd(['kek', 'status', '--data-dir', dir]);
    expect(table.stdout).toMatch(/^\* 2 +file +[0-9a-f]{16} +200 +file keks\/0002\.key$/m);
    await expectSameKeys(s, keys);
  });

  it('the command line refuses a data directory without objects.sqlite and a mixed KEK choice', async () => {
    const empty = join(dir, 'nothing-here');
    const r = await runKmipd(['kek', 'status', '--data-dir', empty]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^kmipd: .*has no objects\.sqlite/);
    expect(existsSync(join(empty, 'objects.sqlite'))).toBe(false);
    const mixed = await runKmipd([
      'kek',
      'rotate',
      '--data-dir',
      dir,
      '--kek-env',
      'A',
      '--kek-file',
      'f',
    ]);
    expect(mixed.code).toBe(1);
    expect(mixed.stderr).toContain('choose one KEK source');
  });
});
