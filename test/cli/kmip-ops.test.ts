// The `kmip` client commands as a user runs them: `node bin/kmip.js ...` against a live
// `kmipd serve` child, connection settings from the environment, flags or a profile file.

import { spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KmipdProcess, startKmipdProcess } from '../helpers/kmipd-process.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const KMIP_BIN = join(ROOT, 'bin', 'kmip.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

let kmipd: KmipdProcess;
let dir: string;
let env: NodeJS.ProcessEnv;

/** Runs `kmip ARGS`, with `input` on stdin, connection settings from the environment. */
function kmip(
  args: string[],
  opts: { input?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [KMIP_BIN, ...args], {
      cwd: ROOT,
      env: opts.env ?? env,
      stdio: ['pipe', 'pipe', 'pipe'],
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
    child.stdin.end(opts.input ?? '');
  });
}

async function kmipJson<T>(args: string[]): Promise<T> {
  const r = await kmip([...args, '--json']);
  if (r.code !== 0) throw new Error(`kmip ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

beforeAll(async () => {
  kmipd = await startKmipdProcess();
  dir = await mkdtemp(join(tmpdir(), 'kmip-ops-'));
  const admin = kmipd.client('admin');
  const { KMIP_SERVER, KMIP_CERT, KMIP_KEY, KMIP_CA, KMIP_PROFILE, KMIP_PROFILES, ...rest } =
    process.env;
  env = {
    ...rest,
    KMIP_SERVER: `127.0.0.1:${kmipd.port}`,
    KMIP_CERT: admin.cert,
    KMIP_KEY: admin.key,
    KMIP_CA: kmipd.ca,
    // No profile from the user running the tests.
    KMIP_PROFILES: join(dir, 'absent.json'),
  };
});

afterAll(async () => {
  await kmipd?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

const tag = () => randomBytes(4).toString('hex');

describe('kmip object commands', () => {
  it('create → get --json → locate → destroy', async () => {
    const name = `cli-${tag()}`;
    const created = await kmipJson<{ uid: string }>([
      'create',
      '--name',
      name,
      '--usage',
      'encrypt,decrypt',
      '--attr',
      'x-owner=alice',
    ]);
    const got = await kmipJson<Record<string, unknown>>(['get', created.uid]);
    expect(got).toMatchObject({
      uid: created.uid,
      objectType: 'SymmetricKey',
      keyFormatType: 'Raw',
      cryptographicAlgorithm: 'AES',
      cryptographicLength: 256,
    });
    expect(got.value).toMatch(/^[0-9a-f]{64}$/);

    const located = await kmipJson<{ uids: string[] }>(['locate', '--name', name]);
    expect(located.uids).toEqual([created.uid]);
    const table = await kmip(['locate', '--name', name, '--type', 'symmetric-key']);
    expect(table.stdout).toMatch(/^UID\s+TYPE\s+STATE\s+NAME\n/);
    expect(table.stdout).toContain(`${created.uid}  SymmetricKey  PreActive  ${name}`);

    const attrs = await kmipJson<Record<string, unknown>>(['attrs', 'get', created.uid]);
    expect(attrs).toMatchObject({
      'x-owner': 'alice',
      cryptographicUsageMask: ['Encrypt', 'Decrypt'],
    });

    const destroyed = await kmip(['destroy', created.uid]);
    expect(destroyed.code).toBe(0);
    expect(destroyed.stdout).toContain(created.uid);
    const state = await kmipJson<{ state: string }>(['attrs', 'get', created.uid, 'State']);
    expect(state).toEqual({ state: 'Destroyed' });
  });

  it('rekey makes a replacement key linked to the old one', async () => {
    const created = await kmipJson<{ uid: string }>(['create', '--name', `rekey-${tag()}`]);
    const replaced = await kmipJson<{ uid: string }>(['rekey', created.uid]);
    expect(replaced.uid).not.toBe(created.uid);
    const got = await kmipJson<Record<string, unknown>>(['get', replaced.uid]);
    expect(got).toMatchObject({ cryptographicAlgorithm: 'AES', cryptographicLength: 256 });
  });

  it('reports a missing uid with the Result Reason in words and exit code 3', async () => {
    const [v21, v14] = await Promise.all([
      kmip(['get', 'no-such-uid']),
      kmip(['get', 'no-such-uid', '--kmip-version', '1.4']),
    ]);
    expect(v21.code).toBe(3);
    expect(v21.stderr).toBe('kmip: ObjectNotFound: no object with identifier no-such-uid\n');
    expect(v21.stdout).toBe('');
    expect(v14.code).toBe(3);
    expect(v14.stderr).toBe('kmip: ItemNotFound: no object with identifier no-such-uid\n');
  });

  it('fails with exit code 1 and names what is missing when no server is configured', async () => {
    const r = await kmip(['query'], { env: { ...env, KMIP_SERVER: undefined } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--server (KMIP_SERVER)');
  });

  it('registers a PEM private key, exports it as PEM, signs and verifies', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const keyFile = join(dir, `ec-${tag()}.pem`);
    await writeFile(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const pubFile = join(dir, `ec-${tag()}.pub.pem`);
    await writeFile(pubFile, publicKey.export({ type: 'spki', format: 'pem' }));
    const priv = await kmipJson<{ uid: string }>([
      'register',
      '--type',
      'private-key',
      '--file',
      keyFile,
      '--format',
      'pem',
      '--usage',
      'sign',
    ]);
    const pub = await kmipJson<{ uid: string }>([
      'register',
      '--type',
      'public-key',
      '--file',
      pubFile,
      '--format',
      'pem',
      '--usage',
      'verify',
    ]);
    const back = join(dir, `back-${tag()}.pem`);
    const get = await kmip(['get', priv.uid, '--format', 'pem', '--out', back]);
    expect(get.code).toBe(0);
    expect(get.stdout).toMatch(/cryptographicAlgorithm\s+EC/);
    expect(await readFile(back, 'utf8')).toBe(privateKey.export({ type: 'pkcs8', format: 'pem' }));

    await Promise.all([kmip(['activate', priv.uid]), kmip(['activate', pub.uid])]);
    const sigFile = join(dir, `sig-${tag()}`);
    const signed = await kmip([
      'sign',
      priv.uid,
      '--algorithm',
      'ECDSAWithSHA256',
      '--data',
      'hello',
      '--out',
      sigFile,
    ]);
    expect(signed.code).toBe(0);
    const [good, bad] = await Promise.all([
      kmip([
        'verify',
        pub.uid,
        '--algorithm',
        'ECDSAWithSHA256',
        '--data',
        'hello',
        '--signature-file',
        sigFile,
      ]),
      kmip([
        'verify',
        pub.uid,
        '--algorithm',
        'ECDSAWithSHA256',
        '--data',
        'bye',
        '--signature-file',
        sigFile,
      ]),
    ]);
    expect([good.code, good.stdout]).toEqual([0, 'valid\n']);
    expect([bad.code, bad.stdout]).toEqual([4, 'invalid\n']);
  });

  it('encrypts and decrypts through stdin and stdout; MACs and verifies', async () => {
    const key = await kmipJson<{ uid: string }>([
      'create',
      '--usage',
      'encrypt,decrypt',
      '--activate',
    ]);
    const enc = await kmip(['encrypt', key.uid, '--mode', 'GCM', '--json'], {
      input: 'secret text',
    });
    expect(enc.code).toBe(0);
    const e = JSON.parse(enc.stdout) as { data: string; iv: string; tag: string };
    const dec = await kmip([
      'decrypt',
      key.uid,
      '--mode',
      'GCM',
      '--hex',
      e.data,
      '--iv',
      e.iv,
      '--tag',
      e.tag,
    ]);
    expect(dec.code).toBe(0);
    expect(dec.stdout).toBe('secret text');

    const macKey = await kmipJson<{ uid: string }>([
      'create',
      '--algorithm',
      'HMAC_SHA256',
      '--usage',
      'mac-generate,mac-verify',
      '--activate',
    ]);
    const m = await kmipJson<{ mac: string }>([
      'mac',
      macKey.uid,
      '--algorithm',
      'HMAC_SHA256',
      '--data',
      'x',
    ]);
    const checked = await kmip([
      'mac',
      macKey.uid,
      '--algorithm',
      'HMAC_SHA256',
      '--data',
      'x',
      '--verify',
      m.mac,
    ]);
    expect([checked.code, checked.stdout]).toEqual([0, 'valid\n']);
  });

  it('edits attributes: add, modify, set, delete', async () => {
    const { uid } = await kmipJson<{ uid: string }>(['create']);
    expect((await kmip(['attrs', 'add', uid, 'x-team', 'blue'])).code).toBe(0);
    expect((await kmip(['attrs', 'modify', uid, 'x-team', 'red'])).code).toBe(0);
    expect((await kmip(['attrs', 'set', uid, 'Contact Information', 'ops'])).code).toBe(0);
    const after = await kmipJson<Record<string, unknown>>([
      'attrs',
      'get',
      uid,
      'x-team',
      'contactInformation',
    ]);
    expect(after).toEqual({ 'x-team': 'red', contactInformation: 'ops' });
    expect((await kmip(['attrs', 'delete', uid, 'x-team'])).code).toBe(0);
    const names = await kmipJson<string[]>(['attrs', 'list', uid]);
    expect(names).not.toContain('x-team');
    expect(names).toContain('ContactInformation');
  });

  it('destroys every object with a name prefix after confirmation, revoking active ones', async () => {
    const prefix = `bulk-${tag()}-`;
    await Promise.all([
      kmip(['create', '--name', `${prefix}a`]),
      kmip(['create', '--name', `${prefix}b`, '--activate']),
      kmip(['create', '--name', `${prefix}c`]),
      kmip(['create', '--name', `other-${tag()}`]),
    ]);
    const declined = await kmip(['destroy', '--all-matching', '--name-prefix', prefix], {
      input: 'n\n',
    });
    expect(declined.code).toBe(1);
    expect(declined.stderr).toContain(`Destroy 3 object(s) whose name starts with '${prefix}'?`);
    expect(declined.stderr).toContain('nothing destroyed');

    const confirmed = await kmip(
      ['destroy', '--all-matching', '--name-prefix', prefix, '--revoke', '--json'],
      { input: 'y\n' },
    );
    expect(confirmed.code).toBe(0);
    const result = JSON.parse(confirmed.stdout) as { destroyed: string[]; failed: unknown[] };
    expect(result.destroyed).toHaveLength(3);
    expect(result.failed).toEqual([]);

    const again = await kmip(['destroy', '--all-matching', '--name-prefix', prefix, '--yes']);
    expect(again.stdout).toContain('no objects');
  });
});

describe('kmip connection settings', () => {
  it('reads a named profile from KMIP_PROFILES, and flags override it', async () => {
    const admin = kmipd.client('admin');
    const profiles = join(dir, 'profiles.json');
    await writeFile(
      profiles,
      JSON.stringify({
        local: {
          server: `127.0.0.1:${kmipd.port}`,
          cert: admin.cert,
          key: admin.key,
          ca: kmipd.ca,
          version: '1.2',
        },
      }),
    );
    const bare = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      KMIP_PROFILES: profiles,
    };
    const discovered = await kmip(['discover', '--profile', 'local', '--json'], { env: bare });
    expect(discovered.code).toBe(0);
    expect(JSON.parse(discovered.stdout)).toMatchObject({ negotiated: '1.2' });
    const overridden = await kmip(
      ['discover', '--profile', 'local', '--kmip-version', '2.0', '--json'],
      { env: bare },
    );
    expect(JSON.parse(overridden.stdout)).toMatchObject({ negotiated: '2.0' });
    const unknown = await kmip(['query', '--profile', 'nope'], { env: bare });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("no profile 'nope'");
  });

  it('takes the server from flags', async () => {
    const admin = kmipd.client('admin');
    const q = await kmip(
      [
        'query',
        '--server',
        `127.0.0.1:${kmipd.port}`,
        '--cert',
        admin.cert,
        '--key',
        admin.key,
        '--ca',
        kmipd.ca,
      ],
      { env: { PATH: process.env.PATH, KMIP_PROFILES: join(dir, 'absent.json') } },
    );
    expect(q.code).toBe(0);
    expect(q.stdout).toMatch(/^vendor\s+kmipd$/m);
    expect(q.stdout).toMatch(/^operations\s+.*Create/m);
  });
});

describe('kmip --help', () => {
  const COMMANDS = [
    ['create'],
    ['create-key-pair'],
    ['register'],
    ['get'],
    ['locate'],
    ['activate'],
    ['revoke'],
    ['rekey'],
    ['destroy'],
    ['attrs'],
    ['attrs', 'get'],
    ['attrs', 'list'],
    ['attrs', 'add'],
    ['attrs', 'set'],
    ['attrs', 'modify'],
    ['attrs', 'delete'],
    ['encrypt'],
    ['decrypt'],
    ['sign'],
    ['verify'],
    ['mac'],
    ['query'],
    ['discover'],
  ];

  it('prints help for every command', async () => {
    // Four at a time: each is a Node process compiling the CLI.
    const runs: Run[] = [];
    for (let at = 0; at < COMMANDS.length; at += 4) {
      runs.push(
        ...(await Promise.all(COMMANDS.slice(at, at + 4).map((c) => kmip([...c, '--help'])))),
      );
    }
    runs.forEach((r, i) => {
      const cmd = COMMANDS[i]!.join(' ');
      expect(r.code, `${cmd}: ${r.stderr}`).toBe(0);
      expect(r.stdout, cmd).toContain(`kmip ${cmd}`);
      if (COMMANDS[i]![0] !== 'attrs' || COMMANDS[i]!.length > 1) {
        expect(r.stdout, cmd).toContain('--server');
        expect(r.stdout, cmd).toContain('--json');
      }
    });
    const top = await kmip(['--help']);
    for (const c of COMMANDS.filter((x) => x.length === 1))
      expect(top.stdout).toContain(`kmip ${c[0]}`);
  });
});
