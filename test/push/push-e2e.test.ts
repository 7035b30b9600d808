// A real kmipd (mutual TLS, memory store) pushing to two test subscribers (KMIP 1.4 §5): one
// for the owner "admin", one for "bob". A client registers, creates, edits and destroys keys
// over the KMIP port; the first subscriber gets a Put for each new object (key material and
// attributes) and a Notify for each change, in order, over mutual TLS with kmipd's server
// certificate; the second gets nothing. A subscriber that is down does not hold up the client,
// and gets its messages when it is back. No log line carries key material.

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KmipConnection } from '../../src/client/connection.js';
import { item } from '../../src/kmip/items.js';
import { initPki } from '../../src/pki/dev-pki.js';
import { NotifyRequest, PutRequest } from '../../src/push/payloads.js';
import { type Kmipd, startKmipd } from '../../src/server/kmipd.js';
import { ItemType, type TtlvItem } from '../../src/ttlv/item.js';
import {
  BatchErrorContinuationOption,
  CryptographicAlgorithm,
  KeyFormatType,
  ObjectType,
  Operation,
  PutFunction,
  ResultStatus,
  State,
  Tag,
} from '../../src/ttlv/spec/generated.js';
import { type BatchRequest, readResponse, requestBytes } from '../helpers/kmip-test-client.js';
import { type Pushed, TestSubscriber } from '../helpers/push-subscriber.js';

const KEY = Buffer.from('5f1e2d3c4b5a69788796a5b4c3d2e1f0', 'hex');

let dir: string;
let kmipd: Kmipd;
let conn: KmipConnection;
let forAdmin: TestSubscriber;
let forBob: TestSubscriber;
let logText = '';
const lines: Array<Record<string, unknown>> = [];

const attr = (name: string, value: TtlvItem) =>
  item.struct(Tag.Attribute, [
    item.text(Tag.AttributeName, name),
    { ...value, tag: Tag.AttributeValue },
  ]);

async function send(op: number, payload: TtlvItem[]) {
  const items: BatchRequest[] = [{ operation: op, payload }];
  const res = readResponse(await conn.send(requestBytes('1.4', items)));
  const b = res.batchItems[0]!;
  expect(b.resultStatus, b.resultMessage).toBe(ResultStatus.Success);
  const uid =
    b.responsePayload?.type === ItemType.Structure
      ? b.responsePayload.value.find((c) => c.tag === Tag.UniqueIdentifier)
      : undefined;
  return uid?.type === ItemType.TextString ? uid.value : '';
}

function registerKey(material: Buffer, id: string) {
  return send(Operation.Register, [
    item.enum(Tag.ObjectType, ObjectType.SymmetricKey),
    item.struct(Tag.TemplateAttribute, [
      attr('Cryptographic Usage Mask', item.int(0, 12)),
      attr('x-ID', item.text(0, id)),
    ]),
    item.struct(Tag.SymmetricKey, [
      item.struct(Tag.KeyBlock, [
        item.enum(Tag.KeyFormatType, KeyFormatType.Raw),
        item.struct(Tag.KeyValue, [item.bytes(Tag.KeyMaterial, material)]),
        item.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES),
        item.int(Tag.CryptographicLength, material.length * 8),
      ]),
    ]),
  ]);
}

function put(p: Pushed) {
  expect(p.item.operation).toBe(Operation.Put);
  return PutRequest.read(p.item.requestPayload!, '1.4');
}

function notify(p: Pushed) {
  expect(p.item.operation).toBe(Operation.Notify);
  return NotifyRequest.read(p.item.requestPayload!, '1.4');
}

const keyMaterialOf = (o: TtlvItem | undefined): Buffer => {
  const find = (it: TtlvItem): TtlvItem | undefined =>
    it.tag === Tag.KeyMaterial
      ? it
      : it.type === ItemType.Structure
        ? it.value.map(find).find(Boolean)
        : undefined;
  const km = o === undefined ? undefined : find(o);
  return km?.type === ItemType.ByteString ? Buffer.from(km.value) : Buffer.alloc(0);
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kmipd-push-'));
  const pkiDir = join(dir, 'data', 'pki');
  const pki = await initPki({ dir: pkiDir, clients: ['admin'] });
  const pem = {
    cert: await readFile(pki.server.cert),
    key: await readFile(pki.server.key),
    ca: await readFile(pki.ca.cert),
  };
  forAdmin = new TestSubscriber(pem);
  forBob = new TestSubscriber(pem);
  await forAdmin.start(0);
  await forBob.start(0);
  const log = pino(
    { level: 'debug' },
    new Writable({
      write(chunk: Buffer, _enc, done) {
        logText += chunk.toString('utf8');
        for (const l of chunk.toString('utf8').split('\n')) {
          if (l.trim() !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
        }
        done();
      },
    }),
  );
  kmipd = await startKmipd({
    host: '127.0.0.1',
    port: 0,
    dataDir: join(dir, 'data'),
    store: 'memory',
    log,
    push: {
      targets: [
        { host: '127.0.0.1', port: forAdmin.port, owners: ['admin'], version: '1.4' },
        { host: '127.0.0.1', port: forBob.port, owners: ['bob'], version: '1.4' },
      ],
      limits: { retryMinMs: 100, retryMaxMs: 200 },
    },
  });
  conn = await KmipConnection.open({
    host: '127.0.0.1',
    port: kmipd.server.address.port,
    cert: await readFile(pki.clients.admin!.cert),
    key: await readFile(pki.clients.admin!.key),
    ca: pem.ca,
  });
});

