// Scale figures: Locate latency as the SQLite store grows, TLS handshakes per second (full,
// resumed, and a bare Node TLS server as the floor), and server memory per idle connection.
//   npm run bench -- scale [--objects 1000000]
// Locate runs against the store directly (no TLS, no TTLV) so the figure is the query's.
// Handshakes and idle connections run against a `kmipd serve --store memory` child process,
// with the generator in this process; every child is stopped by its PID.

import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import tls from 'node:tls';
import { initPki } from '../src/pki/dev-pki.js';
import type { LocateQuery, StoredObject } from '../src/store/object-store.js';
import { openSqliteStore } from '../src/store/sqlite-store.js';

const ROOT = resolve(import.meta.dirname, '..');
const HOST = '127.0.0.1';
const RUNS = 200;
const OWNERS = 50;
const FILL_BATCH = 10_000;
const HANDSHAKE_SECONDS = 3;
const HANDSHAKE_CLIENTS = 8;

export interface Latency {
  p50_ms: number;
  p99_ms: number;
}

export interface ScaleFigures {
  locate: Array<{ objects: number; queries: Record<string, Latency & { matches: number }> }>;
  handshakes: Array<{ server: string; tls: string; mode: 'full' | 'resumed'; per_sec: number }>;
  idle: Array<{ connections: number; rss_kib_per_connection: number; rss_mib: number }>;
}

const round = (x: number, d = 0) => Math.round(x * 10 ** d) / 10 ** d;

// Enumerations (KMIP 1.4 §9.1.3.2): ObjectType Symmetric Key 2, Private Key 4; Cryptographic
// Algorithm AES 3, RSA 4; State Pre-Active 1, Active 2, Deactivated 3.
function syntheticObject(i: number): StoredObject {
  const sym = i % 5 !== 4;
  return {
    uid: `${i.toString(16).padStart(8, '0')}-${randomBytes(8).toString('hex')}`,
    owner: `client-${i % OWNERS}`,
    objectType: sym ? 2 : 4,
    state: 2,
    attributes: randomBytes(160),
    index: [
      { name: 'Name', value: `key-${i}` },
      { name: 'ObjectType', value: sym ? 2 : 4 },
      { name: 'CryptographicAlgorithm', value: sym ? 3 : 4 },
      { name: 'CryptographicLength', value: sym ? 256 : 2048 },
      { name: 'State', value: [1, 2, 2, 3][i % 4]! },
      { name: 'InitialDate', value: BigInt(1_600_000_000 + i * 60) },
      ...(i % 100 === 0 ? [{ name: 'x-Team', value: `team-${(i / 100) % 20}` }] : []),
    ],
    material: { kekId: '0011223344556677', algorithm: 'AES-256-GCM', blob: randomBytes(60) },
    revision: 1,
    createdAt: Date.now(),
  };
}

async function locateFigures(sizes: number[]): Promise<ScaleFigures['locate']> {
  const dir = mkdtempSync(join(tmpdir(), 'kmipd-scale-'));
  const store = await openSqliteStore({ path: dir });
  const out: ScaleFigures['locate'] = [];
  try {
    let filled = 0;
    for (const size of sizes) {
      const t0 = performance.now();
      while (filled < size) {
        const n = Math.min(FILL_BATCH, size - filled);
        await store.insertBatch(Array.from({ length: n }, (_, k) => syntheticObject(filled + k)));
        filled += n;
        if (filled % 100_000 === 0) process.stderr.write(`  filled ${filled}\n`);
      }
      process.stderr.write(
        `${size} objects (filled in ${round((performance.now() - t0) / 1000, 1)} s)\n`,
      );
      const shapes: Record<string, (r: number) => LocateQuery> = {
        'by name (owner)': (r) => ({
          owner: `client-${r % OWNERS}`,
          filters: [{ name: 'Name', op: 'eq', value: `key-${r}` }],
        }),
        'by name (admin)': (r) => ({ filters: [{ name: 'Name', op: 'eq', value: `key-${r}` }] }),
        'by attributes, first 100 (owner, type, algorithm, state)': (r) => ({
          owner: `client-${r % OWNERS}`,
          filters: [
            { name: 'ObjectType', op: 'eq', value: 2 },
            { name: 'CryptographicAlgorithm', op: 'eq', value: 3 },
            { name: 'State', op: 'eq', value: 2 },
          ],
          limit: 100,
        }),
        'by attributes, all (custom x-Team, type)': (r) => ({
          filters: [
            { name: 'x-Team', op: 'eq', value: `team-${r % 20}` },
            { name: 'ObjectType', op: 'eq', value: 2 },
          ],
        }),
        'by attributes, all (one-day InitialDate range, owner)': (r) => {
          const from = 1_600_000_000 + (r % Math.max(1, size - 1440)) * 60;
          return {
            owner: `client-${r % OWNERS}`,
            filters: [
              { name: 'InitialDate', op: 'range', min: BigInt(from), max: BigInt(from + 86_400) },
            ],
          };
        },
      };
      const queries: ScaleFigures['locate'][number]['queries'] = {};
      for (const [label, make] of Object.entries(shapes)) {
        const lat: number[] = [];
        let matches = 0;
        for (let k = 0; k < RUNS; k++) {
          const r = Math.floor(Math.random() * size);
          const s = performance.now();
          matches += (await store.locate(make(r))).length;
          lat.push(performance.now() - s);
        }
        lat.sort((a, b) => a - b);
        queries[label] = {
          p50_ms: round(lat[Math.floor(RUNS / 2)]!, 3),
          p99_ms: round(lat[Math.floor(RUNS * 0.99)]!, 3),
          matches: round(matches / RUNS, 1),
        };
      }
      console.table(queries);
      out.push({ objects: size, queries });
    }
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

// --- child servers ---------------------------------------------------------------------------

interface Child {
  child: ChildProcess;
  port: number;
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.on('error', rej);
    s.listen(0, HOST, () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => res(port));
    });
  });
}

