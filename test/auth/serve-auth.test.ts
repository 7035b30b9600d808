// `kmipd serve --identity-map --users-file` as a user runs it, with `kmip grant` and
// `kmip revoke-grant` against the live server: certificate CN mapped to principals and groups,
// grants to a group, the admin role through a mapped principal, and the Credential required
// as a second factor.

import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { connect } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser } from '../../src/auth/users.js';
import { item } from '../../src/kmip/items.js';
import type { TtlvItem } from '../../src/ttlv/item.js';
import {
  CredentialType,
  Operation,
  ResultReason,
  ResultStatus,
  Tag,
} from '../../src/ttlv/spec/generated.js';
import { readResponse, requestBytes } from '../helpers/kmip-test-client.js';
import { type KmipdProcess, startKmipdProcess } from '../helpers/kmipd-process.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const KMIP_BIN = join(ROOT, 'bin', 'kmip.js');
const PASSWORD = 'tr0ub4dor&3 correct';

let kmipd: KmipdProcess;
let dir: string;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `kmip ARGS` with the certificate of `client`. */
function kmip(client: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const files = kmipd.client(client);
  const { KMIP_PROFILE, KMIP_PROFILES, KMIP_USERNAME, KMIP_PASSWORD, ...rest } = process.env;
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [KMIP_BIN, ...args], {
      cwd: ROOT,
      env: {
        ...rest,
        KMIP_SERVER: `127.0.0.1:${kmipd.port}`,
        KMIP_CERT: files.cert,
        KMIP_KEY: files.key,
        KMIP_CA: kmipd.ca,
        KMIP_PROFILES: join(dir, 'absent.json'),
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
    });
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

/** One request over a raw TLS connection, with or without a Credential. */
async function raw(client: string, operation: number, payload: TtlvItem[], password?: string) {
  const files = kmipd.client(client);
  const [cert, key, ca] = await Promise.all([
    readFile(files.cert),
    readFile(files.key),
    readFile(kmipd.ca),
  ]);
  const authentication =
    password === undefined
      ? undefined
      : item.struct(Tag.Authentication, [
          item.struct(Tag.Credential, [
            item.enum(Tag.CredentialType, CredentialType.UsernameAndPassword),
            item.struct(Tag.CredentialValue, [
              item.text(Tag.Username, client),
              item.text(Tag.Password, password),
            ]),
          ]),
        ]);
  const bytes = requestBytes('2.1', [{ operation, payload }], { authentication });
  const socket = connect({
    host: '127.0.0.1',
    port: kmipd.port,
    cert,
    key,
    ca,
    servername: 'localhost',
  });
  const chunks: Buffer[] = [];
  const frame = await new Promise<Buffer>((done, fail) => {
    socket.on('error', fail);
    socket.on('secureConnect', () => socket.write(bytes));
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      const all = Buffer.concat(chunks);
      if (all.length >= 8 && all.length >= 8 + all.readUInt32BE(4)) done(all);
    });
  });
  socket.destroy();
  return readResponse(frame).batchItems[0]!;
}

/** One TTLV request POSTed to the HTTPS port (/kmip) as CLIENT. */
async function overHttps(client: string, operation: number, payload: TtlvItem[]) {
  const port = kmipd.logs().find((l) => l.msg === 'listening')?.httpsPort as number;
  const files = kmipd.client(client);
  const [cert, key, ca] = await Promise.all([
    readFile(files.cert),
    readFile(files.key),
    readFile(kmipd.ca),
  ]);
  const body = requestBytes('2.1', [{ operation, payload }]);
  const reply = await new Promise<Buffer>((done, fail) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        path: '/kmip',
        method: 'POST',
        cert,
        key,
        ca,
        servername: 'localhost',
        agent: false,
        headers: { 'content-type': 'application/octet-stream', 'content-length': body.length },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => done(Buffer.concat(chunks)));
      },
    );
    req.on('error', fail);
    req.end(body);
  });
  return readResponse(reply).batchItems[0]!;
}

