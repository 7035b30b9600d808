// Server benchmark suite: the `kmip bench` generator, in this process, against
//   - kmipd (bin/kmipd.js serve, SQLite store in a temporary data directory, and once with the
//     memory store to separate storage from the rest of the server),
//   - PyKMIP 0.10's pykmip-server (its SQLite database, auth_suite=TLS1.2, client certificates),
//   - the transport floor: src/bench/echo-server.ts, a bare mutual-TLS server with kmipd's TLS
//     settings answering every frame with one fixed response,
// each with the same workload: the cycle scenario (Create AES-256, Get, Destroy, KMIP 1.2) at
// 1, 4 and 16 connections, Barbican's new-connection-per-call pattern, and vSphere's named
// keys with Locate. TLS is capped at 1.2 everywhere because PyKMIP's TLS1.2 suite speaks
// nothing else. Every server runs as a child process on 127.0.0.1 and is stopped by its PID.
// The machine's cores are shared by the generator and the server: client and server CPU are
// recorded for every point so a saturated side is visible.
//
// Writes results/server.json, results/REPORT.md and results/server-throughput.svg.

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { progressLine } from '../src/bench/format.js';
import { runBench } from '../src/bench/runner.js';
import type { BenchReport } from '../src/bench/stats.js';
import type { BenchTarget } from '../src/bench/transport.js';
import { type ScenarioName, scenario } from '../src/bench/workloads.js';
import { initPki } from '../src/pki/dev-pki.js';
import { writePyKmipConfig } from '../test/helpers/pykmip-server.js';

const ROOT = resolve(import.meta.dirname, '..');
const HOST = '127.0.0.1';
const PYKMIP_SERVER = '/usr/bin/pykmip-server';
const PYTHON = '/usr/bin/python3';

export interface SuiteOptions {
  /** Seconds measured per point. */
  seconds?: number;
  connections?: number[];
}

type TargetName = 'kmipd' | 'kmipd-loop' | 'kmipd-workers' | 'kmipd-memory' | 'pykmip' | 'echo';

/** Processes of the kmipd-workers target (`kmipd serve --workers`): one per core here. */
const WORKERS = 2;

const TARGET_LABELS: Record<TargetName, string> = {
  kmipd: 'kmipd (SQLite)',
  'kmipd-loop': 'kmipd (SQLite, --no-sqlite-writer-thread)',
  'kmipd-workers': `kmipd (SQLite, --workers ${WORKERS})`,
  'kmipd-memory': 'kmipd (memory store)',
  pykmip: 'PyKMIP 0.10 server',
  echo: 'TLS echo floor',
};

interface Point {
  target: TargetName;
  scenario: ScenarioName;
  connections: number;
  /** The server process's CPU time over the run (warm-up included), percent of one core. */
  server_cpu_pct: number;
  /**
   * The machine's 1-minute load average at the start and end of the point: anything else
   * running on the shared cores shows here and makes the point noisy.
   */
  loadavg: [number, number];
  report: BenchReport;
}

interface Server {
  name: TargetName;
  pid: number;
  port: number;
  child: ChildProcess;
}