afterAll(async () => {
  await conn?.close();
  await kmipd?.stop();
  await forAdmin?.stop();
  await forBob?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('push to subscribers (Put and Notify)', () => {
  let registered: string;
  let created: string;

  it('pushes Put New with the registered key and its attributes, over mutual TLS', async () => {
    registered = await registerKey(KEY, 'push-e2e');
    const [p] = await forAdmin.waitFor(1);
    expect(p!.version).toBe('1.4');
    // kmipd authenticates with its own server certificate (CN localhost, dev PKI).
    expect(p!.peer).toBe('localhost');
    const body = put(p!);
    expect(body.uniqueIdentifier).toBe(registered);
    expect(body.putFunction).toBe(PutFunction.New);
    expect(keyMaterialOf(body.symmetricKey).equals(KEY)).toBe(true);
    const names = Object.fromEntries(
      body.attributes.map((a) => [a.attribute.name, a.attribute.value]),
    );
    expect(names['x-ID']).toMatchObject({ value: 'push-e2e' });
    expect(names.UniqueIdentifier).toMatchObject({ value: registered });
    expect(names.CryptographicAlgorithm).toMatchObject({ value: CryptographicAlgorithm.AES });
    expect(names.CryptographicUsageMask).toMatchObject({ value: 12 });
    expect(names.State).toMatchObject({ value: State.PreActive });
    expect(names.Digest).toBeDefined();
    expect(names.LastChangeDate).toBeDefined();
  });

  it('pushes a Notify for Add, Modify and Delete Attribute, in order', async () => {
    await send(Operation.AddAttribute, [
      item.text(Tag.UniqueIdentifier, registered),
      attr('x-provider', item.text(0, 'unknown')),
    ]);
    await send(Operation.ModifyAttribute, [
      item.text(Tag.UniqueIdentifier, registered),
      attr('x-provider', item.text(0, 'third party')),
    ]);
    await send(Operation.DeleteAttribute, [
      item.text(Tag.UniqueIdentifier, registered),
      item.text(Tag.AttributeName, 'x-provider'),
    ]);
    const got = (await forAdmin.waitFor(4)).slice(1).map(notify);
    // Each Notify: the changed instance and Last Change Date (KMIP 1.4 §5.1), in any order.
    const show = (n: ReturnType<typeof notify>) =>
      n.attributes
        .map((a) => {
          if (a.value === undefined) return `${a.name}: deleted`;
          return a.value.type === ItemType.TextString ? `${a.name}: ${a.value.value}` : a.name;
        })
        .sort();
    expect(got.map(show)).toEqual([
      ['LastChangeDate', 'x-provider: unknown'],
      ['LastChangeDate', 'x-provider: third party'],
      ['LastChangeDate', 'x-provider: deleted'],
    ]);
  });

  it('pushes Put New for a created key and a Notify with State Destroyed on Destroy', async () => {
    created = await send(Operation.Create, [
      item.enum(Tag.ObjectType, ObjectType.SymmetricKey),
      item.struct(Tag.TemplateAttribute, [
        attr('Cryptographic Algorithm', item.enum(0, CryptographicAlgorithm.AES)),
        attr('Cryptographic Length', item.int(0, 256)),
        attr('Cryptographic Usage Mask', item.int(0, 12)),
      ]),
    ]);
    await send(Operation.Destroy, [item.text(Tag.UniqueIdentifier, created)]);
    const [p, d] = (await forAdmin.waitFor(6)).slice(4);
    const body = put(p!);
    expect(body.uniqueIdentifier).toBe(created);
    expect(keyMaterialOf(body.symmetricKey)).toHaveLength(32);
    const n = notify(d!);
    expect(n.uniqueIdentifier).toBe(created);
    const byName = Object.fromEntries(n.attributes.map((a) => [a.name, a.value]));
    expect(byName.State).toMatchObject({ value: State.Destroyed });
    expect(byName.DestroyDate).toBeDefined();
    expect(byName.LastChangeDate).toBeDefined();
  });

  it('pushes a Re-key as Put Replace naming the replaced key, and a Notify for the old one', async () => {
    const before = forAdmin.received.length;
    const old = await send(Operation.Create, [
      item.enum(Tag.ObjectType, ObjectType.SymmetricKey),
      item.struct(Tag.TemplateAttribute, [
        attr('Cryptographic Algorithm', item.enum(0, CryptographicAlgorithm.AES)),
        attr('Cryptographic Length', item.int(0, 128)),
        attr('Cryptographic Usage Mask', item.int(0, 12)),
      ]),
    ]);
    const fresh = await send(Operation.ReKey, [item.text(Tag.UniqueIdentifier, old)]);
    const [created, replacement, retired] = (await forAdmin.waitFor(before + 3)).slice(before);
    expect(put(created!).putFunction).toBe(PutFunction.New);
    const body = put(replacement!);
    expect(body).toMatchObject({
      uniqueIdentifier: fresh,
      putFunction: PutFunction.Replace,
      replacedUniqueIdentifier: old,
    });
    const n = notify(retired!);
    expect(n.uniqueIdentifier).toBe(old);
    expect(n.attributes.map((a) => a.name)).toContain('Link');
  });

  it('sends nothing to a subscriber for other owners', async () => {
    await new Promise((r) => setTimeout(r, 200));
    expect(forBob.received).toEqual([]);
  });

  it('never pushes a change that Batch Error Continuation Option Undo took back', async () => {
    const before = forAdmin.received.length;
    const keyBlock = item.struct(Tag.SymmetricKey, [
      item.struct(Tag.KeyBlock, [
        item.enum(Tag.KeyFormatType, KeyFormatType.Raw),
        item.struct(Tag.KeyValue, [item.bytes(Tag.KeyMaterial, Buffer.alloc(16, 5))]),
        item.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES),
        item.int(Tag.CryptographicLength, 128),
      ]),
    ]);
    const res = readResponse(
      await conn.send(
        requestBytes(
          '1.4',
          [
            {
              operation: Operation.Register,
              payload: [
                item.enum(Tag.ObjectType, ObjectType.SymmetricKey),
                item.struct(Tag.TemplateAttribute, []),
                keyBlock,
              ],
            },
            {
              operation: Operation.Destroy,
              payload: [item.text(Tag.UniqueIdentifier, 'no-such-object')],
            },
          ],
          { batchErrorContinuationOption: BatchErrorContinuationOption.Undo },
        ),
      ),
    );
    expect(res.batchItems.map((b) => b.resultStatus)).toEqual([
      ResultStatus.OperationUndone,
      ResultStatus.OperationFailed,
    ]);
    // The next change gets through: the undone Put neither arrives nor blocks the queue.
    const next = await registerKey(Buffer.alloc(16, 6), 'after-undo');
    const got = (await forAdmin.waitFor(before + 1)).slice(before);
    await new Promise((r) => setTimeout(r, 100));
    expect(forAdmin.received).toHaveLength(before + 1);
    expect(put(got[0]!).uniqueIdentifier).toBe(next);
  });

  it('does not hold up the client while a subscriber is down, and delivers once it is back', async () => {
    const before = forAdmin.received.length;
    await forAdmin.stop();
    const started = Date.now();
    const second = await registerKey(Buffer.alloc(16, 9), 'while-down');
    await send(Operation.AddAttribute, [
      item.text(Tag.UniqueIdentifier, second),
      attr('x-note', item.text(0, 'queued')),
    ]);
    expect(Date.now() - started).toBeLessThan(2000);
    const deadline = Date.now() + 5000;
    while (
      !lines.some((l) => l.msg === 'push: subscriber unreachable, will retry' && l.uid === second)
    ) {
      if (Date.now() > deadline) throw new Error('no retry line');
      await new Promise((r) => setTimeout(r, 20));
    }
    await forAdmin.start();
    const [p, n] = (await forAdmin.waitFor(before + 2)).slice(before);
    expect(put(p!).uniqueIdentifier).toBe(second);
    expect(notify(n!).attributes.map((a) => a.name)).toContain('x-note');
  });

  it('never logs key material', () => {
    for (const k of [KEY, Buffer.alloc(16, 9), Buffer.alloc(16, 6)]) {
      expect(logText).not.toContain(k.toString('hex'));
      expect(logText).not.toContain(k.toString('base64'));
    }
    expect(lines.some((l) => l.msg === 'push subscriber')).toBe(true);
  });
});
