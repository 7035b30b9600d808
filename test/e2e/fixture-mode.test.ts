// Fixture mode as another project's CI uses it: `kmipd serve --ephemeral --pki-out DIR
// --port 0`, the JSON line read from stdout, then PyKMIP 0.10 (Debian python3-pykmip) at its
// default KMIP 1.2 with the written PKI, as pykmip-server's users drive it. Deterministic
// identifiers and each kind of injected fault are checked through the same client.

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KMIPD_BIN } from '../helpers/kmipd-process.js';
import { PYTHON, requirePyKmip } from '../helpers/python.js';

const run = promisify(execFile);

interface Fixture {
  child: ChildProcess;
  cwd: string;
  pki: string;
  port: number;
  /** The first stdout line, parsed. */
  announced: Record<string, unknown>;
  stdout(): string;
  stderr(): string;
  /** Spawn to JSON line, measured here (reported, not asserted). */
  readyMs: number;
  stop(): Promise<number | null>;
}

async function startFixture(args: string[]): Promise<Fixture> {
  const cwd = await mkdtemp(join(tmpdir(), 'kmipd-fixture-'));
  const pki = join(cwd, 'pki');
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [KMIPD_BIN, 'serve', '--ephemeral', '--pki-out', pki, '--port', '0', ...args],
    { cwd, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => {
    stderr += c;
  });
  const first = new Promise<string>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
      const nl = stdout.indexOf('\n');
      if (nl >= 0) resolve(stdout.slice(0, nl));
    });
    void exited.then((code) =>
      reject(new Error(`kmipd exited (${code}) before its JSON line: ${stderr}`)),
    );
  });
  const line = await first;
  const readyMs = Math.round(performance.now() - started);
  const announced = JSON.parse(line) as Record<string, unknown>;
  return {
    child,
    cwd,
    pki,
    port: announced.port as number,
    announced,
    readyMs,
    stdout: () => stdout,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const code = await exited;
      await rm(cwd, { recursive: true, force: true });
      return code;
    },
  };
}

/** PyKMIP's ProxyKmipClient at its default version (1.2), one connection per step. */
const DRIVER = String.raw`
import json, os, sys, time
from kmip import enums
from kmip.pie import client as pie_client

cfg = json.loads(sys.argv[1])

def client():
    return pie_client.ProxyKmipClient(
        hostname="127.0.0.1", port=cfg["port"], cert=cfg["cert"], key=cfg["key"],
        ca=cfg["ca"], ssl_version="PROTOCOL_TLSv1_2", config_file=os.devnull)

def attempt(fn):
    started = time.monotonic()
    try:
        with client() as c:
            value = fn(c)
        return {"ok": True, "value": value, "seconds": time.monotonic() - started}
    except Exception as err:
        reason = getattr(err, "reason", None)
        return {"ok": False, "error": type(err).__name__,
                "reason": getattr(reason, "name", None), "message": str(err),
                "seconds": time.monotonic() - started}

def create(c):
    return c.create(enums.CryptographicAlgorithm.AES, 256)

def get(uid):
    def fn(c):
        key = c.get(uid)
        return {"type": key.object_type.name, "length": len(key.value)}
    return fn

out = {"version": "1.2"}
if cfg["scenario"] == "flow":
    first = attempt(create)
    uid = first.get("value")
    out["create"] = first
    out["get"] = attempt(get(uid))
    out["destroy"] = attempt(lambda c: c.destroy(uid))
    out["get_destroyed"] = attempt(get(uid))
    out["create_again"] = attempt(create)
else:
    out["create"] = attempt(create)
    out["get"] = attempt(get(out["create"].get("value")))
    out["destroy"] = attempt(lambda c: c.destroy(out["create"].get("value")))
    out["create_after_drop"] = attempt(create)
print(json.dumps(out))
`;

interface Step {
  ok: boolean;
  value?: unknown;
  error?: string;
  reason?: string | null;
  message?: string;
  seconds: number;
}

async function drive(f: Fixture, scenario: 'flow' | 'faults'): Promise<Record<string, Step>> {
  const input = {
    scenario,
    port: f.port,
    cert: join(f.pki, 'admin.crt'),
    key: join(f.pki, 'admin.key'),
    ca: join(f.pki, 'ca.crt'),
  };
  const { stdout } = await run(PYTHON, ['-c', DRIVER, JSON.stringify(input)]);
  return JSON.parse(stdout) as Record<string, Step>;
}

const fixtures: Fixture[] = [];
afterAll(async () => {
  await Promise.all(fixtures.map((f) => f.stop()));
});

