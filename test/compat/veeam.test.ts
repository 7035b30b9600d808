// Veeam Backup & Replication at KMIP 1.4 against a real `kmipd serve`: it reconnects often and
// resumes the previous TLS session under mutual TLS (TLS 1.2 session and TLS 1.3 ticket), then
// Locates its key pair, creates an RSA-2048 pair with Create Key Pair and fetches the public
// and private keys, whose 1.x Key Value must hold the key material and no attributes.

import { readFileSync } from 'node:fs';
import { connect, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesOf, childOf, item, numberOf, textOf } from '../../src/kmip/items.js';
import { FrameSplitter } from '../../src/ttlv/frame-splitter.js';
import type { TtlvItem } from '../../src/ttlv/item.js';
import {
  CryptographicAlgorithm,
  CryptographicUsageMask,
  KeyFormatType,
  LinkType,
  ObjectType,
  Operation,
  State,
  Tag,
} from '../../src/ttlv/spec/generated.js';
import { type KmipdProcess, startKmipdProcess } from '../helpers/kmipd-process.js';
import { attr, attrValue, ClientSession, children, nameValue, uidItem, uidOf } from './session.js';

interface TlsFiles {
  cert: Buffer;
  key: Buffer;
  ca: Buffer;
}

/** One mutual-TLS connection carrying KMIP frames, and the TLS session it ends with. */
class TlsLink {
  private readonly splitter = new FrameSplitter();
  private readonly frames: Buffer[] = [];
  private waiter: (() => void) | undefined;
  session: Buffer | undefined;

  private constructor(readonly socket: TLSSocket) {
    socket.on('data', (chunk: Buffer) => {
      this.frames.push(...this.splitter.push(chunk).map((f) => Buffer.from(f)));
      this.waiter?.();
    });
    socket.on('session', (s: Buffer) => {
      this.session = s;
    });
  }

  static open(
    port: number,
    files: TlsFiles,
    maxVersion: 'TLSv1.2' | 'TLSv1.3',
    session?: Buffer,
  ): Promise<TlsLink> {
    return new Promise((resolve, reject) => {
      const socket = connect({
        host: '127.0.0.1',
        port,
        ...files,
        servername: 'localhost',
        minVersion: 'TLSv1.2',
        maxVersion,
        session,
      });
      const link = new TlsLink(socket);
      socket.once('error', reject);
      socket.once('secureConnect', () => resolve(link));
    });
  }

  async send(frame: Buffer): Promise<Buffer> {
    this.socket.write(frame);
    while (this.frames.length === 0) {
      await new Promise<void>((r) => {
        this.waiter = r;
      });
    }
    return this.frames.shift()!;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.end();
    });
  }
}

const uids = (payload: TtlvItem[]) =>
  payload.filter((i) => i.tag === Tag.UniqueIdentifier).map(textOf);