async function start(args: (dir: string) => Promise<string[]>) {
  return startKmipdProcess({
    clients: ['alice', 'bob', 'carol', 'ops-admin'],
    admins: ['root'],
    args: await args(dir),
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kmipd-serve-auth-'));
});

afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('kmipd serve --identity-map, with kmip grant and kmip revoke-grant', () => {
  beforeAll(async () => {
    kmipd = await start(async (d) => {
      const map = join(d, 'identity-map.yaml');
      await writeFile(
        map,
        [
          'rules:',
          '  - match: { cn: carol }',
          '    groups: [team-a]',
          '  - match: { cn: ops-admin }',
          '    principal: root',
          '',
        ].join('\n'),
      );
      return ['--identity-map', map, '--https-port', '0'];
    });
  }, 60_000);
  afterAll(async () => {
    await kmipd?.stop();
  });

  it('lets a group member use what the owner granted the group, until revoked', async () => {
    const created = await kmip('alice', ['create', '--json']);
    expect(created.code, created.stderr).toBe(0);
    const { uid } = JSON.parse(created.stdout) as { uid: string };
    const getAs = (who: string) => kmip(who, ['get', uid, '--json']);

    expect((await getAs('carol')).stderr).toContain('ObjectNotFound');
    const granted = await kmip('alice', [
      'grant',
      uid,
      '--to',
      'group:team-a',
      '--ops',
      'get,locate',
      '--json',
    ]);
    expect(granted.code, granted.stderr).toBe(0);
    expect(JSON.parse(granted.stdout)).toEqual({
      uid,
      grants: ['group:team-a Get', 'group:team-a Locate'],
    });
    expect((await getAs('carol')).code).toBe(0);
    const bob = await getAs('bob');
    expect([bob.code, bob.stderr.includes('ObjectNotFound')]).toEqual([3, true]);
    // A group member may not pass rights on.
    const pass = await kmip('carol', ['grant', uid, '--to', 'bob', '--ops', 'get']);
    expect([pass.code, pass.stderr.includes('PermissionDenied')]).toEqual([3, true]);
    // ops-admin is mapped to the principal root, which is an admin.
    expect((await getAs('ops-admin')).code).toBe(0);

    const revoked = await kmip('alice', ['revoke-grant', uid, '--to', 'group:team-a', '--json']);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(JSON.parse(revoked.stdout)).toEqual({ uid, grants: [] });
    expect((await getAs('carol')).stderr).toContain('ObjectNotFound');
  });

  it('maps identities on the HTTPS port as on the KMIP port', async () => {
    const created = await kmip('alice', ['create', '--json']);
    const { uid } = JSON.parse(created.stdout) as { uid: string };
    const granted = await kmip('alice', ['grant', uid, '--to', 'group:team-a', '--ops', 'get']);
    expect(granted.code, granted.stderr).toBe(0);
    const get = (who: string) =>
      overHttps(who, Operation.Get, [item.text(Tag.UniqueIdentifier, uid)]);
    expect((await get('carol')).resultStatus).toBe(ResultStatus.Success);
    expect((await get('ops-admin')).resultStatus).toBe(ResultStatus.Success);
    expect((await get('bob')).resultReason).toBe(ResultReason.ObjectNotFound);
  });
});

describe('kmipd serve --users-file (the Credential as a second factor)', () => {
  beforeAll(async () => {
    kmipd = await start(async (d) => {
      const users = join(d, 'users');
      for (const u of ['alice', 'bob']) addUser(users, u, PASSWORD);
      return ['--users-file', users];
    });
  }, 60_000);
  afterAll(async () => {
    await kmipd?.stop();
  });

  it('refuses a request without a valid Credential, and never logs the password', async () => {
    const none = await raw('alice', Operation.Query, []);
    expect(none.resultReason).toBe(ResultReason.AuthenticationNotSuccessful);
    const wrong = await raw('alice', Operation.Query, [], 'guess');
    expect(wrong.resultReason).toBe(ResultReason.AuthenticationNotSuccessful);
    const stranger = await raw('carol', Operation.Query, [], PASSWORD);
    expect(stranger.resultReason).toBe(ResultReason.AuthenticationNotSuccessful);
    const right = await raw('alice', Operation.Query, [], PASSWORD);
    expect(right.resultStatus).toBe(ResultStatus.Success);
    expect(JSON.stringify(kmipd.logs())).not.toContain(PASSWORD);
    expect(JSON.stringify(kmipd.logs())).not.toContain('guess');
  });

  it('kmip --username sends the Credential, its password from the environment', async () => {
    const without = await kmip('alice', ['query', '--json']);
    expect(without.code).toBe(3);
    expect(without.stderr).toContain('AuthenticationNotSuccessful');
    const ok = await kmip('alice', ['query', '--json', '--username', 'alice'], {
      KMIP_PASSWORD: PASSWORD,
    });
    expect(ok.code, ok.stderr).toBe(0);
    const other = await kmip('bob', ['query', '--json', '--password-env', 'PW'], {
      KMIP_USERNAME: 'bob',
      PW: 'wrong',
    });
    expect(other.stderr).toContain('AuthenticationNotSuccessful');
    const unset = await kmip('alice', ['query', '--username', 'alice']);
    expect(unset.code).toBe(1);
    expect(unset.stderr).toContain('set the password in the environment variable KMIP_PASSWORD');
  });
});
