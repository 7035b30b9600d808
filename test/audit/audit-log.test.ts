// The tamper-evident audit file: the chain and checkpoints it writes, and every kind of
// tampering `verifyAuditLog` must catch (edit, delete, insert, swap, truncate, forged
// checkpoint), each reported at the first bad line.

import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { appendFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditFileLog } from '../../src/audit/file-log.js';
import {
  type AuditEvent,
  CHECKPOINT_DOMAIN,
  GENESIS,
  keyIdOf,
  sealLine,
  sha256Hex,
} from '../../src/audit/record.js';
import { ensureAuditSigningKey } from '../../src/audit/signing-key.js';
import { verifyAuditLog } from '../../src/audit/verify.js';

const silent = pino({ level: 'silent' });
let dir: string;
let path: string;
const { privateKey, publicKey } = generateKeyPairSync('ed25519');

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kmipd-audit-'));
  path = join(dir, 'audit.log');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function event(i: number): AuditEvent {
  return i % 3 === 2
    ? {
        principal: 'bob',
        operation: 'Get',
        uid: `uid-${i}`,
        result: { status: 'OperationFailed', reason: 'ItemNotFound' },
        req: `req-${i}`,
      }
    : {
        principal: 'alice',
        operation: 'Create',
        uid: `uid-${i}`,
        result: { status: 'Success' },
        req: `req-${i}`,
      };
}

/** Writes `count` records with a checkpoint every `every`, closes, returns the lines. */
function writeLog(count: number, every = 3): string[] {
  const log = AuditFileLog.open({
    path,
    signingKey: privateKey,
    checkpointEvery: every,
    log: silent,
  });
  for (let i = 0; i < count; i++) log.record(event(i));
  log.close();
  return readFileSync(path, 'utf8').split('\n').slice(0, -1);
}

const text = (lines: string[]) => `${lines.map((l) => `${l}\n`).join('')}`;
const check = (lines: string[] | string, live = false) =>
  verifyAuditLog(typeof lines === 'string' ? lines : text(lines), { publicKey, live });