export async function benchServers(outDir: string, opts: SuiteOptions = {}) {
  const seconds = opts.seconds ?? 5;
  const levels = opts.connections ?? [1, 4, 16];
  const tmp = await mkdtemp(join(tmpdir(), 'kmipd-server-bench-'));
  const servers: Server[] = [];
  const points: Point[] = [];
  try {
    const pki = await initPki({ dir: join(tmp, 'pki'), clients: ['bench'] });
    const client = {
      cert: await readFile(pki.clients.bench!.cert),
      key: await readFile(pki.clients.bench!.key),
      ca: await readFile(pki.ca.cert),
    };
    const tlsFiles = { cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert };

    const plan: Array<{ scenario: ScenarioName; connections: number[] }> = [
      { scenario: 'cycle', connections: levels },
      { scenario: 'barbican', connections: [1, 4] },
      { scenario: 'vsphere', connections: [4] },
    ];
    const targets: TargetName[] = [
      'kmipd',
      'kmipd-loop',
      'kmipd-workers',
      'pykmip',
      'echo',
      'kmipd-memory',
    ];
    for (const name of targets) {
      const server = await startServer(name, tmp, tlsFiles);
      servers.push(server);
      const target: BenchTarget = {
        host: HOST,
        port: server.port,
        ...client,
        tlsMaxVersion: 'TLSv1.2',
      };
      for (const step of plan) {
        // The memory store only separates storage cost from the rest: the cycle is enough.
        if (name === 'kmipd-memory' && step.scenario !== 'cycle') continue;
        for (const connections of step.connections) {
          process.stderr.write(
            `\n${TARGET_LABELS[name]}: ${step.scenario}, ${connections} connection(s)\n`,
          );
          // Server CPU over the whole call (warm-up and drain included) divided by its wall time.
          const cpu0 = processTreeCpuMs(server.pid);
          const load0 = loadavg()[0]!;
          const wall0 = performance.now();
          const report = await runBench({
            target,
            workload: scenario(step.scenario),
            connections,
            durationMs: seconds * 1000,
            warmupMs: 1000,
            version: '1.2',
            onProgress: (s) => process.stderr.write(`${progressLine(s)}\n`),
          });
          const cpuMs = processTreeCpuMs(server.pid) - cpu0;
          points.push({
            target: name,
            scenario: step.scenario,
            connections,
            server_cpu_pct: Math.round((cpuMs / (performance.now() - wall0)) * 1000) / 10,
            loadavg: [round2(load0), round2(loadavg()[0]!)],
            report,
          });
          const r = report;
          process.stderr.write(
            `=> ${r.cycles_per_sec} cycles/s, ${r.ops_per_sec} ops/s, ${r.errors} errors\n`,
          );
        }
      }
      await stopServer(server);
      servers.splice(servers.indexOf(server), 1);
    }
  } finally {
    for (const s of servers) await stopServer(s);
    await rm(tmp, { recursive: true, force: true });
  }

  const figures = {
    date: new Date().toISOString(),
    node: process.version,
    pykmip: pykmipVersion(),
    cpu: cpus()[0]?.model,
    cores: cpus().length,
    seconds_per_point: seconds,
    kmip_version: '1.2',
    tls: 'TLSv1.2 (PyKMIP auth_suite=TLS1.2 speaks only 1.2; every target capped alike)',
    points,
  };
  mkdirSync(outDir, { recursive: true });
  const previous = await readPrevious(join(outDir, 'server.json'));
  await writeFile(join(outDir, 'server.json'), `${JSON.stringify(figures, null, 2)}\n`);
  await writeFile(join(outDir, 'REPORT.md'), markdown(figures, previous));
  await writeFile(join(outDir, 'server-throughput.svg'), chart(points, levels));
  return figures;
}

type Figures = Awaited<ReturnType<typeof benchServers>>;

/** The last run's figures, shown next to the new ones (kmipd before / after a change). */
async function readPrevious(file: string): Promise<Figures | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Figures;
  } catch {
    return undefined;
  }
}

// --- servers ---------------------------------------------------------------------------------

