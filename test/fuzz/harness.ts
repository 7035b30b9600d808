// Fuzzing against a real `kmipd serve` child: the corpus of captured PyKMIP requests, the
// child started with its logs at error level (the fuzzer sends hundreds of thousands of
// requests), its peak memory, and the replay that finds which in-flight frame did the harm.
// Used by scripts/fuzz.ts (`npm run fuzz`) and by the bounded campaign in the test suite.

import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { type CampaignStats, probe, runCampaign, type Target } from '../../src/fuzz/campaign.js';
import type { GeneratedFrame } from '../../src/fuzz/generate.js';
import { Corpus, type CorpusEntry } from '../../src/fuzz/mutate.js';
import { KMIPD_BIN } from '../helpers/kmipd-process.js';
import { parsePrettyHex } from '../helpers/pretty-hex.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Every request captured from PyKMIP. Create Key Pair requests are drawn a tenth as often: each
 * one that survives mutation costs an RSA key generation (~100 ms of CPU) and would dominate
 * the campaign's time without reaching code the other requests do not.
 */
export function pykmipCorpus(): Corpus {
  const base = join(ROOT, 'fixtures', 'pykmip');
  const entries: CorpusEntry[] = [];
  for (const version of readdirSync(base).sort()) {
    for (const file of readdirSync(join(base, version)).sort()) {
      if (!file.endsWith('-request.phex')) continue;
      entries.push({
        name: `${version}/${file}`,
        bytes: parsePrettyHex(readFileSync(join(base, version, file), 'utf8')),
        weight: file.includes('key-pair') ? 0.1 : 1,
      });
    }
  }
  return new Corpus(entries);
}

export interface FuzzServer {
  pid: number;
  target: Target;
  alive(): boolean;
  /** Peak and current resident memory of the server process, in KiB. */
  memory(): { peakKiB: number; rssKiB: number };
  /** Log lines at error level or above (unexpected errors answered as General Failure). */
  errors(): string[];
  stop(): Promise<void>;
}

/** The fuzzed server's store: memory (default), or SQLite for runs whose objects outgrow RAM. */
export type FuzzStore = 'memory' | 'sqlite';

/**
 * Starts `kmipd serve` (memory store by default) in a fresh data directory. Its log is read
 * line by line and only error-level lines are kept: a campaign makes millions of audit lines.
 */
export async function startFuzzServer(store: FuzzStore = 'memory'): Promise<FuzzServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'kmipd-fuzz-'));
  const child = spawn(
    process.execPath,
    [KMIPD_BIN, 'serve', '--data-dir', dataDir, '--port', '0', '--store', store],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const errors: string[] = [];
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (c: string) => {
    stderr = (stderr + c).slice(-10_000);
  });
  const exited = new Promise<void>((r) => child.once('close', () => r()));
  let exitedNow = false;
  void exited.then(() => {
    exitedNow = true;
  });
  const port = await new Promise<number>((resolvePort, reject) => {
    let partial = '';
    let listening = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        if (/"level":(50|60)/.test(line) && errors.length < 1000) errors.push(line);
        if (!listening && line.includes('"msg":"listening"')) {
          listening = true;
          resolvePort((JSON.parse(line) as { port: number }).port);
        }
      }
    });
    void exited.then(() => reject(new Error(`kmipd exited before listening: ${stderr.trim()}`)));
  });
  const pki = join(dataDir, 'pki');
  const target: Target = {
    host: '127.0.0.1',
    port,
    cert: await readFile(join(pki, 'admin.crt')),
    key: await readFile(join(pki, 'admin.key')),
    ca: await readFile(join(pki, 'ca.crt')),
    servername: 'localhost',
  };
  return {
    pid: child.pid!,
    target,
    alive: () => !exitedNow && child.exitCode === null && child.signalCode === null,
    memory() {
      try {
        const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
        const kib = (key: string) =>
          Number(status.match(new RegExp(`${key}:\\s+(\\d+)`))?.[1] ?? 0);
        return { peakKiB: kib('VmHWM'), rssKiB: kib('VmRSS') };
      } catch {
        return { peakKiB: 0, rssKiB: 0 };
      }
    },
    errors: () => [...errors],
    async stop() {
      if (!exitedNow) child.kill('SIGTERM');
      await exited;
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Sends one frame on its own connection; resolves once answered or closed (or after `ms`). */
export function sendAlone(target: Target, frame: Buffer, ms = 30_000): Promise<void> {
  return new Promise((resolveSent) => {
    const socket = tlsConnect({
      host: target.host,
      port: target.port,
      cert: target.cert,
      key: target.key,
      ca: target.ca,
      servername: target.servername,
    });
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolveSent();
    };
    const timer = setTimeout(done, ms);
    socket.on('error', done);
    socket.on('close', done);
    socket.on('data', done);
    socket.once('secureConnect', () => socket.end(frame));
  });
}

/**
 * Replays suspect frames one by one against a fresh server; returns those after which the
 * server died or stopped answering Discover Versions (a fresh server after each culprit).
 */
export async function isolate(
  suspects: GeneratedFrame[],
  store: FuzzStore = 'memory',
): Promise<GeneratedFrame[]> {
  const culprits: GeneratedFrame[] = [];
  let server = await startFuzzServer(store);
  try {
    for (const f of suspects) {
      await sendAlone(server.target, f.frame);
      if (server.alive() && (await probe(server.target, 10_000))) continue;
      culprits.push(f);
      await server.stop();
      server = await startFuzzServer(store);
    }
  } finally {
    await server.stop();
  }
  return culprits;
}

export interface FuzzRun {
  stats: CampaignStats;
  peakKiB: number;
  errors: string[];
}

export async function fuzzOnce(opts: {
  frames: number;
  seed: number;
  connections: number;
  batch?: number;
  store?: FuzzStore;
  onProgress?: (s: CampaignStats, peakKiB: number) => void;
}): Promise<FuzzRun> {
  const server = await startFuzzServer(opts.store);
  try {
    const stats = await runCampaign({
      target: server.target,
      frames: opts.frames,
      seed: opts.seed,
      connections: opts.connections,
      batch: opts.batch,
      corpus: pykmipCorpus(),
      alive: () => server.alive(),
      onProgress: (s) => opts.onProgress?.(s, server.memory().peakKiB),
    });
    return { stats, peakKiB: server.memory().peakKiB, errors: server.errors() };
  } finally {
    await server.stop();
  }
}
