// VAST Data at KMIP 1.4 over binary TTLV in HTTPS POST (KMIP Profiles §5.3) to a real
// `kmipd serve --https-port 0`: a key is created and then tagged with Add Attribute of its
// Name, Object Group and Operation Policy Name, found by Locate on the Name, rotated with
// ReKey (the old key stays Active to decrypt existing data) and polled with Get Attributes.

import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childOf, item, numberOf, textOf } from '../../src/kmip/items.js';
import type { TtlvItem } from '../../src/ttlv/item.js';
import {
  CryptographicAlgorithm,
  CryptographicUsageMask,
  LinkType,
  ObjectType,
  Operation,
  State,
  Tag,
} from '../../src/ttlv/spec/generated.js';
import { type KmipdProcess, startKmipdProcess } from '../helpers/kmipd-process.js';
import {
  attr,
  attributesByName,
  attrValue,
  ClientSession,
  nameValue,
  type Transport,
  uidItem,
  uidOf,
} from './session.js';

function httpsTransport(port: number, tls: { cert: Buffer; key: Buffer; ca: Buffer }): Transport {
  return (body) =>
    new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: '/kmip',
          method: 'POST',
          headers: { 'content-type': 'application/octet-stream', 'content-length': body.length },
          ...tls,
          servername: 'localhost',
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            if (res.statusCode !== 200) reject(new Error(`HTTP ${res.statusCode}`));
            else if (!String(res.headers['content-type']).startsWith('application/octet-stream')) {
              reject(new Error(`content type ${res.headers['content-type']}`));
            } else resolve(Buffer.concat(chunks));
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
}

const uids = (payload: TtlvItem[]) =>
  payload.filter((i) => i.tag === Tag.UniqueIdentifier).map(textOf);

function linkTargets(payload: TtlvItem[], type: number): Array<string | undefined> {
  return (attributesByName(payload).get('Link') ?? [])
    .filter((l) => numberOf(childOf(l, Tag.LinkType)) === type)
    .map((l) => textOf(childOf(l, Tag.LinkedObjectIdentifier)));
}

describe('VAST Data (KMIP 1.4 over HTTPS)', () => {
  let kmipd: KmipdProcess;
  let s: ClientSession;

  beforeAll(async () => {
    kmipd = await startKmipdProcess({ store: 'memory', args: ['--https-port', '0'] });
    const httpsPort = kmipd.logs().find((l) => l.msg === 'listening')?.httpsPort;
    if (typeof httpsPort !== 'number') throw new Error('kmipd logged no HTTPS port');
    const files = kmipd.client('admin');
    s = new ClientSession(
      '1.4',
      httpsTransport(httpsPort, {
        cert: readFileSync(files.cert),
        key: readFileSync(files.key),
        ca: readFileSync(kmipd.ca),
      }),
    );
  }, 30_000);

  afterAll(async () => {
    await kmipd?.stop();
  });

  it('tags a key, locates it by name, rekeys it and polls both keys', async () => {
    const created = await s.ok(Operation.Create, [
      item.enum(Tag.ObjectType, ObjectType.SymmetricKey),
      item.struct(Tag.TemplateAttribute, [
        attr('Cryptographic Algorithm', item.enum(0, CryptographicAlgorithm.AES)),
        attr('Cryptographic Length', item.int(0, 256)),
        attr(
          'Cryptographic Usage Mask',
          item.int(0, CryptographicUsageMask.Encrypt | CryptographicUsageMask.Decrypt),
        ),
      ]),
    ]);
    const oldUid = uidOf(created);
    const keyName = 'vast-tenant-7-key';
    for (const a of [
      attr('Name', nameValue(keyName)),
      attr('Object Group', item.text(0, 'vast-cluster-a')),
      attr('Operation Policy Name', item.text(0, 'vast-policy')),
    ]) {
      const added = await s.ok(Operation.AddAttribute, [uidItem(oldUid), a]);
      expect(uidOf(added)).toBe(oldUid);
      const index = childOf(
        added.find((i) => i.tag === Tag.Attribute),
        Tag.AttributeIndex,
      );
      expect(numberOf(index) ?? 0).toBe(0);
    }
    await s.ok(Operation.Activate, [uidItem(oldUid)]);

    const found = await s.ok(Operation.Locate, [attr('Name', nameValue(keyName))]);
    expect(uids(found)).toEqual([oldUid]);

    const rekeyed = await s.ok(Operation.ReKey, [uidItem(oldUid)]);
    const newUid = uidOf(rekeyed);
    expect(newUid).not.toBe(oldUid);

    // The polling loop: both keys, every attribute VAST watches, several rounds.
    for (let round = 0; round < 3; round++) {
      const [oldAttrs, newAttrs] = await s.batch([
        {
          operation: Operation.GetAttributes,
          payload: [
            uidItem(oldUid),
            item.text(Tag.AttributeName, 'State'),
            item.text(Tag.AttributeName, 'Link'),
            item.text(Tag.AttributeName, 'Object Group'),
            item.text(Tag.AttributeName, 'Operation Policy Name'),
          ],
        },
        {
          operation: Operation.GetAttributes,
          payload: [
            uidItem(newUid),
            item.text(Tag.AttributeName, 'State'),
            item.text(Tag.AttributeName, 'Link'),
            item.text(Tag.AttributeName, 'Name'),
            item.text(Tag.AttributeName, 'Cryptographic Length'),
            item.text(Tag.AttributeName, 'Cryptographic Usage Mask'),
          ],
        },
      ]);
      const o = oldAttrs!.payload;
      const n = newAttrs!.payload;
      expect(uidOf(o)).toBe(oldUid);
      expect(numberOf(attrValue(o, 'State'))).toBe(State.Active);
      expect(linkTargets(o, LinkType.ReplacementObjectLink)).toEqual([newUid]);
      expect(textOf(attrValue(o, 'Object Group'))).toBe('vast-cluster-a');
      expect(textOf(attrValue(o, 'Operation Policy Name'))).toBe('vast-policy');
      expect(uidOf(n)).toBe(newUid);
      expect(numberOf(attrValue(n, 'State'))).toBe(State.Active);
      expect(linkTargets(n, LinkType.ReplacedObjectLink)).toEqual([oldUid]);
      expect(textOf(childOf(attrValue(n, 'Name'), Tag.NameValue))).toBe(keyName);
      expect(numberOf(attrValue(n, 'Cryptographic Length'))).toBe(256);
      expect(numberOf(attrValue(n, 'Cryptographic Usage Mask'))).toBe(
        CryptographicUsageMask.Encrypt | CryptographicUsageMask.Decrypt,
      );
    }

    // The Name moved to the replacement key (KMIP 1.4 §4.4), so Locate finds the new key.
    const after = await s.ok(Operation.Locate, [attr('Name', nameValue(keyName))]);
    expect(uids(after)).toEqual([newUid]);

    // The old key still decrypts: it is Active and its material is served.
    const old = await s.ok(Operation.Get, [uidItem(oldUid)]);
    expect(uidOf(old)).toBe(oldUid);
  }, 30_000);
});