async function startServer(
  name: TargetName,
  tmp: string,
  tls: { cert: string; key: string; ca: string },
): Promise<Server> {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  const log = openSync(join(dir, 'server.log'), 'a');
  let child: ChildProcess;
  let port: number;
  if (name.startsWith('kmipd')) {
    port = await freePort();
    // Logs (one audit line per operation at the default level) go to a file, as in service.
    child = spawn(
      process.execPath,
      [
        join(ROOT, 'bin', 'kmipd.js'),
        'serve',
        '--host',
        HOST,
        '--port',
        String(port),
        '--data-dir',
        dir,
        '--store',
        name === 'kmipd-memory' ? 'memory' : 'sqlite',
        '--workers',
        String(name === 'kmipd-workers' ? WORKERS : 1),
        '--cert',
        tls.cert,
        '--key',
        tls.key,
        '--ca',
        tls.ca,
        ...(name === 'kmipd-loop' ? ['--no-sqlite-writer-thread'] : []),
      ],
      { cwd: ROOT, stdio: ['ignore', log, log] },
    );
  } else if (name === 'pykmip') {
    port = await freePort();
    const config = writePyKmipConfig({
      dir,
      host: HOST,
      port,
      cert: tls.cert,
      key: tls.key,
      ca: tls.ca,
      database: join(dir, 'pykmip.db'),
    });
    child = spawn(PYKMIP_SERVER, ['-f', config, '-l', join(dir, 'pykmip.log')], {
      stdio: ['ignore', log, log],
    });
  } else {
    child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(ROOT, 'src', 'bench', 'echo-main.ts'),
        HOST,
        '0',
        tls.cert,
        tls.key,
        tls.ca,
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', log] },
    );
    port = await new Promise<number>((resolvePort, reject) => {
      let out = '';
      child.stdout!.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /"port":(\d+)/.exec(out);
        if (m !== null) resolvePort(Number(m[1]));
      });
      child.once('exit', (code) => reject(new Error(`echo server exited with ${code}`)));
    });
  }
  const server = { name, pid: child.pid!, port, child };
  try {
    await waitForPort(port, child, 30_000);
    // The port opens with the first worker; connections made before the last one listens
    // would all stay with the first.
    if (name === 'kmipd-workers') await waitForLine(join(dir, 'server.log'), '"msg":"listening"');
  } catch (err) {
    await stopServer(server);
    const tail = readFileSync(join(dir, 'server.log'), 'utf8').slice(-2000);
    throw new Error(`${TARGET_LABELS[name]}: ${(err as Error).message}\n${tail}`);
  }
  return server;
}

async function stopServer(s: Server): Promise<void> {
  if (s.child.exitCode !== null || s.child.signalCode !== null) return;
  const exited = new Promise<void>((r) => s.child.once('exit', () => r()));
  process.kill(s.pid, 'SIGTERM');
  const timer = setTimeout(() => {
    // PyKMIP's server can hang in shutdown with threads still serving.
    if (s.child.exitCode === null) process.kill(s.pid, 'SIGKILL');
  }, 5_000);
  await exited;
  clearTimeout(timer);
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, HOST, () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolvePort(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`exited with code ${child.exitCode}`);
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
  throw new Error(`not listening on ${port} within ${timeoutMs} ms`);
}

/** User + system CPU time of a process, from /proc (Linux), in milliseconds. */
/** CPU time of a process and its children (a kmipd primary and its workers), in ms. */
function processTreeCpuMs(pid: number): number {
  let children: number[] = [];
  try {
    children = readdirSync(`/proc/${pid}/task`).flatMap((t) =>
      readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8')
        .split(' ')
        .filter(Boolean)
        .map(Number),
    );
  } catch {
    // The process has gone: its own figure is NaN below.
  }
  return children.reduce((sum, c) => sum + processCpuMs(c), processCpuMs(pid));
}

