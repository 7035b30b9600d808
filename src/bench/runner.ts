// Drives a workload over N connections, each with one request outstanding (a closed loop: the
// next request leaves when the previous response is in, as KMIP clients behave). A warm-up
// runs first and is not counted; then operations that complete inside the measured window are
// counted, and the window's length divides them. Latency is measured from just before the
// request is written (or, with a new connection per operation, before the TCP connect, since
// the handshake is what such a client waits for) to the last byte of the response.

import { randomBytes } from 'node:crypto';
import { KmipConnection } from '../client/connection.js';
import type { KmipVersion } from '../ttlv/spec/index.js';
import { type Outcome, readOutcome } from './requests.js';
import { type BenchReport, RunStats } from './stats.js';
import type { BenchTarget } from './transport.js';
import type { BenchClient, Workload } from './workloads.js';

export interface BenchOptions {
  target: BenchTarget;
  workload: Workload;
  connections: number;
  durationMs: number;
  /** Time run before counting starts; default 1 s (or a fifth of the duration if shorter). */
  warmupMs?: number;
  /** Default: what the workload models. */
  newConnectionPerOp?: boolean;
  /** Default: the workload's, else 1.2 (the forms every KMIP server here accepts). */
  version?: KmipVersion;
  /** Called once a second while measuring. */
  onProgress?: (sample: ProgressSample) => void;
}

export interface ProgressSample {
  second: number;
  opsPerSec: number;
  errors: number;
  clientCpuPct: number;
}

/** After a transport failure a worker waits this long, so a dead server is not spun on. */
const RECONNECT_PAUSE_MS = 50;
/** At the end, iterations still running get this long before their sockets are cut. */
const DRAIN_MS = 10_000;

interface RunState {
  measuring: boolean;
  stopping: boolean;
  stats: RunStats;
  tlsProtocol: string | undefined;
}

class Worker implements BenchClient {
  private conn: KmipConnection | undefined;

  constructor(
    readonly version: KmipVersion,
    private readonly target: BenchTarget,
    private readonly perOp: boolean,
    private readonly state: RunState,
    readonly uniqueName: () => string,
  ) {}

  async call(operation: string, request: Buffer): Promise<Outcome> {
    const started = performance.now();
    let outcome: Outcome;
    let conn: KmipConnection | undefined;
    try {
      conn = await this.connection();
      outcome = readOutcome(await conn.send(request), this.version);
    } catch (err) {
      outcome = { ok: false, reason: 'TransportError', message: (err as Error).message };
    }
    const micros = (performance.now() - started) * 1000;
    if (this.perOp || conn?.usable !== true) this.drop();
    if (this.state.measuring) {
      const s = this.state.stats.op(operation);
      if (outcome.ok) s.success(micros);
      else s.failure(outcome.reason, outcome.message);
    }
    if (!outcome.ok && outcome.reason === 'TransportError') {
      await new Promise((r) => setTimeout(r, RECONNECT_PAUSE_MS));
    }
    return outcome;
  }

  /** Opens the connection ahead of time (long-lived connections). */
  async open(): Promise<void> {
    await this.connection();
  }

  drop(): void {
    void this.conn?.close();
    this.conn = undefined;
  }

  private async connection(): Promise<KmipConnection> {
    if (this.conn?.usable) return this.conn;
    // The run's deadline bounds every wait; the per-request timer only catches a lost reply.
    this.conn = await KmipConnection.open({ ...this.target, requestTimeoutMs: 60_000 });
    this.state.tlsProtocol ??= this.conn.protocol;
    return this.conn;
  }
}

export async function runBench(opts: BenchOptions): Promise<BenchReport> {
  const { workload } = opts;
  if (!Number.isInteger(opts.connections) || opts.connections < 1) {
    throw new Error('connections must be a whole number, at least 1');
  }
  const version = opts.version ?? workload.defaults.version ?? '1.2';
  const perOp = opts.newConnectionPerOp ?? workload.defaults.newConnectionPerOp;
  const warmupMs = opts.warmupMs ?? Math.min(1000, opts.durationMs / 5);
  const state: RunState = {
    measuring: false,
    stopping: false,
    stats: new RunStats(workload.operations),
    tlsProtocol: undefined,
  };
  const runId = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  let nameCount = 0;
  const uniqueName = () => `bench-${runId}-${++nameCount}`;
  const workers = Array.from(
    { length: opts.connections },
    () => new Worker(version, opts.target, perOp, state, uniqueName),
  );

  // A server that cannot be reached fails the run here, before any timing.
  await workers[0]!.open();
  if (!perOp) await Promise.all(workers.slice(1).map((w) => w.open()));
  await workload.prepare?.(workers[0]!);

  const loops = workers.map(async (w) => {
    while (!state.stopping) {
      const complete = await workload.iteration(w);
      if (complete && state.measuring) state.stats.cycles++;
    }
  });

  await sleep(warmupMs);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  state.measuring = true;

  let last = { t: t0, ok: 0, errors: 0, cpu: cpu0 };
  const ticker = setInterval(() => {
    const t = performance.now();
    const ok = state.stats.ok;
    const errors = state.stats.errorCount;
    const cpu = process.cpuUsage();
    const cpuMicros = cpu.user - last.cpu.user + cpu.system - last.cpu.system;
    opts.onProgress?.({
      second: Math.round((t - t0) / 1000),
      opsPerSec: Math.round(((ok - last.ok) * 1000) / (t - last.t)),
      errors: errors - last.errors,
      clientCpuPct: Math.round((cpuMicros / ((t - last.t) * 1000)) * 100),
    });
    last = { t, ok, errors, cpu };
  }, 1000);

  await sleep(opts.durationMs);
  state.measuring = false;
  const seconds = (performance.now() - t0) / 1000;
  const used = process.cpuUsage(cpu0);
  clearInterval(ticker);
  state.stopping = true;

  const drained = await Promise.race([
    Promise.all(loops).then(() => true),
    sleep(DRAIN_MS).then(() => false),
  ]);
  for (const w of workers) w.drop();
  if (!drained) await Promise.allSettled(loops);

  return state.stats.report(seconds, used.user + used.system, {
    server: `${opts.target.host}:${opts.target.port}`,
    workload: workload.name,
    kmip_version: version,
    connections: opts.connections,
    new_connection_per_op: perOp,
    tls_protocol: state.tlsProtocol ?? 'unknown',
    countsCycles: workload.countsCycles,
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