describe('kmipd serve --ephemeral with PyKMIP at KMIP 1.2', () => {
  let f: Fixture;
  let flow: Record<string, Step>;
  beforeAll(async () => {
    await requirePyKmip();
    f = await startFixture(['--deterministic-ids']);
    fixtures.push(f);
    flow = await drive(f, 'flow');
  }, 60_000);

  it('prints one JSON line with the port and the PKI directory first on stdout', async () => {
    expect(f.announced).toMatchObject({ port: expect.any(Number), pki: f.pki });
    expect(f.port).toBeGreaterThan(0);
    expect(f.stdout().split('\n').filter(Boolean)).toHaveLength(1);
    // Logs go to stderr.
    expect(f.stderr()).toContain('"msg":"listening"');
    console.log(
      `fixture mode: spawn to JSON line ${f.readyMs} ms (process start to listening, as kmipd measured it: ${f.announced.readyMs} ms)`,
    );
  });

  it('writes the PKI a client needs and nothing else', async () => {
    expect((await readdir(f.pki)).sort()).toEqual([
      'admin.crt',
      'admin.key',
      'ca.crt',
      'ca.key',
      'server.crt',
      'server.key',
    ]);
    expect(await readdir(f.cwd)).toEqual(['pki']);
  });

  it('creates, gets and destroys a key, with identifiers 00000001, 00000002', () => {
    expect(flow.create).toMatchObject({ ok: true, value: '00000001' });
    expect(flow.get).toMatchObject({ ok: true, value: { type: 'SYMMETRIC_KEY', length: 32 } });
    expect(flow.destroy).toMatchObject({ ok: true });
    expect(flow.get_destroyed).toMatchObject({ ok: false, reason: 'ITEM_NOT_FOUND' });
    expect(flow.create_again).toMatchObject({ ok: true, value: '00000002' });
  });

  it('exits 0 on SIGTERM and leaves only the PKI', async () => {
    f.child.kill('SIGTERM');
    await new Promise((r) => f.child.once('close', r));
    expect(f.child.exitCode).toBe(0);
    expect(await readdir(f.cwd)).toEqual(['pki']);
  });
});

describe('seeded UUID identifiers', () => {
  it('gives the same UUID-shaped sequence for the same seed', async () => {
    await requirePyKmip();
    const f = await startFixture(['--deterministic-ids', 'uuid:ci-seed']);
    fixtures.push(f);
    const flow = await drive(f, 'flow');
    // Computed here: SHA-256("ci-seed:n"), first 16 bytes, version 4 and RFC 4122 variant.
    const expected = (n: number) => {
      const b = createHash('sha256').update(`ci-seed:${n}`).digest().subarray(0, 16);
      b[6] = (b[6]! & 0x0f) | 0x40;
      b[8] = (b[8]! & 0x3f) | 0x80;
      const h = b.toString('hex');
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    };
    expect(flow.create?.value).toBe(expected(1));
    expect(flow.create_again?.value).toBe(expected(2));
    expect(flow.create?.value).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  }, 60_000);
});

describe('injected faults', () => {
  let steps: Record<string, Step>;
  let f: Fixture;
  beforeAll(async () => {
    await requirePyKmip();
    f = await startFixture([
      '--fault',
      'op=Create,delay=300,times=1',
      '--fault',
      'op=Get,reason=ItemNotFound',
      '--fault',
      'op=Destroy,drop',
    ]);
    fixtures.push(f);
    steps = await drive(f, 'faults');
  }, 60_000);

  it('delays Create and still creates the key', () => {
    expect(steps.create).toMatchObject({ ok: true });
    expect(steps.create!.seconds).toBeGreaterThanOrEqual(0.3);
  });

  it('answers Get with the chosen Result Reason', () => {
    expect(steps.get).toMatchObject({ ok: false, reason: 'ITEM_NOT_FOUND' });
    expect(steps.get!.message).toContain('injected fault for Get');
  });

  it('drops the connection on Destroy without an answer, and keeps serving', () => {
    expect(steps.destroy?.ok).toBe(false);
    expect(steps.destroy?.reason ?? null).toBeNull();
    expect(steps.create_after_drop).toMatchObject({ ok: true });
    expect(f.stderr()).toContain('InjectedConnectionDrop');
  });
});

describe('fixture mode errors', () => {
  it.each([
    [['--fault', 'op=Gte,reason=ItemNotFound'], "unknown operation 'Gte'"],
    [['--fault', 'op=Get,reason=Nope'], "unknown Result Reason 'Nope'"],
    [['--fault', 'op=Get'], 'give reason=NAME, delay=MS or drop'],
    [['--deterministic-ids', 'sequential'], "must be 'counter' or 'uuid:SEED'"],
    [['--kek-env', 'X'], '--ephemeral keeps a random KEK in memory; drop --kek-env'],
  ])('refuses %j', async (args, message) => {
    const child = spawn(
      process.execPath,
      [KMIPD_BIN, 'serve', '--ephemeral', '--port', '0', ...args],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
    });
    const code = await new Promise((r) => child.on('close', r));
    expect(code).toBe(1);
    expect(stderr).toContain(message);
  });

  it('refuses --deterministic-ids on a store that outlives the process', async () => {
    const child = spawn(
      process.execPath,
      [KMIPD_BIN, 'serve', '--deterministic-ids', '--store', 'sqlite'],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
    });
    expect(await new Promise((r) => child.on('close', r))).toBe(1);
    expect(stderr).toContain('--deterministic-ids needs --ephemeral or --store memory');
  });
});