async function waitForLine(file: string, text: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!readFileSync(file, 'utf8').includes(text)) {
    if (Date.now() > deadline) throw new Error(`no ${text} in ${file} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of stat (utime, stime), in clock ticks of 10 ms (CLK_TCK = 100).
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

function pykmipVersion(): string {
  try {
    return execFileSync(PYTHON, ['-c', 'import kmip; print(kmip.__version__)']).toString().trim();
  } catch {
    return 'unknown';
  }
}

const round2 = (x: number) => Math.round(x * 100) / 100;

// --- report ----------------------------------------------------------------------------------

const fmt = (x: number | null | undefined, digits = 0) =>
  x === null || x === undefined || Number.isNaN(x) ? '-' : x.toFixed(digits);

function find(points: Point[], t: TargetName, s: ScenarioName, c: number) {
  return points.find((p) => p.target === t && p.scenario === s && p.connections === c);
}

function ratio(a: Point | undefined, b: Point | undefined): string {
  const x = a?.report.cycles_per_sec;
  const y = b?.report.cycles_per_sec;
  return x && y ? `${(x / y).toFixed(1)}×` : '-';
}

function markdown(f: Figures, previous?: Figures): string {
  const { points } = f;
  const rows: string[] = [];
  const cases = [...new Set(points.map((p) => `${p.scenario}:${p.connections}`))];
  for (const c of cases) {
    const [s, n] = c.split(':') as [ScenarioName, string];
    const k = find(points, 'kmipd', s, Number(n));
    const l = find(points, 'kmipd-loop', s, Number(n));
    const w = find(points, 'kmipd-workers', s, Number(n));
    const m = find(points, 'kmipd-memory', s, Number(n));
    const p = find(points, 'pykmip', s, Number(n));
    const e = find(points, 'echo', s, Number(n));
    const before = previous && find(previous.points, 'kmipd', s, Number(n));
    rows.push(
      `| ${s} | ${n} | ${fmt(before?.report.cycles_per_sec, 1)} | ${fmt(k?.report.cycles_per_sec, 1)} | ${fmt(p?.report.cycles_per_sec, 1)} | ` +
        `**${ratio(k, p)}** | ${fmt(l?.report.cycles_per_sec, 1)} | ${fmt(w?.report.cycles_per_sec, 1)} | **${ratio(w, p)}** | ` +
        `${fmt(m?.report.cycles_per_sec, 1)} | ${fmt(e?.report.cycles_per_sec, 1)} | ` +
        `${e && k ? `${((100 * k.report.cycles_per_sec!) / e.report.cycles_per_sec!).toFixed(0)}%` : '-'} |`,
    );
  }
  const detail = points.map((p) => {
    const ops = Object.entries(p.report.operations)
      .map(([op, o]) => `${op} ${fmt(o.p50_ms, 2)}/${fmt(o.p99_ms, 2)}`)
      .join(', ');
    const errors = Object.entries(p.report.errors_by_reason)
      .map(([r, n]) => `${r} ${n}`)
      .join(', ');
    return (
      `| ${TARGET_LABELS[p.target]} | ${p.scenario} | ${p.connections} | ${fmt(p.report.cycles_per_sec, 1)} | ` +
      `${fmt(p.report.ops_per_sec, 1)} | ${ops} | ${fmt(p.report.client_cpu_pct)}% | ` +
      `${fmt(p.server_cpu_pct)}% | ${p.loadavg[0].toFixed(1)}→${p.loadavg[1].toFixed(1)} | ${errors || '0'} |`
    );
  });
  return `# Server benchmark

Generated by \`npm run bench\` (bench/server.ts) on ${f.date.slice(0, 10)}: Node ${f.node}, PyKMIP ${f.pykmip},
${f.cores} × ${f.cpu}. Each point: 1 s warm-up, then ${f.seconds_per_point} s measured; KMIP ${f.kmip_version}
requests (Template-Attribute forms), ${f.tls}. Generator and server share the machine's
${f.cores} cores, so client and server CPU (percent of one core) are given for every point.

Workloads (\`kmip bench --scenario ...\`):
- **cycle**: Create AES-256 → Get → Destroy on long-lived connections, one request outstanding
  per connection. A cycle counts only when all three succeeded.
- **barbican**: the same three calls, each on a new TLS connection (OpenStack Barbican's KMIP
  secret store opens a PyKMIP client per call); latency includes the TLS handshake.
- **vsphere**: Create with a Name → Get → Locate by that Name, long-lived connections, keys kept.

Targets: **kmipd** \`serve --store sqlite\` (WAL, synchronous=FULL) in a fresh data directory,
writes on their own thread (the default); **kmipd, writes on the event loop** the same with
\`--no-sqlite-writer-thread\`;
**kmipd ${WORKERS} workers** the same with \`--workers ${WORKERS}\` (docs/cluster.md; server CPU sums
the primary and its workers);
**kmipd memory** the same with \`--store memory\`; **PyKMIP** \`pykmip-server\` with its SQLite
database, auth_suite=TLS1.2 and client certificates required; **echo floor** a bare Node
mutual-TLS server with kmipd's TLS settings that answers every frame with one fixed ~150-byte
response (the transport ceiling on this machine, generator included).

## Cycles per second

| scenario | connections | kmipd, previous run${previous ? ` (${previous.date.slice(0, 16)})` : ''} | kmipd | PyKMIP | kmipd / PyKMIP | kmipd, writes on the event loop | kmipd ${WORKERS} workers | workers / PyKMIP | kmipd memory | echo floor | kmipd / floor |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
${rows.join('\n')}

![throughput vs connections](server-throughput.svg)

## Every point

Latency per operation as p50/p99 in ms (successful operations only; failures are listed by
Result Reason and never count as throughput). Load avg is the machine's 1-minute load average
at the start and end of the point; above ${f.cores} other work was competing for the cores.

| target | scenario | conns | cycles/s | ops/s | p50/p99 ms | client CPU | server CPU | load avg | errors |
|---|---|---:|---:|---:|---|---:|---:|---:|---|
${detail.join('\n')}
`;
}

/** Cycles/s against connections, log-scaled on both axes, one line per target. */
function chart(points: Point[], levels: number[]): string {
  const W = 640;
  const H = 400;
  const left = 70;
  const right = 190;
  const top = 30;
  const bottom = 50;
  const series: Array<[TargetName, string]> = [
    ['echo', '#888888'],
    ['kmipd-memory', '#7aa6d8'],
    ['kmipd', '#1f5fa8'],
    ['kmipd-loop', '#9b59b6'],
    ['kmipd-workers', '#27ae60'],
    ['pykmip', '#c0392b'],
  ];
  const values = points
    .filter((p) => p.scenario === 'cycle')
    .map((p) => p.report.cycles_per_sec ?? 0)
    .filter((v) => v > 0);
  const lo = 10 ** Math.floor(Math.log10(Math.min(...values, 10)));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...values, 100)));
  const x = (c: number) =>
    left +
    ((Math.log2(c) - Math.log2(levels[0]!)) /
      (Math.log2(levels.at(-1)!) - Math.log2(levels[0]!) || 1)) *
      (W - left - right);
  const y = (v: number) =>
    top +
    (1 - (Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * (H - top - bottom);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${left}" y="18" font-size="14">Create+Get+Destroy cycles/s vs connections (KMIP 1.2, TLS 1.2)</text>`,
  ];
  for (let v = lo; v <= hi; v *= 10) {
    out.push(
      `<line x1="${left}" x2="${W - right}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`,
      `<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end">${v}</text>`,
    );
  }
  for (const c of levels) {
    out.push(
      `<line x1="${x(c)}" x2="${x(c)}" y1="${top}" y2="${H - bottom}" stroke="#eee"/>`,
      `<text x="${x(c)}" y="${H - bottom + 18}" text-anchor="middle">${c}</text>`,
    );
  }
  out.push(
    `<text x="${(left + W - right) / 2}" y="${H - 12}" text-anchor="middle">connections</text>`,
    `<text transform="translate(16 ${(top + H - bottom) / 2}) rotate(-90)" text-anchor="middle">cycles/s (log)</text>`,
  );
  series.forEach(([name, color], i) => {
    const pts = levels
      .map((c) => [c, find(points, name, 'cycle', c)?.report.cycles_per_sec ?? 0] as const)
      .filter(([, v]) => v > 0);
    if (pts.length === 0) return;
    out.push(
      `<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.map(([c, v]) => `${x(c).toFixed(1)},${y(v).toFixed(1)}`).join(' ')}"/>`,
    );
    for (const [c, v] of pts) {
      out.push(
        `<circle cx="${x(c).toFixed(1)}" cy="${y(v).toFixed(1)}" r="3.5" fill="${color}"/>`,
        `<text x="${(x(c) + 6).toFixed(1)}" y="${(y(v) - 6).toFixed(1)}" fill="${color}">${Math.round(v)}</text>`,
      );
    }
    const ly = top + 10 + i * 20;
    out.push(
      `<line x1="${W - right + 20}" x2="${W - right + 40}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"/>`,
      `<text x="${W - right + 46}" y="${ly + 4}">${TARGET_LABELS[name]}</text>`,
    );
  });
  out.push('</svg>', '');
  return out.join('\n');
}