async function waitForPort(c: ChildProcess, port: number): Promise<void> {
  for (let i = 0; i < 150; i++) {
    if (c.exitCode !== null) throw new Error(`server exited with ${c.exitCode}`);
    const open = await new Promise<boolean>((r) => {
      const s = net.connect(port, HOST, () => {
        s.destroy();
        r(true);
      });
      s.on('error', () => r(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`not listening on ${port}`);
}

async function startKmipd(dir: string, pki: PkiFiles): Promise<Child> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      join(ROOT, 'bin', 'kmipd.js'),
      'serve',
      ...['--host', HOST, '--port', String(port), '--data-dir', join(dir, 'kmipd')],
      ...['--store', 'memory', '--cert', pki.cert, '--key', pki.key, '--ca', pki.ca],
      ...['--max-connections', '12000', '--max-connections-per-identity', '12000'],
      ...['--idle-timeout', '600', '--log-level', 'warn'],
    ],
    { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  await waitForPort(child, port);
  return { child, port };
}

async function startEcho(pki: PkiFiles): Promise<Child> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(ROOT, 'src', 'bench', 'echo-main.ts'),
      HOST,
      '0',
      pki.cert,
      pki.key,
      pki.ca,
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await new Promise<number>((res, rej) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /"port":(\d+)/.exec(out);
      if (m !== null) res(Number(m[1]));
    });
    child.once('exit', (code) => rej(new Error(`echo server exited with ${code}`)));
  });
  return { child, port };
}

async function stop(c: Child): Promise<void> {
  if (c.child.exitCode !== null || c.child.signalCode !== null) return;
  const exited = new Promise<void>((r) => c.child.once('exit', () => r()));
  process.kill(c.child.pid!, 'SIGTERM');
  const t = setTimeout(() => process.kill(c.child.pid!, 'SIGKILL'), 15_000);
  await exited;
  clearTimeout(t);
}

interface PkiFiles {
  cert: string;
  key: string;
  ca: string;
  client: tls.ConnectionOptions;
}

/** Connects; `onSession` gets every session the server hands out (1.3 tickets come late). */
function connect(
  port: number,
  client: tls.ConnectionOptions,
  extra: tls.ConnectionOptions = {},
  onSession?: (session: Buffer) => void,
) {
  return new Promise<tls.TLSSocket>((res, rej) => {
    const s = tls.connect({ host: HOST, port, servername: 'localhost', ...client, ...extra });
    if (onSession) s.on('session', onSession);
    s.once('secureConnect', () => res(s));
    s.once('error', rej);
  });
}

/** A session to resume: from a full handshake, waiting briefly for a TLS 1.3 ticket. */
async function firstSession(
  port: number,
  client: tls.ConnectionOptions,
  maxVersion: tls.SecureVersion,
): Promise<Buffer | undefined> {
  let session: Buffer | undefined;
  const s = await connect(port, client, { maxVersion }, (x) => {
    session = x;
  });
  for (let i = 0; i < 50 && session === undefined; i++) await new Promise((r) => setTimeout(r, 10));
  s.destroy();
  return session;
}

async function handshakeRate(
  port: number,
  client: tls.ConnectionOptions,
  maxVersion: tls.SecureVersion,
  resumed: boolean,
): Promise<{ per_sec: number; reused: boolean }> {
  let session = resumed ? await firstSession(port, client, maxVersion) : undefined;
  let n = 0;
  let reused = true;
  const end = performance.now() + HANDSHAKE_SECONDS * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: HANDSHAKE_CLIENTS }, async () => {
      while (performance.now() < end) {
        const s = await connect(port, client, { maxVersion, session }, (x) => {
          if (resumed) session = x;
        });
        if (resumed && !s.isSessionReused()) reused = false;
        s.destroy();
        n++;
      }
    }),
  );
  return { per_sec: round(n / ((performance.now() - t0) / 1000)), reused };
}

function rssKib(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? Number.NaN);
}