describe('audit file format', () => {
  it('chains every line to the one before and signs checkpoints', () => {
    const lines = writeLog(7);
    // 7 records, checkpoints after 3 and 6, and one on close.
    expect(lines).toHaveLength(10);
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(parsed.map((p) => p.type)).toEqual([
      'operation',
      'operation',
      'operation',
      'checkpoint',
      'operation',
      'operation',
      'operation',
      'checkpoint',
      'operation',
      'checkpoint',
    ]);
    expect(parsed.map((p) => p.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(parsed[0]!.prev).toBe(GENESIS);
    for (let i = 1; i < lines.length; i++) expect(parsed[i]!.prev).toBe(sha256Hex(lines[i - 1]!));
    expect(Object.keys(parsed[2]!)).toEqual([
      'seq',
      'type',
      'time',
      'principal',
      'operation',
      'uid',
      'result',
      'req',
      'prev',
      'hash',
    ]);
    expect(parsed[2]).toMatchObject({
      principal: 'bob',
      operation: 'Get',
      result: { status: 'OperationFailed', reason: 'ItemNotFound' },
      req: 'req-2',
    });
    expect(parsed[3]).toMatchObject({ type: 'checkpoint', records: 3, keyId: keyIdOf(publicKey) });
    expect(Object.keys(parsed[3]!)).toEqual([
      'seq',
      'type',
      'time',
      'records',
      'keyId',
      'prev',
      'hash',
      'sig',
    ]);
    const r = check(lines);
    expect(r).toMatchObject({
      ok: true,
      records: 7,
      checkpoints: 3,
      unsigned: 0,
      signaturesChecked: true,
    });
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('closes while a checkpoint fsync runs in the background, and writes nothing after close', async () => {
    const log = AuditFileLog.open({
      path,
      signingKey: privateKey,
      checkpointEvery: 3,
      log: silent,
    });
    for (let i = 0; i < 3; i++) log.record(event(i)); // the checkpoint's fsync is now in flight
    log.close();
    log.record(event(3));
    await new Promise((r) => setTimeout(r, 50));
    const lines = readFileSync(path, 'utf8').split('\n').slice(0, -1);
    expect(lines.map((l) => JSON.parse(l).type)).toEqual([
      'operation',
      'operation',
      'operation',
      'checkpoint',
    ]);
    expect(check(lines)).toMatchObject({ ok: true, records: 3 });
    expect(log.writeFailures).toBe(0);
  });

  it('continues the chain across a restart', () => {
    writeLog(2);
    const lines = writeLog(2);
    expect(lines).toHaveLength(6);
    expect(check(lines).ok).toBe(true);
  });

  it('continues after a line cut short by a crash, and the verifier reports that line', () => {
    const first = writeLog(2);
    appendFileSync(path, first[0]!.slice(0, 40));
    const lines = writeLog(1);
    expect(check(lines)).toMatchObject({ ok: false, bad: { line: 4 } });
    expect(check(lines).bad!.reason).toMatch(/not an audit record/);
  });

  it('makes the signing key with mode 0600 and its public half beside it', async () => {
    const keyFile = join(dir, 'audit-signing.key');
    const made = await ensureAuditSigningKey(keyFile, silent);
    expect(made.created).toBe(true);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(made.publicKeyPath).toBe(join(dir, 'audit-signing.pub'));
    expect(readFileSync(made.publicKeyPath, 'utf8')).toMatch(/BEGIN PUBLIC KEY/);
    const again = await ensureAuditSigningKey(keyFile, silent);
    expect(again.created).toBe(false);
    expect(keyIdOf(again.privateKey)).toBe(keyIdOf(made.privateKey));
  });

  it('a live log verifies with --live and not without', () => {
    const log = AuditFileLog.open({
      path,
      signingKey: privateKey,
      checkpointEvery: 3,
      log: silent,
    });
    for (let i = 0; i < 4; i++) log.record(event(i));
    const live = readFileSync(path, 'utf8');
    expect(check(live, true)).toMatchObject({ ok: true, records: 4, checkpoints: 1, unsigned: 1 });
    expect(check(live).ok).toBe(false);
    log.close();
  });
});

describe('tampering is detected at the first bad line', () => {
  const cases: Array<[string, (lines: string[]) => string[] | string, number, RegExp]> = [
    [
      'a field edited',
      (l) =>
        l.map((x, i) => (i === 4 ? x.replace('"principal":"alice"', '"principal":"mallory"') : x)),
      5,
      /hash does not match/,
    ],
    [
      'a field edited and its hash recomputed',
      (l) =>
        l.map((x, i) => {
          if (i !== 4) return x;
          const body = x
            .replace('"uid":"uid-3"', '"uid":"uid-9"')
            .replace(/,"hash":"[0-9a-f]+"\}$/, '}');
          return sealLine(body);
        }),
      6,
      /prev is not the hash of line 5/,
    ],
    ['a line deleted', (l) => l.filter((_, i) => i !== 1), 2, /prev is not the hash of line 1/],
    ['the first line deleted', (l) => l.slice(1), 1, /does not start the chain/],
    ['two lines swapped', (l) => [l[0]!, l[2]!, l[1]!, ...l.slice(3)], 2, /prev is not the hash/],
    ['a line inserted', (l) => [...l.slice(0, 3), l[1]!, ...l.slice(3)], 4, /prev is not the hash/],
    ['truncated inside a line', (l) => text(l).slice(0, -30), 10, /incomplete last line/],
    ['truncated to a line boundary', (l) => l.slice(0, 9), 9, /does not end with a checkpoint/],
    [
      'a checkpoint signature forged',
      (l) =>
        l.map((x, i) => {
          if (i !== 3) return x;
          const sig = /"sig":"([^"]+)"/.exec(x)![1]!;
          const bytes = Buffer.from(sig, 'base64');
          bytes[0]! ^= 1;
          return x.replace(sig, bytes.toString('base64'));
        }),
      4,
      /bad checkpoint signature/,
    ],
  ];
  for (const [name, tamper, line, reason] of cases) {
    it(name, () => {
      const r = check(tamper(writeLog(7)));
      expect(r.ok).toBe(false);
      expect(r.bad).toEqual({ line, reason: expect.stringMatching(reason) });
    });
  }

  it('a whole chain rewritten and signed with another key', () => {
    const lines = writeLog(7);
    const mallory = generateKeyPairSync('ed25519').privateKey;
    // Rewrite line 2 and re-seal everything after it, checkpoints signed by mallory.
    const out: string[] = [lines[0]!];
    for (let i = 1; i < lines.length; i++) {
      const p = JSON.parse(lines[i]!) as Record<string, unknown>;
      delete p.hash;
      delete p.sig;
      p.prev = sha256Hex(out[i - 1]!);
      if (i === 1) p.principal = 'mallory';
      if (p.type === 'checkpoint') p.keyId = keyIdOf(mallory);
      out.push(sealLine(JSON.stringify(p), p.type === 'checkpoint' ? signer(mallory) : undefined));
    }
    // The chain holds; only the signature key gives it away.
    expect(verifyAuditLog(text(out)).ok).toBe(true);
    expect(check(out)).toMatchObject({
      ok: false,
      bad: { line: 4, reason: expect.stringMatching(/not by the given key/) },
    });
  });

  it('a checkpoint forged with the right keyId but a foreign signature', () => {
    const lines = writeLog(3);
    const mallory = generateKeyPairSync('ed25519').privateKey;
    const p = JSON.parse(lines[3]!) as Record<string, unknown>;
    delete p.hash;
    delete p.sig;
    lines[3] = sealLine(JSON.stringify(p), signer(mallory));
    writeFileSync(path, text(lines));
    expect(check(lines)).toMatchObject({
      ok: false,
      bad: { line: 4, reason: expect.stringMatching(/bad checkpoint signature/) },
    });
  });
});

function signer(key: KeyObject) {
  return (hash: string) =>
    sign(null, Buffer.from(CHECKPOINT_DOMAIN + hash), key).toString('base64');
}