describe('Veeam (KMIP 1.4 over mutual TLS)', () => {
  let kmipd: KmipdProcess;
  let files: TlsFiles;

  beforeAll(async () => {
    kmipd = await startKmipdProcess({ store: 'memory' });
    const c = kmipd.client('admin');
    files = { cert: readFileSync(c.cert), key: readFileSync(c.key), ca: readFileSync(kmipd.ca) };
  }, 30_000);

  afterAll(async () => {
    await kmipd?.stop();
  });

  for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
    it(`resumes the previous ${version} session and keeps serving KMIP`, async () => {
      const first = await TlsLink.open(kmipd.port, files, version);
      expect(first.socket.getProtocol()).toBe(version);
      expect(first.socket.isSessionReused()).toBe(false);
      const s1 = new ClientSession('1.4', (b) => first.send(b));
      await s1.ok(Operation.DiscoverVersions, []);
      await first.close();
      const session = first.session;
      expect(session).toBeDefined();

      for (let reconnect = 0; reconnect < 2; reconnect++) {
        const again = await TlsLink.open(kmipd.port, files, version, session);
        expect(again.socket.isSessionReused()).toBe(true);
        // The resumed session still carries the client's identity: its objects are its own.
        const s2 = new ClientSession('1.4', (b) => again.send(b));
        const found = await s2.ok(Operation.Locate, [
          attr('Name', nameValue(`veeam-no-such-key-${version}`)),
        ]);
        expect(uids(found)).toEqual([]);
        await again.close();
      }
    }, 30_000);
  }

  it('locates, creates an RSA-2048 key pair and gets both keys with bare Key Values', async () => {
    const link = await TlsLink.open(kmipd.port, files, 'TLSv1.3');
    const s = new ClientSession('1.4', (b) => link.send(b));
    try {
      const pairName = 'veeam-repo-1';
      const none = await s.ok(Operation.Locate, [attr('Name', nameValue(pairName))]);
      expect(uids(none)).toEqual([]);

      const created = await s.ok(Operation.CreateKeyPair, [
        item.struct(Tag.CommonTemplateAttribute, [
          attr('Cryptographic Algorithm', item.enum(0, CryptographicAlgorithm.RSA)),
          attr('Cryptographic Length', item.int(0, 2048)),
        ]),
        item.struct(Tag.PrivateKeyTemplateAttribute, [
          attr('Name', nameValue(pairName)),
          attr('Cryptographic Usage Mask', item.int(0, CryptographicUsageMask.Decrypt)),
        ]),
        item.struct(Tag.PublicKeyTemplateAttribute, [
          attr('Name', nameValue(`${pairName}-pub`)),
          attr('Cryptographic Usage Mask', item.int(0, CryptographicUsageMask.Encrypt)),
        ]),
      ]);
      const privUid = textOf(created.find((i) => i.tag === Tag.PrivateKeyUniqueIdentifier))!;
      const pubUid = textOf(created.find((i) => i.tag === Tag.PublicKeyUniqueIdentifier))!;
      expect(privUid).toBeTruthy();
      expect(pubUid).toBeTruthy();
      expect(privUid).not.toBe(pubUid);

      const found = await s.ok(Operation.Locate, [
        attr('Name', nameValue(pairName)),
        attr('Object Type', item.enum(0, ObjectType.PrivateKey)),
      ]);
      expect(uids(found)).toEqual([privUid]);

      for (const uid of [privUid, pubUid]) await s.ok(Operation.Activate, [uidItem(uid)]);

      const pub = await s.ok(Operation.Get, [uidItem(pubUid)]);
      expect(uidOf(pub)).toBe(pubUid);
      expect(numberOf(pub.find((i) => i.tag === Tag.ObjectType))).toBe(ObjectType.PublicKey);
      const pubBlock = childOf(
        pub.find((i) => i.tag === Tag.PublicKey),
        Tag.KeyBlock,
      );
      expect(numberOf(childOf(pubBlock, Tag.CryptographicAlgorithm))).toBe(
        CryptographicAlgorithm.RSA,
      );
      expect(numberOf(childOf(pubBlock, Tag.CryptographicLength))).toBe(2048);
      expect([KeyFormatType.PKCS_1, KeyFormatType.X_509]).toContain(
        numberOf(childOf(pubBlock, Tag.KeyFormatType)),
      );
      const pubValue = childOf(pubBlock, Tag.KeyValue);
      expect(children(pubValue).map((i) => i.tag)).toEqual([Tag.KeyMaterial]);
      expect(bytesOf(childOf(pubValue, Tag.KeyMaterial))!.length).toBeGreaterThan(256);

      const priv = await s.ok(Operation.Get, [uidItem(privUid)]);
      expect(uidOf(priv)).toBe(privUid);
      expect(numberOf(priv.find((i) => i.tag === Tag.ObjectType))).toBe(ObjectType.PrivateKey);
      const privBlock = childOf(
        priv.find((i) => i.tag === Tag.PrivateKey),
        Tag.KeyBlock,
      );
      expect(numberOf(childOf(privBlock, Tag.CryptographicLength))).toBe(2048);
      expect([KeyFormatType.PKCS_1, KeyFormatType.PKCS_8]).toContain(
        numberOf(childOf(privBlock, Tag.KeyFormatType)),
      );
      const privValue = childOf(privBlock, Tag.KeyValue);
      expect(children(privValue).map((i) => i.tag)).toEqual([Tag.KeyMaterial]);
      expect(bytesOf(childOf(privValue, Tag.KeyMaterial))!.length).toBeGreaterThan(1000);

      const links = await s.ok(Operation.GetAttributes, [
        uidItem(privUid),
        item.text(Tag.AttributeName, 'Link'),
        item.text(Tag.AttributeName, 'State'),
      ]);
      const link0 = attrValue(links, 'Link');
      expect(numberOf(childOf(link0, Tag.LinkType))).toBe(LinkType.PublicKeyLink);
      expect(textOf(childOf(link0, Tag.LinkedObjectIdentifier))).toBe(pubUid);
      expect(numberOf(attrValue(links, 'State'))).toBe(State.Active);
    } finally {
      await link.close();
    }
  }, 30_000);
});