async function idleFigures(
  dir: string,
  pki: PkiFiles,
  counts: number[],
): Promise<ScaleFigures['idle']> {
  const out: ScaleFigures['idle'] = [];
  for (const count of counts) {
    const server = await startKmipd(join(dir, `idle-${count}`), pki);
    const sockets: tls.TLSSocket[] = [];
    try {
      // One full handshake warms the server's TLS and connection code before the baseline.
      (await connect(server.port, pki.client)).destroy();
      await new Promise((r) => setTimeout(r, 1000));
      const base = rssKib(server.child.pid!);
      const session = await firstSession(server.port, pki.client, 'TLSv1.3');
      while (sockets.length < count) {
        const wave = Math.min(100, count - sockets.length);
        const opened = await Promise.all(
          Array.from({ length: wave }, () => connect(server.port, pki.client, { session })),
        );
        sockets.push(...opened);
      }
      await new Promise((r) => setTimeout(r, 2000));
      const rss = rssKib(server.child.pid!);
      out.push({
        connections: count,
        rss_kib_per_connection: round((rss - base) / count, 1),
        rss_mib: round(rss / 1024, 1),
      });
      process.stderr.write(
        `${count} idle connections: ${out.at(-1)!.rss_kib_per_connection} KiB each\n`,
      );
    } finally {
      for (const s of sockets) s.destroy();
      await stop(server);
    }
  }
  return out;
}

export async function benchScale(opts: { sizes: number[] }): Promise<ScaleFigures> {
  const locate = await locateFigures(opts.sizes);
  const dir = mkdtempSync(join(tmpdir(), 'kmipd-scale-tls-'));
  const children: Child[] = [];
  try {
    const p = await initPki({ dir: join(dir, 'pki'), clients: ['bench'] });
    const pki: PkiFiles = {
      cert: p.server.cert,
      key: p.server.key,
      ca: p.ca.cert,
      client: {
        cert: readFileSync(p.clients.bench!.cert),
        key: readFileSync(p.clients.bench!.key),
        ca: readFileSync(p.ca.cert),
      },
    };
    const handshakes: ScaleFigures['handshakes'] = [];
    const kmipd = await startKmipd(dir, pki);
    children.push(kmipd);
    const echo = await startEcho(pki);
    children.push(echo);
    for (const [server, port] of [
      ['kmipd', kmipd.port],
      ['bare Node TLS (echo floor)', echo.port],
    ] as const) {
      for (const v of ['TLSv1.2', 'TLSv1.3'] as const) {
        for (const resumed of [false, true]) {
          const r = await handshakeRate(port, pki.client, v, resumed);
          if (resumed && !r.reused) throw new Error(`${server} ${v}: session not resumed`);
          handshakes.push({
            server,
            tls: v,
            mode: resumed ? 'resumed' : 'full',
            per_sec: r.per_sec,
          });
          process.stderr.write(`${server} ${v} ${resumed ? 'resumed' : 'full'}: ${r.per_sec}/s\n`);
        }
      }
    }
    for (const c of children.splice(0)) await stop(c);
    const idle = await idleFigures(dir, pki, [1000, 10_000]);
    return { locate, handshakes, idle };
  } finally {
    for (const c of children) await stop(c);
    rmSync(dir, { recursive: true, force: true });
  }
}

export function scaleMarkdown(f: ScaleFigures): string {
  const lines = ['## Scale', '', 'Generated by `npm run bench -- scale` (bench/scale.ts).', ''];
  lines.push('### Locate (SQLite store, no transport), p50 / p99 ms, mean matches', '');
  const labels = Object.keys(f.locate[0]?.queries ?? {});
  lines.push(
    `| query | ${f.locate.map((l) => `${l.objects.toLocaleString('en')} objects`).join(' | ')} |`,
  );
  lines.push(`|---|${f.locate.map(() => '---:').join('|')}|`);
  for (const label of labels) {
    const cells = f.locate.map((l) => {
      const q = l.queries[label]!;
      return `${q.p50_ms} / ${q.p99_ms} (${q.matches})`;
    });
    lines.push(`| ${label} | ${cells.join(' | ')} |`);
  }
  lines.push(
    '',
    `### TLS handshakes per second (${HANDSHAKE_CLIENTS} clients in this process)`,
    '',
  );
  lines.push('| server | TLS | full | resumed |', '|---|---|---:|---:|');
  for (const server of [...new Set(f.handshakes.map((h) => h.server))]) {
    for (const v of ['TLSv1.2', 'TLSv1.3']) {
      const get = (m: string) =>
        f.handshakes.find((h) => h.server === server && h.tls === v && h.mode === m)?.per_sec;
      lines.push(`| ${server} | ${v} | ${get('full')} | ${get('resumed')} |`);
    }
  }
  lines.push('', '### Idle connections (kmipd --store memory, RSS growth per connection)', '');
  lines.push('| connections | KiB per connection | server RSS MiB |', '|---:|---:|---:|');
  for (const i of f.idle)
    lines.push(`| ${i.connections} | ${i.rss_kib_per_connection} | ${i.rss_mib} |`);
  lines.push('');
  return lines.join('\n');
}
